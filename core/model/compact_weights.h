// Weights kept in the file's own encoding (F16, BF16, Q8_0 ...) rather than widened to f32 at
// load: what reads them dequantizes only what it needs, a panel, a row or a chunk at a time,
// with core/tensor/quant.h (bit for bit what widening at load gives).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "core/model/model.h"
#include "core/tensor/quant.h"

namespace ps {

// Values per block and bytes per block of a type (F32: 1 and 4, F16: 1 and 2, Q8_0: 32 and 34).
int64_t dtype_block_size(DType t);
int64_t dtype_block_bytes(DType t);
// Bytes that `count` values of `t` take; `count` a multiple of the block size.
int64_t encoded_bytes(DType t, int64_t count);

// One matrix as a loader found it: f32 values in place (`data`), or values in the file's own
// encoding (`raw`, `dtype`).
struct StoredMatrix {
    const float* data = nullptr;
    const uint8_t* raw = nullptr;
    DType dtype = DType::F32;  // the encoding of `raw`
};

// A Linear{in, out} over a matrix stored [out, in] (nn.Linear, llama2.c, GGUF).
Linear linear_out_in(const StoredMatrix& m, int in, int out);

// Rows first .. first+count-1 of a fused [rows, in] Linear (Phi-3's qkv_proj and gate_up_proj) as
// a Linear of their own, in place; `bias` is the fused bias [rows] or null.
Linear linear_rows(const Linear& fused, int first, int count, const float* bias);

// Where the stored row `row` of a compact Linear starts (its value 0, past any column offset).
const uint8_t* stored_row(const Linear& l, int64_t row);

// The weight connecting input `in` to output `out_unit`, f32 or compact.
float linear_weight(const Linear& l, int out_unit, int in);

// Row `token` of the token embedding, out[dim].
void token_embedding_row(const Weights& w, int dim, int token, float* out);

// The values of `count` parameters stored at `data` (f32) or, when `data` is null, at `raw`
// in `dtype` (`count` a multiple of its block size), chunk by chunk, in order:
// fn(const float* values, int64_t n). Compact values are dequantized into a buffer of at most
// kDecodeChunk values, so reading a tensor never needs four bytes per parameter.
constexpr int64_t kDecodeChunk = int64_t(1) << 16;  // a multiple of every block size (256)
template <class Fn>
void for_each_chunk(const float* data, const uint8_t* raw, DType dtype, int64_t count, Fn&& fn) {
    if (count <= 0) return;
    if (data) {
        fn(data, count);
        return;
    }
    std::vector<float> buffer(static_cast<size_t>(std::min(count, kDecodeChunk)));
    for (int64_t at = 0; at < count; at += kDecodeChunk) {
        const int64_t n = std::min(kDecodeChunk, count - at);
        dequantize(dtype, raw + encoded_bytes(dtype, at), buffer.data(), n);
        fn(static_cast<const float*>(buffer.data()), n);
    }
}

}  // namespace ps
