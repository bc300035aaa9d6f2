#include "core/tensor/quant.h"

#include <cstring>
#if defined(__F16C__)
#include <immintrin.h>
#endif

#include "core/tensor/half.h"

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

std::optional<DType> dtype_from_ggml(uint32_t type) {
    switch (type) {
        case ggml::F32:
            return DType::F32;
        case ggml::F16:
            return DType::F16;
        case ggml::BF16:
            return DType::BF16;
        case ggml::Q8_0:
            return DType::Q8_0;
        case ggml::Q4_0:
            return DType::Q4_0;
        case ggml::Q4_K:
            return DType::Q4_K;
        case ggml::Q6_K:
            return DType::Q6_K;
        default:
            return std::nullopt;
    }
}

// Blocks are read field by field with memcpy: inside a file they have no alignment.
static float load_f16(const uint8_t* p) {
    uint16_t h;
    std::memcpy(&h, p, 2);
    return f16_to_f32(h);
}

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
    for (; i < k; ++i) y[i] = load_f16(x + 2 * i);
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
        const float d = load_f16(b);
        const int8_t* qs = reinterpret_cast<const int8_t*>(b + 2);
        for (int j = 0; j < qk; ++j) y[i * qk + j] = qs[j] * d;
    }
}

void dequantize_row_q4_0(const uint8_t* x, float* y, int64_t k) {
    constexpr int qk = 32, block_bytes = 18;
    for (int64_t i = 0; i < k / qk; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const float d = load_f16(b);
        const uint8_t* qs = b + 2;
        for (int j = 0; j < qk / 2; ++j) {
            const int x0 = (qs[j] & 0x0F) - 8;
            const int x1 = (qs[j] >> 4) - 8;
            y[i * qk + j] = x0 * d;
            y[i * qk + j + qk / 2] = x1 * d;
        }
    }
}

// Q4_K packs 8 scales and 8 mins of 6 bits into 12 bytes: bytes 0-3 hold scales 0-3 (low 6
// bits) and the top 2 bits of scales 4-7; bytes 4-7 the same for mins; bytes 8-11 the low
// 4 bits of scales 4-7 (low nibble) and mins 4-7 (high nibble).
static void get_scale_min_k4(int j, const uint8_t* q, uint8_t* d, uint8_t* m) {
    if (j < 4) {
        *d = q[j] & 63;
        *m = q[j + 4] & 63;
    } else {
        *d = static_cast<uint8_t>((q[j + 4] & 0xF) | ((q[j - 4] >> 6) << 4));
        *m = static_cast<uint8_t>((q[j + 4] >> 4) | ((q[j - 0] >> 6) << 4));
    }
}

// Every product here is exact in float (an 11-bit f16 times a 6-bit scale times a 4-bit
// quant needs at most 21 bits), so whether the compiler fuses d1 * q - m1 into an FMA cannot
// change the result.
void dequantize_row_q4_K(const uint8_t* x, float* y, int64_t k) {
    constexpr int block_bytes = 144;
    for (int64_t i = 0; i < k / QK_K; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const float d = load_f16(b);
        const float min = load_f16(b + 2);
        const uint8_t* scales = b + 4;
        const uint8_t* q = b + 16;
        int is = 0;
        uint8_t sc, m;
        for (int j = 0; j < QK_K; j += 64) {
            get_scale_min_k4(is + 0, scales, &sc, &m);
            const float d1 = d * sc;
            const float m1 = min * m;
            get_scale_min_k4(is + 1, scales, &sc, &m);
            const float d2 = d * sc;
            const float m2 = min * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * (q[l] & 0xF) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * (q[l] >> 4) - m2;
            q += 32;
            is += 2;
        }
    }
}

void dequantize_row_q6_K(const uint8_t* x, float* y, int64_t k) {
    constexpr int block_bytes = 210;
    for (int64_t i = 0; i < k / QK_K; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const uint8_t* ql = b;
        const uint8_t* qh = b + 128;
        const int8_t* sc = reinterpret_cast<const int8_t*>(b + 192);
        const float d = load_f16(b + 208);
        for (int n = 0; n < QK_K; n += 128) {
            for (int l = 0; l < 32; ++l) {
                const int is = l / 16;
                const int8_t q1 =
                    static_cast<int8_t>((ql[l + 0] & 0xF) | (((qh[l] >> 0) & 3) << 4)) - 32;
                const int8_t q2 =
                    static_cast<int8_t>((ql[l + 32] & 0xF) | (((qh[l] >> 2) & 3) << 4)) - 32;
                const int8_t q3 =
                    static_cast<int8_t>((ql[l + 0] >> 4) | (((qh[l] >> 4) & 3) << 4)) - 32;
                const int8_t q4 =
                    static_cast<int8_t>((ql[l + 32] >> 4) | (((qh[l] >> 6) & 3) << 4)) - 32;
                y[l + 0] = d * sc[is + 0] * q1;
                y[l + 32] = d * sc[is + 2] * q2;
                y[l + 64] = d * sc[is + 4] * q3;
                y[l + 96] = d * sc[is + 6] * q4;
            }
            y += 128;
            ql += 64;
            qh += 32;
            sc += 8;
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
        case DType::Q4_K:
            dequantize_row_q4_K(x, y, count);
            return;
        case DType::Q6_K:
            dequantize_row_q6_K(x, y, count);
            return;
    }
}

}  // namespace ps
