// Models of real shapes with random weights, so the engine can be measured at GPT-2 124M or
// Llama 110M size without shipping such a model: `paramscope bench --shape gpt2-124m`.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/model/model.h"

namespace ps {

// "gpt2-124m", "gpt2-tiny", "llama-15m", "llama-110m", and today's small models: "qwen2.5-0.5b",
// "qwen3-0.6b", "llama3.2-1b", "gemma3-270m", "smollm2-135m" (their config.json's sizes).
std::vector<std::string> random_model_shapes();
// The configuration of a built-in shape; throws ps::Error for an unknown one.
Config random_model_config(const std::string& shape);

// Weights uniform in [-0.035, 0.035] (std 0.02, as GPT-2's initialization), norm gains 1,
// biases 0; a byte-level tokenizer padded with unused tokens to the vocabulary size.
// Throws ps::Error for an unknown shape.
// With `dtype` F16, Q8_0 or Q4_K (not for the GPT-2 shapes) every matrix is kept encoded, as a
// file of that type would be (core/tensor/quantize.h).
std::unique_ptr<Model> make_random_model(const std::string& shape, uint64_t seed = 1,
                                         DType dtype = DType::F32);

}  // namespace ps
