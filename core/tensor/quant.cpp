#include "core/tensor/quant.h"

#include <cstring>
#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "core/tensor/quant_read.h"

namespace ps {

const GgmlTypeInfo* ggml_type_info(uint32_t type) {
    // ggml.h / ggml.c type_traits: {name, blck_size, type_size}. Ids 4, 5 (Q4_2, Q4_3) and
    // 31..33 (Q4_0_4_4 ...) were removed from ggml and are rejected.
    static const GgmlTypeInfo table[] = {
        {"F32", 1, 4},        {"F16", 1, 2},       {"Q4_0", 32, 18},     {"Q4_1", 32, 20},
        {nullptr, 0, 0},      {nullptr, 0, 0},     {"Q5_0", 32, 22},     {"Q5_1", 32, 24},
        {"Q8_0", 32, 34},     {"Q8_1", 32, 36},    {"Q2_K", 256, 84},    {"Q3_K", 256, 110},
        {"Q4_K", 256, 144},   {"Q5_K", 256, 176},  {"Q6_K", 256, 210},   {"Q8_K", 256, 292},
        {"IQ2_XXS", 256, 66}, {"IQ2_XS", 256, 74}, {"IQ3_XXS", 256, 98}, {"IQ1_S", 256, 50},
        {"IQ4_NL", 32, 18},   {"IQ3_S", 256, 110}, {"IQ2_S", 256, 82},   {"IQ4_XS", 256, 136},
        {"I8", 1, 1},         {"I16", 1, 2},       {"I32", 1, 4},        {"I64", 1, 8},
        {"F64", 1, 8},        {"IQ1_M", 256, 56},  {"BF16", 1, 2},       {nullptr, 0, 0},
        {nullptr, 0, 0},      {nullptr, 0, 0},     {"TQ1_0", 256, 54},   {"TQ2_0", 256, 66},
    };
    if (type >= sizeof table / sizeof table[0] || !table[type].name) return nullptr;
    return &table[type];
}

// The ggml types ParamScope dequantizes, in the order supported_ggml_types() lists them.
namespace {
struct Supported {
    uint32_t ggml_type;
    DType dtype;
};
constexpr Supported kSupported[] = {
    {ggml::F32, DType::F32},   {ggml::F16, DType::F16},       {ggml::BF16, DType::BF16},
    {ggml::Q8_0, DType::Q8_0}, {ggml::Q4_0, DType::Q4_0},     {ggml::Q4_1, DType::Q4_1},
    {ggml::Q5_0, DType::Q5_0}, {ggml::Q5_1, DType::Q5_1},     {ggml::Q2_K, DType::Q2_K},
    {ggml::Q3_K, DType::Q3_K}, {ggml::Q4_K, DType::Q4_K},     {ggml::Q5_K, DType::Q5_K},
    {ggml::Q6_K, DType::Q6_K}, {ggml::IQ4_NL, DType::IQ4_NL}, {ggml::IQ4_XS, DType::IQ4_XS},
};
}  // namespace

std::optional<DType> dtype_from_ggml(uint32_t type) {
    for (const Supported& s : kSupported)
        if (s.ggml_type == type) return s.dtype;
    return std::nullopt;
}

std::string supported_ggml_types() {
    std::string names;
    for (const Supported& s : kSupported) {
        if (!names.empty()) names += ", ";
        names += ggml_type_info(s.ggml_type)->name;
    }
    return names;
}

const int8_t kvalues_iq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                                  1,    13,   25,  38,  53,  69,  89,  113};

using quant_read::f16;
using quant_read::u32;

void dequantize_row_f16(const uint8_t* x, float* y, int64_t k) {
    int64_t i = 0;
#if defined(__F16C__)
    // The CPU's conversion, 8 values at a time, as ggml's on x86: exact like the scalar one
    // (a signalling NaN comes out quiet), and 5-10x faster, which matters because weights kept
    // as F16 are converted on every forward pass.
    for (; i + 8 <= k; i += 8)
        _mm256_storeu_ps(
            y + i, _mm256_cvtph_ps(_mm_loadu_si128(reinterpret_cast<const __m128i*>(x + 2 * i))));
#endif
    for (; i < k; ++i) y[i] = f16(x + 2 * i);
}

void dequantize_row_bf16(const uint8_t* x, float* y, int64_t k) {
    for (int64_t i = 0; i < k; ++i) {
        uint16_t h;
        std::memcpy(&h, x + 2 * i, 2);
        y[i] = bf16_to_f32(h);
    }
}

void dequantize_row_q8_0(const uint8_t* x, float* y, int64_t k) {
    constexpr int qk = 32, block_bytes = 34;
    for (int64_t i = 0; i < k / qk; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const float d = f16(b);
        const int8_t* qs = reinterpret_cast<const int8_t*>(b + 2);
        for (int j = 0; j < qk; ++j) y[i * qk + j] = qs[j] * d;
    }
}

