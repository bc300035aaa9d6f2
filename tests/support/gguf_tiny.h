// Tiny synthetic GGUF models for tests, built with GgufWriter: a `llama` with grouped-query
// attention and a `gpt2`, with deterministic weights (tiny_value) so a test can recompute
// what any tensor should hold. Knobs let a test omit a tensor, change a tensor's dims or a
// config value, to build broken files.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "tests/support/gguf_writer.h"

namespace ps::test {

// The i-th value of tensor `name`: a deterministic pseudo-random float in (-1, 1).
float tiny_value(const std::string& name, int64_t i);
std::vector<float> tiny_values(const std::string& name, int64_t count);

// `values` (a multiple of 32) as Q8_0 blocks, as ggml's quantize_row_q8_0_ref makes them.
std::vector<uint8_t> quantize_q8_0(const std::vector<float>& values);

struct TinyModel {
    std::string arch = "llama";  // "llama" or "gpt2"
    int dim = 8, hidden = 16, layers = 2, heads = 2, kv_heads = 1, vocab = 10, context = 16;
    bool with_output = true;                           // false: tied to token_embd
    std::string skip_tensor;                           // a tensor to leave out
    std::map<std::string, std::vector<int64_t>> dims;  // tensor -> ggml dims to use instead
    std::map<std::string, uint32_t> u32;               // metadata u32 values to use instead
    bool f16 = false;                                  // matrices in F16 (norms stay F32)
    bool q8_0 = false;  // matrices in Q8_0 (ggml's quantize_row_q8_0_ref): rows of 32k values
    uint32_t matrix_type = 0;  // if not F32 (0): matrices in this ggml type, encoded by
                               // quant_ref.h's quantize_ggml (rows whole blocks of it)
    std::string description;   // if set, written first as general.description (bulk for tests)

    // Every tensor, in writing order, with its ggml dims.
    std::vector<std::pair<std::string, std::vector<int64_t>>> tensors() const;
    GgufWriter writer() const;
};

}  // namespace ps::test
