// safetensors: an 8-byte little-endian header length, a JSON header
// {"name": {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}, then data.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/mapped_file.h"

namespace ps {

struct SafetensorsTensor {
    std::string name;
    std::string dtype;  // "F32", "F16", "BF16", ...
    std::vector<int64_t> shape;
    const uint8_t* data = nullptr;
    uint64_t nbytes = 0;
};

class SafetensorsFile {
  public:
    // Maps the file and validates the header against the file's real length: offsets in
    // range, sizes matching dtype x shape, no overlaps. Throws ps::Error naming the file.
    explicit SafetensorsFile(const std::string& path);
    const std::string& path() const { return file_->path(); }
    const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
    const SafetensorsTensor* find(const std::string& name) const;  // null if absent
    const std::map<std::string, std::string>& metadata() const { return metadata_; }
    std::unique_ptr<MappedFile> release_mapping() { return std::move(file_); }

  private:
    std::unique_ptr<MappedFile> file_;
    std::vector<SafetensorsTensor> tensors_;
    std::map<std::string, std::string> metadata_;
};

struct TensorToWrite {
    std::string name;
    std::string dtype;  // "F32", "F16" or "BF16"
    std::vector<int64_t> shape;
    const void* data = nullptr;
    uint64_t nbytes = 0;
};

// Writes a safetensors file loadable by Python's `safetensors` (header padded to 8 bytes).
// Written to a temporary file and renamed, so a failure never leaves half a file.
void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace ps
