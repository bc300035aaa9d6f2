// ggml tensor types: their block sizes, and dequantization to f32 of the ones ParamScope
// supports. Each dequantize_row_* reproduces ggml's reference dequantize_row_* (ggml-quants.c)
// bit for bit: same block layout, same float operations in the same order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/tensor/dtype.h"

namespace ps {

// ggml type ids (ggml.h) of the types ParamScope dequantizes.
namespace ggml {
constexpr uint32_t F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q2_K = 10,
                   Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, IQ4_NL = 20, IQ4_XS = 23, BF16 = 30;
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
// The names of the ggml types dtype_from_ggml accepts, for "not supported" messages:
// "F32, F16, BF16, Q8_0, Q4_0, Q4_1, ...".
std::string supported_ggml_types();

// Block layouts (ggml-common.h); all f16/u16/u32 fields little-endian. QK_K = 256 elements
// per super-block. "Nibble j" of qs[16] means: byte j's low nibble is element j, its high
// nibble element j + 16.
//   Q8_0 (34 B / 32): f16 d; int8 qs[32].                      y[j] = qs[j] * d
//   Q4_0 (18 B / 32): f16 d; u8 qs[16], low nibbles are elements 0..15, high 16..31.
//                     y[j] = ((qs[j] & 15) - 8) * d, y[j+16] = ((qs[j] >> 4) - 8) * d
//   Q4_1 (20 B / 32): f16 d, f16 m; u8 qs[16] as Q4_0.        y = q * d + m, q = 0..15
//   Q5_0 (22 B / 32): f16 d; u32 qh (bit j is bit 4 of element j); u8 qs[16] as Q4_0 (bits
//                     0-3).                                   y = (q - 16) * d, q = 0..31
//   Q5_1 (24 B / 32): f16 d, f16 m; u32 qh; u8 qs[16] as Q5_0. y = q * d + m
//   IQ4_NL (18 B / 32): f16 d; u8 qs[16] as Q4_0, each nibble an index into the 16 int8
//                     kvalues_iq4nl (-127 ... 113).           y = d * kvalues_iq4nl[q]
//   Q2_K (84 B / 256): u8 scales[16] (low nibble scale, high nibble min of sub-block s of 16);
//                     u8 qs[64]; f16 d, f16 dmin. Each 128-element half uses 32 bytes of qs:
//                     element 32*p + l (p = 0..3, l = 0..31) is bits 2p..2p+1 of qs[l].
//                     y = d*(sc & 15) * q - dmin*(sc >> 4), q = 0..3
//   Q3_K (110 B / 256): u8 hmask[32]; u8 qs[64] (low 2 bits, laid out as Q2_K); u8 scales[12]
//                     (16 6-bit scales: low 4 bits of scale s in byte s%8, nibble s/8; high 2
//                     bits in byte 8 + s%4, bits 2*(s/4)); f16 d. Bit b of hmask[l] is the
//                     high bit of element 32*b + l, and *clear* means -4.
//                     y = d*(scale[s] - 32) * (q2 - (hbit ? 0 : 4)), sub-blocks s of 16
//   Q4_K (144 B / 256): f16 d, f16 dmin; u8 scales[12] (8 6-bit scales + 8 6-bit mins);
//                     u8 qs[128]. Sub-block s of 32: y = d*sc[s] * q - dmin*m[s].
//   Q5_K (176 B / 256): f16 d, f16 dmin; u8 scales[12] as Q4_K; u8 qh[32]; u8 qs[128] as
//                     Q4_K (low 4 bits). Bit s of qh[l] is bit 4 of element 32*s + l.
//                     Sub-block s of 32: y = d*sc[s] * q - dmin*m[s], q = 0..31
//   Q6_K (210 B / 256): u8 ql[128] (low 4 bits), u8 qh[64] (high 2 bits), int8 scales[16],
//                     f16 d. Sub-block s of 16: y = d * scales[s] * (q - 32).
//   IQ4_XS (136 B / 256): f16 d; u16 scales_h (2 high bits of sub-block s's 6-bit scale at
//                     bits 2s); u8 scales_l[4] (4 low bits of scale s in nibble s%2 of byte
//                     s/2); u8 qs[128], 16 bytes per sub-block of 32 as IQ4_NL.
//                     y = d*(ls - 32) * kvalues_iq4nl[q]
constexpr int64_t QK_K = 256;
void dequantize_row_f16(const uint8_t* x, float* y, int64_t k);
void dequantize_row_bf16(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q8_0(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q4_0(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q4_1(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q5_0(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q5_1(const uint8_t* x, float* y, int64_t k);
void dequantize_row_iq4_nl(const uint8_t* x, float* y, int64_t k);
// Super-block types (core/tensor/quant_k.cpp).
void dequantize_row_q2_K(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q3_K(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q4_K(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q5_K(const uint8_t* x, float* y, int64_t k);
void dequantize_row_q6_K(const uint8_t* x, float* y, int64_t k);
void dequantize_row_iq4_xs(const uint8_t* x, float* y, int64_t k);

// ggml's non-linear 4-bit codebook (ggml-common.h), shared by IQ4_NL and IQ4_XS.
extern const int8_t kvalues_iq4nl[16];

// `count` values of `type` at `x` (count a multiple of the block size) into y[count].
// x needs no particular alignment.
void dequantize(DType type, const uint8_t* x, float* y, int64_t count);

}  // namespace ps
