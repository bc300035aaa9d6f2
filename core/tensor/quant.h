// ggml tensor types: their block sizes, and dequantization to f32 of the ones ParamScope
// supports. Each dequantize_row_* reproduces ggml's reference dequantize_row_* (ggml-quants.c)
// bit for bit: same block layout, same float operations in the same order.
#pragma once

#include <cstdint>
#include <optional>

#include "core/tensor/dtype.h"

namespace ps {

// ggml type ids (ggml.h) of the types ParamScope dequantizes.
namespace ggml {
constexpr uint32_t F32 = 0, F16 = 1, Q4_0 = 2, Q8_0 = 8, Q4_K = 12, Q6_K = 14, BF16 = 30;
}

// A ggml type's storage: `block_size` elements take `type_size` bytes.
struct GgmlTypeInfo {
    const char* name;
    int64_t block_size;
    int64_t type_size;
};

// Null for an id ggml doesn't define (or that was removed, like 4 and 5).
const GgmlTypeInfo* ggml_type_info(uint32_t type);
// The DType for a ggml type ParamScope can dequantize, else nullopt.
std::optional<DType> dtype_from_ggml(uint32_t type);

// Block layouts (ggml-common.h); QK_K = 256 elements per super-block.
//   Q8_0 (34 B / 32): f16 d; int8 qs[32].                      y[j] = qs[j] * d
//   Q4_0 (18 B / 32): f16 d; u8 qs[16], low nibbles are elements 0..15, high 16..31.
//                     y[j] = ((qs[j] & 15) - 8) * d, y[j+16] = ((qs[j] >> 4) - 8) * d
//   Q4_K (144 B / 256): f16 d, f16 dmin; u8 scales[12] (8 6-bit scales + 8 6-bit mins);
//                     u8 qs[128]. Sub-block s of 32: y = d*sc[s] * q - dmin*m[s].
//   Q6_K (210 B / 256): u8 ql[128] (low 4 bits), u8 qh[64] (high 2 bits), int8 scales[16],
//                     f16 d. Sub-block s of 16: y = d * scales[s] * (q - 32).
constexpr int64_t QK_K = 256;
void dequantize_row_f16(const uint8_t* x, float* y, int64_t k);
void dequantize_row_bf16(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q8_0(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q4_0(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q4_K(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q6_K(const uint8_t* x, float* y, int64_t k);

// `count` values of `type` at `x` (count a multiple of the block size) into y[count].
// x needs no particular alignment.
void dequantize(DType type, const uint8_t* x, float* y, int64_t count);

}  // namespace ps
