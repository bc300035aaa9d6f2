#include "core/model/compact_weights.h"

#include <cstring>

namespace ps {

int64_t dtype_block_size(DType t) {
    switch (t) {
        case DType::Q8_0:
        case DType::Q4_0:
        case DType::Q4_1:
        case DType::Q5_0:
        case DType::Q5_1:
        case DType::IQ4_NL:
            return 32;
        case DType::Q2_K:
        case DType::Q3_K:
        case DType::Q4_K:
        case DType::Q5_K:
        case DType::Q6_K:
        case DType::IQ4_XS:
            return QK_K;
        default:
            return 1;
    }
}

int64_t dtype_block_bytes(DType t) {
    switch (t) {
        case DType::F32:
            return 4;
        case DType::F16:
        case DType::BF16:
            return 2;
        case DType::Q8_0:
            return 34;
        case DType::Q4_0:
        case DType::IQ4_NL:
            return 18;
        case DType::Q4_1:
            return 20;
        case DType::Q5_0:
            return 22;
        case DType::Q5_1:
            return 24;
        case DType::Q2_K:
            return 84;
        case DType::Q3_K:
            return 110;
        case DType::Q4_K:
            return 144;
        case DType::Q5_K:
            return 176;
        case DType::Q6_K:
            return 210;
        case DType::IQ4_XS:
            return 136;
    }
    return 0;
}

int64_t encoded_bytes(DType t, int64_t count) {
    return count / dtype_block_size(t) * dtype_block_bytes(t);
}

Linear linear_out_in(const StoredMatrix& m, int in, int out) {
    Linear l;
    l.w = m.data;
    l.raw = m.raw;
    l.dtype = m.raw ? m.dtype : DType::F32;
    l.in = in;
    l.out = out;
    return l;
}

const uint8_t* stored_row(const Linear& l, int64_t row) {
    return l.raw + encoded_bytes(l.dtype, row * l.row_stride());
}

float linear_weight(const Linear& l, int out_unit, int in) {
    const int64_t row = l.stored_in_out ? in : out_unit;
    const int64_t column = l.stored_in_out ? out_unit : in;
    if (!l.compact()) return l.w[row * l.row_stride() + column];
    // The block holding the value, dequantized whole.
    const int64_t block = dtype_block_size(l.dtype);
    float values[QK_K];
    dequantize(l.dtype, stored_row(l, row) + encoded_bytes(l.dtype, column / block * block), values,
               block);
    return values[column % block];
}

void token_embedding_row(const Weights& w, int dim, int token, float* out) {
    const int64_t first = static_cast<int64_t>(token) * dim;
    if (w.token_embedding)
        std::memcpy(out, w.token_embedding + first, static_cast<size_t>(dim) * sizeof(float));
    else
        dequantize(w.token_embedding_dtype,
                   w.token_embedding_raw + encoded_bytes(w.token_embedding_dtype, first), out, dim);
}

Linear linear_rows(const Linear& fused, int first, int count, const float* bias) {
    Linear part = fused;
    part.out = count;
    part.b = bias ? bias + first : nullptr;
    const int64_t offset = int64_t(first) * fused.row_stride();
    if (part.compact())
        part.raw += encoded_bytes(part.dtype, offset);
    else
        part.w += offset;
    return part;
}

}  // namespace ps
