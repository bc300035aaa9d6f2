// How a tensor's values are encoded in memory: f32, the 16-bit floats, or one of ggml's block
// quantizations (core/tensor/quant.h decodes them).
#pragma once

namespace ps {

enum class DType {
    F32,
    F16,
    BF16,
    Q8_0,
    Q4_0,
    Q4_1,
    Q5_0,
    Q5_1,
    Q2_K,
    Q3_K,
    Q4_K,
    Q5_K,
    Q6_K,
    IQ4_NL,
    IQ4_XS,
};

const char* dtype_name(DType t);  // "F32", "F16", "BF16", "Q8_0", ...

}  // namespace ps
