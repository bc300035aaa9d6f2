// libFuzzer target: a safetensors file's header (length, JSON, dtypes, shapes, offsets). Every
// tensor it accepts must lie inside the file, which ASan can't see for a memory-mapped file, so
// it is checked here.
#include <memory>

#include "core/error.h"
#include "core/formats/safetensors.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ps::fuzz::write_scratch("model.safetensors", data, size);
    try {
        ps::SafetensorsFile file(path);
        std::vector<ps::SafetensorsTensor> tensors = file.tensors();
        const std::unique_ptr<ps::MappedFile> mapping = file.release_mapping();
        const uint8_t* begin = mapping->data();
        const uint8_t* end = begin + mapping->size();
        for (const ps::SafetensorsTensor& t : tensors)
            ps::fuzz::check(t.nbytes == 0 || (t.data >= begin && t.data <= end &&
                                              t.nbytes <= uint64_t(end - t.data)),
                            "a tensor's bytes lie outside the file");
    } catch (const ps::Error&) {
    }
    return 0;
}
