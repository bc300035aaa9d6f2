#include "core/tensor/quantize.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/tensor/half.h"
#include "core/tensor/quant.h"

namespace ps {

namespace {

void put_f16(uint8_t* p, float v) {
    const uint16_t h = f32_to_f16(v);
    p[0] = static_cast<uint8_t>(h & 0xFF);
    p[1] = static_cast<uint8_t>(h >> 8);
}

// ggml's quantize_row_q8_0_ref: d = amax / 127, q = round(x / d).
void q8_0_block(const float* x, uint8_t* out) {
    float amax = 0.0f;
    for (int j = 0; j < 32; ++j) amax = std::max(amax, std::fabs(x[j]));
    const float d = amax / 127.0f;
    const float id = d != 0.0f ? 1.0f / d : 0.0f;
    put_f16(out, d);
    for (int j = 0; j < 32; ++j)
        out[2 + j] = static_cast<uint8_t>(static_cast<int8_t>(std::round(x[j] * id)));
}

// Q4_K: 8 sub-blocks of 32, each y = d * sc * q - dmin * m with 6-bit sc and m, 4-bit q.
void q4_K_block(const float* x, uint8_t* out) {
    float scale[8], minimum[8];
    for (int s = 0; s < 8; ++s) {
        float lo = 0.0f, hi = 0.0f;  // the minimum is at most 0, as in ggml
        for (int j = 0; j < 32; ++j)
            lo = std::min(lo, x[32 * s + j]), hi = std::max(hi, x[32 * s + j]);
        scale[s] = (hi - lo) / 15.0f;
        minimum[s] = -lo;
    }
    const float max_scale = *std::max_element(scale, scale + 8);
    const float max_min = *std::max_element(minimum, minimum + 8);
    const float d = f16_to_f32(f32_to_f16(max_scale / 63.0f));
    const float dmin = f16_to_f32(f32_to_f16(max_min / 63.0f));
    uint8_t ls[8], lm[8];
    for (int s = 0; s < 8; ++s) {
        ls[s] = static_cast<uint8_t>(
            std::clamp(d > 0 ? static_cast<int>(std::lround(scale[s] / d)) : 0, 0, 63));
        lm[s] = static_cast<uint8_t>(
            std::clamp(dmin > 0 ? static_cast<int>(std::lround(minimum[s] / dmin)) : 0, 0, 63));
    }
    put_f16(out, d);
    put_f16(out + 2, dmin);
    uint8_t* scales = out + 4;  // ggml's packing of 8 6-bit scales and 8 6-bit minimums
    std::fill(scales, scales + 12, 0);
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            scales[j] = ls[j];
            scales[j + 4] = lm[j];
        } else {
            scales[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            scales[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
            scales[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
        }
    }
    uint8_t L[256];
    for (int s = 0; s < 8; ++s) {
        const float step = d * ls[s], offset = dmin * lm[s];
        for (int j = 0; j < 32; ++j) {
            const int q =
                step > 0 ? static_cast<int>(std::lround((x[32 * s + j] + offset) / step)) : 0;
            L[32 * s + j] = static_cast<uint8_t>(std::clamp(q, 0, 15));
        }
    }
    uint8_t* qs = out + 16;  // 64 values per 32 bytes: low nibbles first, then high
    for (int j = 0; j < 256; j += 64) {
        for (int l = 0; l < 32; ++l) qs[l] = static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 4));
        qs += 32;
    }
}

}  // namespace

std::vector<uint8_t> quantize(DType type, const float* x, int64_t count) {
    const GgmlTypeInfo* info = nullptr;
    if (type == DType::F16) {
        std::vector<uint8_t> out(static_cast<size_t>(2 * count));
        for (int64_t i = 0; i < count; ++i) put_f16(out.data() + 2 * i, x[i]);
        return out;
    }
    if (type == DType::Q8_0) info = ggml_type_info(ggml::Q8_0);
    if (type == DType::Q4_K) info = ggml_type_info(ggml::Q4_K);
    if (!info)
        throw Error(std::string("quantize: ") + dtype_name(type) +
                    " is not one of the encodable types (F16, Q8_0, Q4_K)");
    if (count % info->block_size != 0)
        throw Error("quantize: " + std::to_string(count) + " values are not whole " + info->name +
                    " blocks of " + std::to_string(info->block_size));
    std::vector<uint8_t> out(static_cast<size_t>(count / info->block_size * info->type_size));
    for (int64_t b = 0; b < count / info->block_size; ++b) {
        uint8_t* block = out.data() + b * info->type_size;
        if (type == DType::Q8_0)
            q8_0_block(x + 32 * b, block);
        else
            q4_K_block(x + 256 * b, block);
    }
    return out;
}

}  // namespace ps
