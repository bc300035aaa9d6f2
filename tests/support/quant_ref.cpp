#include "tests/support/quant_ref.h"

#include <algorithm>
#include <cfloat>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "core/tensor/half.h"

namespace ps::test {

namespace {

namespace T = quant_ref_type;

// ggml's codebook for IQ4_NL / IQ4_XS (ggml-common.h kvalues_iq4nl), copied here so that the
// decoders below don't share the engine's table.
constexpr int8_t kIq4nl[16] = {-127, -104, -83, -65, -49, -35, -22, -10,
                               1,    13,   25,  38,  53,  69,  89,  113};

// Round-to-nearest-even, as ggml's nearest_int.
int nearest(float v) {
    return static_cast<int>(std::lrintf(v));
}

float round_f16(float v) {
    return f16_to_f32(f32_to_f16(v));
}

void put_f16(std::vector<uint8_t>& out, float v) {
    const uint16_t h = f32_to_f16(v);
    out.push_back(static_cast<uint8_t>(h));
    out.push_back(static_cast<uint8_t>(h >> 8));
}

float get_f16(const uint8_t* p) {
    return f16_to_f32(static_cast<uint16_t>(p[0] | (p[1] << 8)));
}

// The index of the codebook value nearest to v.
int nearest_kvalue(float v) {
    int best = 0;
    for (int i = 1; i < 16; ++i)
        if (std::fabs(v - kIq4nl[i]) < std::fabs(v - kIq4nl[best])) best = i;
    return best;
}

// Slack for float rounding in the encoder's own arithmetic (x * id, (x - min) * id ...).
float slack(float amax) {
    return 1e-5f * amax + 1e-30f;
}

float amax_of(const float* x, int n, float* signed_max) {
    float amax = 0, max = 0;
    for (int i = 0; i < n; ++i)
        if (std::fabs(x[i]) > amax) amax = std::fabs(x[i]), max = x[i];
    if (signed_max) *signed_max = max;
    return amax;
}

// ggml's quantize_row_q4_1_ref (q bits 4) and quantize_row_q5_1_ref (5): y = q * d + min with
// d = (max - min) / (2^bits - 1). Error: half a step, plus what storing d and min as f16 costs
// (up to qmax times d's rounding, and min's rounding).
void encode_q_1(const float* x, int bits, Quantized& out) {
    float min = FLT_MAX, max = -FLT_MAX;
    for (int j = 0; j < 32; ++j) min = std::min(min, x[j]), max = std::max(max, x[j]);
    const int qmax = (1 << bits) - 1;
    const float d = (max - min) / qmax;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    put_f16(out.bytes, d);
    put_f16(out.bytes, min);
    uint32_t qh = 0;
    uint8_t qs[16];
    for (int j = 0; j < 16; ++j) {
        int q0 = static_cast<int>((x[j] - min) * id + 0.5f);
        int q1 = static_cast<int>((x[j + 16] - min) * id + 0.5f);
        q0 = std::min(qmax, q0), q1 = std::min(qmax, q1);
        qs[j] = static_cast<uint8_t>((q0 & 15) | ((q1 & 15) << 4));
        qh |= static_cast<uint32_t>(q0 >> 4) << j;
        qh |= static_cast<uint32_t>(q1 >> 4) << (j + 16);
    }
    if (bits == 5)
        for (int b = 0; b < 4; ++b) out.bytes.push_back(static_cast<uint8_t>(qh >> (8 * b)));
    out.bytes.insert(out.bytes.end(), qs, qs + 16);
    const float bound = 0.5f * d + qmax * std::fabs(d - round_f16(d)) +
                        std::fabs(min - round_f16(min)) +
                        slack(std::max(std::fabs(min), std::fabs(max)));
    out.bound.insert(out.bound.end(), 32, bound);
}

// ggml's quantize_row_q5_0_ref: d = max / -16 for the element of largest magnitude, q =
// x / d + 16 clamped to 31. Error: half a step, but a whole one for an element near -max,
// whose x / d of about 16 is clamped to 15; plus d's f16 rounding times up to 16.
void encode_q5_0(const float* x, Quantized& out) {
    float max;
    const float amax = amax_of(x, 32, &max);
    const float d = max / -16;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    put_f16(out.bytes, d);
    uint32_t qh = 0;
    uint8_t qs[16];
    for (int j = 0; j < 16; ++j) {
        const int q0 = std::min(31, static_cast<int>(static_cast<int8_t>(x[j] * id + 16.5f)));
        const int q1 = std::min(31, static_cast<int>(static_cast<int8_t>(x[j + 16] * id + 16.5f)));
        qs[j] = static_cast<uint8_t>((q0 & 15) | ((q1 & 15) << 4));
        qh |= static_cast<uint32_t>(q0 >> 4) << j;
        qh |= static_cast<uint32_t>(q1 >> 4) << (j + 16);
    }
    for (int b = 0; b < 4; ++b) out.bytes.push_back(static_cast<uint8_t>(qh >> (8 * b)));
    out.bytes.insert(out.bytes.end(), qs, qs + 16);
    const float bound = std::fabs(d) + 16 * std::fabs(d - round_f16(d)) + slack(amax);
    out.bound.insert(out.bound.end(), 32, bound);
}

// IQ4_NL, simplified from quantize_row_iq4_nl_impl: d = max / -127 (the element of largest
// magnitude lands on the codebook's -127), each element the nearest codebook value of x / d.
// Error: x / d lies in [-127, 127]; the widest half-gap inside the codebook is 12, and above
// its top value 113 an element can be 14 away; plus d's f16 rounding times up to 127.
void encode_iq4_nl(const float* x, Quantized& out) {
    float max;
    const float amax = amax_of(x, 32, &max);
    const float d = max / -127;
    const float id = d != 0 ? 1.0f / d : 0.0f;
    put_f16(out.bytes, d);
    for (int j = 0; j < 16; ++j)
        out.bytes.push_back(static_cast<uint8_t>(nearest_kvalue(x[j] * id) |
                                                 (nearest_kvalue(x[j + 16] * id) << 4)));
    const float bound = 14 * std::fabs(d) + 127 * std::fabs(d - round_f16(d)) + slack(amax);
    out.bound.insert(out.bound.end(), 32, bound);
}

// Packs 2-bit values L[256] as Q2_K's and Q3_K's qs[64]: element 32p + l of each half of 128
// is bits 2p..2p+1 of byte l of that half's 32 bytes.
void pack_2bit(const uint8_t* L, std::vector<uint8_t>& out) {
    for (int j = 0; j < 256; j += 128)
        for (int l = 0; l < 32; ++l)
            out.push_back(static_cast<uint8_t>(L[j + l] | (L[j + l + 32] << 2) |
                                               (L[j + l + 64] << 4) | (L[j + l + 96] << 6)));
}

// Q2_K, simplified from quantize_row_q2_K_ref: each sub-block of 16 spans [min(x, 0), max(x)]
// in 3 steps (instead of make_qkx2_quants' search); then ggml's 4-bit quantization of those
// scales and mins against the block's d and dmin, and re-quantization of the elements against
// the stored ones. Error: half a sub-block step inside the stored range; at its ends what the
// 4-bit rounding of the min (e_min) and of the scale (e_scale, 3 times) moved it.
void encode_q2_K(const float* x, Quantized& out) {
    float scale[16], mins[16], max_scale = 0, max_min = 0;
    for (int j = 0; j < 16; ++j) {
        float mn = 0, mx = x[16 * j];
        for (int l = 0; l < 16; ++l)
            mn = std::min(mn, x[16 * j + l]), mx = std::max(mx, x[16 * j + l]);
        scale[j] = (mx - mn) / 3, mins[j] = -mn;
        max_scale = std::max(max_scale, scale[j]), max_min = std::max(max_min, mins[j]);
    }
    uint8_t sc[16] = {};
    const float d = max_scale > 0 ? max_scale / 15 : 0.0f;
    const float dmin = max_min > 0 ? max_min / 15 : 0.0f;
    for (int j = 0; j < 16; ++j) {
        if (max_scale > 0) sc[j] = static_cast<uint8_t>(nearest(15 / max_scale * scale[j]));
        if (max_min > 0) sc[j] |= static_cast<uint8_t>(nearest(15 / max_min * mins[j]) << 4);
    }
    const float dh = round_f16(d), dminh = round_f16(dmin);
    const float e_scale = 0.5f * d + 15 * std::fabs(d - dh);
    const float e_min = 0.5f * dmin + 15 * std::fabs(dmin - dminh);
    uint8_t L[256] = {};
    for (int j = 0; j < 16; ++j) {
        const float dj = dh * (sc[j] & 0xF), dm = dminh * (sc[j] >> 4);
        for (int l = 0; l < 16; ++l) {
            if (dj != 0)
                L[16 * j + l] =
                    static_cast<uint8_t>(std::clamp(nearest((x[16 * j + l] + dm) / dj), 0, 3));
            out.bound.push_back(0.5f * dj + e_min + 3 * e_scale + slack(max_scale + max_min));
        }
    }
    out.bytes.insert(out.bytes.end(), sc, sc + 16);
    pack_2bit(L, out.bytes);
    put_f16(out.bytes, d);
    put_f16(out.bytes, dmin);
}

// Q3_K, simplified from quantize_row_q3_K_ref: each sub-block of 16 gets scale max / -4 (the
// start of make_q3_quants), then ggml's 6-bit quantization of the scales against
// d = max_scale / -32 and re-quantization of the elements to -4..3 against the stored scale.
// Error: x / scale lies in [-4, 4]; half a step inside the stored grid, at its short end a
// whole step, plus 4 times the 6-bit rounding of the scale (e).
void encode_q3_K(const float* x, Quantized& out) {
    float scale[16], max_scale = 0;
    for (int j = 0; j < 16; ++j) {
        float max;
        const float amax = amax_of(x + 16 * j, 16, &max);
        scale[j] = amax < 1e-15f ? 0.0f : max / -4;
        if (std::fabs(scale[j]) > std::fabs(max_scale)) max_scale = scale[j];
    }
    uint8_t packed[12] = {};
    int ls[16];
    float d = 0;
    if (max_scale != 0) {
        const float iscale = -32.f / max_scale;
        for (int j = 0; j < 16; ++j) {
            const int l = std::clamp(nearest(iscale * scale[j]), -32, 31) + 32;
            ls[j] = l;
            if (j < 8)
                packed[j] = static_cast<uint8_t>(l & 0xF);
            else
                packed[j - 8] |= static_cast<uint8_t>((l & 0xF) << 4);
            packed[8 + j % 4] |= static_cast<uint8_t>((l >> 4) << (2 * (j / 4)));
        }
        d = 1 / iscale;
    } else {
        std::fill(ls, ls + 16, 32);
    }
    const float dh = round_f16(d);
    const float e = 0.5f * std::fabs(d) + 32 * std::fabs(d - dh);
    uint8_t L[256];
    uint8_t hmask[32] = {};
    for (int j = 0; j < 16; ++j) {
        const float dj = dh * (ls[j] - 32);
        for (int l = 0; l < 16; ++l) {
            const int i = 16 * j + l;
            const int q = dj != 0 ? std::clamp(nearest(x[i] / dj), -4, 3) : 0;
            // The high bit of q + 4 goes to bit i / 32 of hmask[i % 32]; set means q >= 0.
            if (q >= 0) hmask[i % 32] |= static_cast<uint8_t>(1 << (i / 32));
            L[i] = static_cast<uint8_t>((q + 4) & 3);
            out.bound.push_back(std::fabs(dj) + 4 * e + slack(4 * std::fabs(max_scale)));
        }
    }
    out.bytes.insert(out.bytes.end(), hmask, hmask + 32);
    pack_2bit(L, out.bytes);
    out.bytes.insert(out.bytes.end(), packed, packed + 12);
    put_f16(out.bytes, d);
}

// Q5_K, simplified from quantize_row_q5_K_ref: each sub-block of 32 spans [min(x, 0), max(x)]
// in 31 steps; ggml's 6-bit quantization of scales and mins (Q4_K's packing) and
// re-quantization against the stored ones. Error: as Q2_K, with 31 steps per sub-block.
void encode_q5_K(const float* x, Quantized& out) {
    float scale[8], mins[8], max_scale = 0, max_min = 0;
    for (int j = 0; j < 8; ++j) {
        float mn = 0, mx = x[32 * j];
        for (int l = 0; l < 32; ++l)
            mn = std::min(mn, x[32 * j + l]), mx = std::max(mx, x[32 * j + l]);
        scale[j] = (mx - mn) / 31, mins[j] = -mn;
        max_scale = std::max(max_scale, scale[j]), max_min = std::max(max_min, mins[j]);
    }
    const float inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
    const float inv_min = max_min > 0 ? 63.f / max_min : 0.f;
    uint8_t packed[12] = {}, ls[8], lm[8];
    for (int j = 0; j < 8; ++j) {
        ls[j] = static_cast<uint8_t>(std::min(63, nearest(inv_scale * scale[j])));
        lm[j] = static_cast<uint8_t>(std::min(63, nearest(inv_min * mins[j])));
        if (j < 4) {
            packed[j] = ls[j];
            packed[j + 4] = lm[j];
        } else {
            packed[j + 4] = static_cast<uint8_t>((ls[j] & 0xF) | ((lm[j] & 0xF) << 4));
            packed[j - 4] |= static_cast<uint8_t>((ls[j] >> 4) << 6);
            packed[j] |= static_cast<uint8_t>((lm[j] >> 4) << 6);
        }
    }
    const float d = max_scale / 63.f, dmin = max_min / 63.f;
    const float dh = round_f16(d), dminh = round_f16(dmin);
    const float e_scale = 0.5f * d + 63 * std::fabs(d - dh);
    const float e_min = 0.5f * dmin + 63 * std::fabs(dmin - dminh);
    uint8_t qh[32] = {}, ql[128] = {};
    for (int j = 0; j < 8; ++j) {
        const float dj = dh * ls[j], dm = dminh * lm[j];
        for (int l = 0; l < 32; ++l) {
            const int i = 32 * j + l;
            const int q = dj != 0 ? std::clamp(nearest((x[i] + dm) / dj), 0, 31) : 0;
            // Low nibble of ql[32 * (j / 2) + l] for even j, high for odd; bit j of qh[l].
            ql[32 * (j / 2) + l] |= static_cast<uint8_t>((q & 15) << (4 * (j % 2)));
            qh[l] |= static_cast<uint8_t>((q >> 4) << j);
            out.bound.push_back(0.5f * dj + e_min + 31 * e_scale + slack(max_scale + max_min));
        }
    }
    put_f16(out.bytes, d);
    put_f16(out.bytes, dmin);
    out.bytes.insert(out.bytes.end(), packed, packed + 12);
    out.bytes.insert(out.bytes.end(), qh, qh + 32);
    out.bytes.insert(out.bytes.end(), ql, ql + 128);
}

// IQ4_XS, simplified from quantize_row_iq4_nl_impl(256, 32): each sub-block of 32 gets scale
// max / -127 as IQ4_NL; the scales are quantized to 6 bits against d = -max_scale / 32 as
// ggml does, and the elements to the nearest codebook value against the stored scale.
// Error: as IQ4_NL's 14 codebook units, plus 127 times the scale's 6-bit rounding (e).
void encode_iq4_xs(const float* x, Quantized& out) {
    float scale[8], max_scale = 0;
    for (int j = 0; j < 8; ++j) {
        float max;
        const float amax = amax_of(x + 32 * j, 32, &max);
        scale[j] = amax < 1e-15f ? 0.0f : max / -127;
        if (std::fabs(scale[j]) > std::fabs(max_scale)) max_scale = scale[j];
    }
    const float d = -max_scale / 32, id = d != 0 ? 1 / d : 0.0f, dh = round_f16(d);
    const float e = 0.5f * std::fabs(d) + 32 * std::fabs(d - dh);
    uint16_t scales_h = 0;
    uint8_t scales_l[4] = {}, qs[128];
    for (int j = 0; j < 8; ++j) {
        const int l = std::clamp(nearest(id * scale[j]), -32, 31);
        const int ls = l + 32;
        scales_l[j / 2] |= static_cast<uint8_t>((ls & 0xF) << (4 * (j % 2)));
        scales_h |= static_cast<uint16_t>((ls >> 4) << (2 * j));
        const float dl = dh * l, idl = dl != 0 ? 1 / dl : 0.0f;
        for (int k = 0; k < 16; ++k)
            qs[16 * j + k] = static_cast<uint8_t>(nearest_kvalue(x[32 * j + k] * idl) |
                                                  (nearest_kvalue(x[32 * j + k + 16] * idl) << 4));
        out.bound.insert(out.bound.end(), 32,
                         14 * std::fabs(dl) + 127 * e + slack(127 * std::fabs(max_scale)));
    }
    put_f16(out.bytes, d);
    out.bytes.push_back(static_cast<uint8_t>(scales_h));
    out.bytes.push_back(static_cast<uint8_t>(scales_h >> 8));
    out.bytes.insert(out.bytes.end(), scales_l, scales_l + 4);
    out.bytes.insert(out.bytes.end(), qs, qs + 128);
}

}  // namespace

int64_t ref_block_size(uint32_t type) {
    switch (type) {
        case T::Q2_K:
        case T::Q3_K:
        case T::Q5_K:
        case T::IQ4_XS:
            return 256;
        default:
            return 32;
    }
}

int64_t ref_block_bytes(uint32_t type) {
    switch (type) {
        case T::Q4_1:
            return 20;
        case T::Q5_0:
            return 22;
        case T::Q5_1:
            return 24;
        case T::Q8_0:
            return 34;
        case T::Q2_K:
            return 84;
        case T::Q3_K:
            return 110;
        case T::Q5_K:
            return 176;
        case T::IQ4_NL:
            return 18;
        case T::IQ4_XS:
            return 136;
        default:
            throw std::invalid_argument("quant_ref: type " + std::to_string(type));
    }
}

Quantized quantize_ggml(uint32_t type, const std::vector<float>& values) {
    const int64_t block = ref_block_size(type);
    Quantized out;
    for (size_t b = 0; b + size_t(block) <= values.size(); b += size_t(block)) {
        const float* x = values.data() + b;
        switch (type) {
            case T::Q4_1:
                encode_q_1(x, 4, out);
                break;
            case T::Q5_1:
                encode_q_1(x, 5, out);
                break;
            case T::Q5_0:
                encode_q5_0(x, out);
                break;
            case T::IQ4_NL:
                encode_iq4_nl(x, out);
                break;
            case T::Q2_K:
                encode_q2_K(x, out);
                break;
            case T::Q3_K:
                encode_q3_K(x, out);
                break;
            case T::Q5_K:
                encode_q5_K(x, out);
                break;
            case T::IQ4_XS:
                encode_iq4_xs(x, out);
                break;
            default:
                throw std::invalid_argument("quant_ref: no encoder for type " +
                                            std::to_string(type));
        }
    }
    return out;
}

float naive_decode(uint32_t type, const uint8_t* x, int64_t i) {
    const int64_t n = ref_block_size(type);
    const uint8_t* b = x + (i / n) * ref_block_bytes(type);
    const int r = static_cast<int>(i % n);
    // 32-element types: nibble r % 16 of qs, low for r < 16.
    auto nibble = [&](const uint8_t* qs) { return r < 16 ? qs[r] & 0xF : qs[r - 16] >> 4; };
    auto bit5 = [&](const uint8_t* qh) { return ((qh[r / 8] >> (r % 8)) & 1) << 4; };
    switch (type) {
        case T::Q4_1:
            return static_cast<float>(nibble(b + 4)) * get_f16(b) + get_f16(b + 2);
        case T::Q5_0:
            return static_cast<float>((nibble(b + 6) | bit5(b + 2)) - 16) * get_f16(b);
        case T::Q5_1:
            return static_cast<float>(nibble(b + 8) | bit5(b + 4)) * get_f16(b) + get_f16(b + 2);
        case T::IQ4_NL:
            return get_f16(b) * kIq4nl[nibble(b + 2)];
        case T::Q2_K: {
            const int q = (b[16 + 32 * (r / 128) + r % 32] >> (2 * ((r % 128) / 32))) & 3;
            const uint8_t sc = b[r / 16];
            return get_f16(b + 80) * (sc & 0xF) * q - get_f16(b + 82) * (sc >> 4);
        }
        case T::Q3_K: {
            // The scales as ggml unpacks them: three little-endian u32 shuffled with kmasks.
            uint32_t aux[4];
            std::memcpy(aux, b + 96, 12);
            const uint32_t tmp = aux[2], m1 = 0x03030303, m2 = 0x0f0f0f0f;
            aux[2] = ((aux[0] >> 4) & m2) | (((tmp >> 4) & m1) << 4);
            aux[3] = ((aux[1] >> 4) & m2) | (((tmp >> 6) & m1) << 4);
            aux[0] = (aux[0] & m2) | (((tmp >> 0) & m1) << 4);
            aux[1] = (aux[1] & m2) | (((tmp >> 2) & m1) << 4);
            int8_t scales[16];
            std::memcpy(scales, aux, 16);
            const int low = (b[32 + 32 * (r / 128) + r % 32] >> (2 * ((r % 128) / 32))) & 3;
            const bool high = (b[r % 32] >> (r / 32)) & 1;
            return get_f16(b + 108) * (scales[r / 16] - 32) * (low - (high ? 0 : 4));
        }
        case T::Q5_K: {
            const int s = r / 32;
            const uint8_t* q = b + 4;
            const int sc = s < 4 ? q[s] & 63 : (q[s + 4] & 0xF) | ((q[s - 4] >> 6) << 4);
            const int m = s < 4 ? q[s + 4] & 63 : (q[s + 4] >> 4) | ((q[s] >> 6) << 4);
            const uint8_t byte = b[48 + 32 * (s / 2) + r % 32];
            const int v = ((s % 2 ? byte >> 4 : byte & 0xF)) | (((b[16 + r % 32] >> s) & 1) << 4);
            return get_f16(b) * sc * v - get_f16(b + 2) * m;
        }
        case T::IQ4_XS: {
            const int s = r / 32, k = r % 32;
            const uint16_t scales_h = static_cast<uint16_t>(b[2] | (b[3] << 8));
            const int ls =
                ((b[4 + s / 2] >> (4 * (s % 2))) & 0xF) | (((scales_h >> (2 * s)) & 3) << 4);
            const uint8_t byte = b[8 + 16 * s + k % 16];
            return get_f16(b) * (ls - 32) * kIq4nl[k < 16 ? byte & 0xF : byte >> 4];
        }
        default:
            throw std::invalid_argument("quant_ref: no decoder for type " + std::to_string(type));
    }
}

}  // namespace ps::test
