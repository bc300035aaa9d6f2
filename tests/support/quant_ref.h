// Test-side encoders and decoders for ggml's block types, written from the layouts in
// core/tensor/quant.h independently of the engine's dequantizers, so that tests can build
// quantized tensors and check what the engine decodes.
//
// quantize_ggml() follows ggml's quantize_row_*_ref (ggml-quants.c): exactly for Q4_1, Q5_0,
// Q5_1 and Q8_0; for the types whose reference searches for the best scale (Q2_K, Q3_K,
// Q5_K, IQ4_NL, IQ4_XS) simplified to the search's starting point (min/max or amax scales),
// then ggml's own packing of the sub-block scales and re-quantization against them. The
// blocks are valid; they are just a little less accurate than ggml's.
#pragma once

#include <cstdint>
#include <vector>

namespace ps::test {

// ggml type ids this file encodes (ggml.h).
namespace quant_ref_type {
constexpr uint32_t Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q2_K = 10, Q3_K = 11, Q5_K = 13,
                   IQ4_NL = 20, IQ4_XS = 23;
}

struct Quantized {
    std::vector<uint8_t> bytes;
    // Per element: how far the decoded value may be from the input, from the block's step
    // sizes as the layout stores them (see each encoder's derivation in quant_ref.cpp).
    std::vector<float> bound;
};

// `values` (a multiple of the type's block size) as blocks of `type`, one of quant_ref_type.
Quantized quantize_ggml(uint32_t type, const std::vector<float>& values);

// Element i of the tensor `x` of `type`, decoded the slow way: its block, its scale and its
// quant addressed directly from the layout, one element at a time.
float naive_decode(uint32_t type, const uint8_t* x, int64_t i);

// Elements per block and bytes per block of the types above.
int64_t ref_block_size(uint32_t type);
int64_t ref_block_bytes(uint32_t type);

}  // namespace ps::test