void dequantize_row_q4_0(const uint8_t* x, float* y, int64_t k) {
    constexpr int qk = 32, block_bytes = 18;
    for (int64_t i = 0; i < k / qk; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const float d = f16(b);
        const uint8_t* qs = b + 2;
        for (int j = 0; j < qk / 2; ++j) {
            const int x0 = (qs[j] & 0x0F) - 8;
            const int x1 = (qs[j] >> 4) - 8;
            y[i * qk + j] = x0 * d;
            y[i * qk + j + qk / 2] = x1 * d;
        }
    }
}

// The products x * d below are exact in float (at most a 5-bit quant times an f16's 11-bit
// significand), so `q * d + m` has a single rounding whether or not the compiler fuses it into
// an FMA: the result is ggml's bit for bit either way.
void dequantize_row_q4_1(const uint8_t* x, float* y, int64_t k) {
    constexpr int qk = 32, block_bytes = 20;
    for (int64_t i = 0; i < k / qk; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const float d = f16(b);
        const float m = f16(b + 2);
        const uint8_t* qs = b + 4;
        for (int j = 0; j < qk / 2; ++j) {
            const int x0 = qs[j] & 0x0F;
            const int x1 = qs[j] >> 4;
            y[i * qk + j] = x0 * d + m;
            y[i * qk + j + qk / 2] = x1 * d + m;
        }
    }
}

void dequantize_row_q5_0(const uint8_t* x, float* y, int64_t k) {
    constexpr int qk = 32, block_bytes = 22;
    for (int64_t i = 0; i < k / qk; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const float d = f16(b);
        const uint32_t qh = u32(b + 2);
        const uint8_t* qs = b + 6;
        for (int j = 0; j < qk / 2; ++j) {
            // Bit j of qh is bit 4 of element j, bit j + 16 that of element j + 16.
            const uint8_t xh_0 = static_cast<uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
            const uint8_t xh_1 = static_cast<uint8_t>((qh >> (j + 12)) & 0x10);
            const int32_t x0 = ((qs[j] & 0x0F) | xh_0) - 16;
            const int32_t x1 = ((qs[j] >> 4) | xh_1) - 16;
            y[i * qk + j] = static_cast<float>(x0) * d;
            y[i * qk + j + qk / 2] = static_cast<float>(x1) * d;
        }
    }
}

void dequantize_row_q5_1(const uint8_t* x, float* y, int64_t k) {
    constexpr int qk = 32, block_bytes = 24;
    for (int64_t i = 0; i < k / qk; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const float d = f16(b);
        const float m = f16(b + 2);
        const uint32_t qh = u32(b + 4);
        const uint8_t* qs = b + 8;
        for (int j = 0; j < qk / 2; ++j) {
            const uint8_t xh_0 = static_cast<uint8_t>(((qh >> (j + 0)) << 4) & 0x10);
            const uint8_t xh_1 = static_cast<uint8_t>((qh >> (j + 12)) & 0x10);
            const int x0 = (qs[j] & 0x0F) | xh_0;
            const int x1 = (qs[j] >> 4) | xh_1;
            y[i * qk + j] = x0 * d + m;
            y[i * qk + j + qk / 2] = x1 * d + m;
        }
    }
}

void dequantize_row_iq4_nl(const uint8_t* x, float* y, int64_t k) {
    constexpr int qk = 32, block_bytes = 18;
    for (int64_t i = 0; i < k / qk; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const float d = f16(b);
        const uint8_t* qs = b + 2;
        for (int j = 0; j < qk / 2; ++j) {
            y[i * qk + j] = d * kvalues_iq4nl[qs[j] & 0xF];
            y[i * qk + j + qk / 2] = d * kvalues_iq4nl[qs[j] >> 4];
        }
    }
}

void dequantize(DType type, const uint8_t* x, float* y, int64_t count) {
    switch (type) {
        case DType::F32:
            std::memcpy(y, x, static_cast<size_t>(count) * sizeof(float));
            return;
        case DType::F16:
            dequantize_row_f16(x, y, count);
            return;
        case DType::BF16:
            dequantize_row_bf16(x, y, count);
            return;
        case DType::Q8_0:
            dequantize_row_q8_0(x, y, count);
            return;
        case DType::Q4_0:
            dequantize_row_q4_0(x, y, count);
            return;
        case DType::Q4_1:
            dequantize_row_q4_1(x, y, count);
            return;
        case DType::Q5_0:
            dequantize_row_q5_0(x, y, count);
            return;
        case DType::Q5_1:
            dequantize_row_q5_1(x, y, count);
            return;
        case DType::Q2_K:
            dequantize_row_q2_K(x, y, count);
            return;
        case DType::Q3_K:
            dequantize_row_q3_K(x, y, count);
            return;
        case DType::Q4_K:
            dequantize_row_q4_K(x, y, count);
            return;
        case DType::Q5_K:
            dequantize_row_q5_K(x, y, count);
            return;
        case DType::Q6_K:
            dequantize_row_q6_K(x, y, count);
            return;
        case DType::IQ4_NL:
            dequantize_row_iq4_nl(x, y, count);
            return;
        case DType::IQ4_XS:
            dequantize_row_iq4_xs(x, y, count);
            return;
    }
}

}  // namespace ps
