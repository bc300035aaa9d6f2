// A read-only memory-mapped file. Model weights in f32 are used in place from the mapping,
// so opening a large model costs page-table entries, not a copy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace ps {

class MappedFile {
  public:
    // Throws ps::Error naming the path when the file can't be opened or mapped.
    explicit MappedFile(const std::string& path);
    ~MappedFile();
    MappedFile(const MappedFile&) = delete;
    MappedFile& operator=(const MappedFile&) = delete;

    const std::string& path() const { return path_; }
    const uint8_t* data() const { return data_; }
    size_t size() const { return size_; }

    // Checks that [offset, offset + length) lies inside the file (overflow-safe); otherwise
    // throws ps::Error "<path>: <what>: bytes [offset, offset+length) are beyond the file's N
    // bytes".
    void check_range(uint64_t offset, uint64_t length, const std::string& what) const;

  private:
    std::string path_;
    const uint8_t* data_ = nullptr;
    size_t size_ = 0;
};

}  // namespace ps
