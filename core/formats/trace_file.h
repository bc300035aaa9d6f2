// A trace as a safetensors file: every captured activation as F32 under its TransformerLens
// hook name, with the model path, architecture and token ids as metadata. Written by
// `paramscope trace` and by the app's File > Export Trace, so both give the same file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/model/forward.h"
#include "core/model/model.h"

namespace ps {

struct WrittenTensor {
    std::string name;
    std::vector<int64_t> shape;
};

// Writes `trace` (of `model`) to `path`; returns what it wrote, in file order. Throws ps::Error
// when the file cannot be written.
std::vector<WrittenTensor> write_trace_safetensors(const std::string& path, const Model& model,
                                                   const Trace& trace);

}  // namespace ps
