// The super-block ("K") types and IQ4_XS: 256 elements per block, with 16 or 8 sub-block
// scales quantized against the block's f16 scale(s). Each follows ggml's reference
// dequantize_row_* (ggml-quants.c); layouts in quant.h.
#include <cstdint>

#include "core/tensor/quant.h"
#include "core/tensor/quant_read.h"

namespace ps {

using quant_read::f16;
using quant_read::u16;

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
        const float d = f16(b);
        const float min = f16(b + 2);
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
        const float d = f16(b + 208);
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

// As Q4_K, every product is exact in float: d (11 bits) * a 4-bit scale * a 2-bit quant.
void dequantize_row_q2_K(const uint8_t* x, float* y, int64_t k) {
    constexpr int block_bytes = 84;
    for (int64_t i = 0; i < k / QK_K; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const uint8_t* scales = b;
        const uint8_t* q = b + 16;
        const float d = f16(b + 80);
        const float min = f16(b + 82);
        int is = 0;
        float dl, ml;
        for (int n = 0; n < QK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                uint8_t sc = scales[is++];
                dl = d * (sc & 0xF);
                ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l)
                    *y++ = dl * static_cast<int8_t>((q[l] >> shift) & 3) - ml;
                sc = scales[is++];
                dl = d * (sc & 0xF);
                ml = min * (sc >> 4);
                for (int l = 0; l < 16; ++l)
                    *y++ = dl * static_cast<int8_t>((q[l + 16] >> shift) & 3) - ml;
                shift += 2;
            }
            q += 32;
        }
    }
}

// The 16 6-bit scales of a Q3_K block, as ggml's kmask shuffle of three little-endian u32
// produces them, written per byte: low 4 bits from byte s % 8 (nibble s / 8), high 2 bits
// from byte 8 + s % 4 (bits 2 * (s / 4)).
static void q3_K_scales(const uint8_t* packed, int8_t* scales) {
    for (int s = 0; s < 16; ++s) {
        const int low = s < 8 ? packed[s] & 0xF : packed[s - 8] >> 4;
        const int high = (packed[8 + s % 4] >> (2 * (s / 4))) & 3;
        scales[s] = static_cast<int8_t>(low | (high << 4));
    }
}

// d (11 bits) * a 6-bit signed scale * a 3-bit signed quant: exact in float.
void dequantize_row_q3_K(const uint8_t* x, float* y, int64_t k) {
    constexpr int block_bytes = 110;
    for (int64_t i = 0; i < k / QK_K; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const uint8_t* hm = b;
        const uint8_t* q = b + 32;
        int8_t scales[16];
        q3_K_scales(b + 96, scales);
        const float d_all = f16(b + 108);
        uint8_t m = 1;
        int is = 0;
        float dl;
        for (int n = 0; n < QK_K; n += 128) {
            int shift = 0;
            for (int j = 0; j < 4; ++j) {
                dl = d_all * (scales[is++] - 32);
                for (int l = 0; l < 16; ++l)
                    *y++ = dl * (static_cast<int8_t>((q[l + 0] >> shift) & 3) -
                                 ((hm[l + 0] & m) ? 0 : 4));
                dl = d_all * (scales[is++] - 32);
                for (int l = 0; l < 16; ++l)
                    *y++ = dl * (static_cast<int8_t>((q[l + 16] >> shift) & 3) -
                                 ((hm[l + 16] & m) ? 0 : 4));
                shift += 2;
                m = static_cast<uint8_t>(m << 1);
            }
            q += 32;
        }
    }
}

// d (11 bits) * a 6-bit scale * a 5-bit quant needs at most 22 bits: exact, as in Q4_K.
void dequantize_row_q5_K(const uint8_t* x, float* y, int64_t k) {
    constexpr int block_bytes = 176;
    for (int64_t i = 0; i < k / QK_K; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const float d = f16(b);
        const float min = f16(b + 2);
        const uint8_t* scales = b + 4;
        const uint8_t* qh = b + 16;
        const uint8_t* ql = b + 48;
        int is = 0;
        uint8_t sc, m;
        uint8_t u1 = 1, u2 = 2;
        for (int j = 0; j < QK_K; j += 64) {
            get_scale_min_k4(is + 0, scales, &sc, &m);
            const float d1 = d * sc;
            const float m1 = min * m;
            get_scale_min_k4(is + 1, scales, &sc, &m);
            const float d2 = d * sc;
            const float m2 = min * m;
            for (int l = 0; l < 32; ++l) *y++ = d1 * ((ql[l] & 0xF) + (qh[l] & u1 ? 16 : 0)) - m1;
            for (int l = 0; l < 32; ++l) *y++ = d2 * ((ql[l] >> 4) + (qh[l] & u2 ? 16 : 0)) - m2;
            ql += 32;
            is += 2;
            u1 = static_cast<uint8_t>(u1 << 2);
            u2 = static_cast<uint8_t>(u2 << 2);
        }
    }
}

// d (11 bits) * a 6-bit signed scale * a 7-bit codebook value needs at most 24 bits: exact.
void dequantize_row_iq4_xs(const uint8_t* x, float* y, int64_t k) {
    constexpr int block_bytes = 136;
    for (int64_t i = 0; i < k / QK_K; ++i) {
        const uint8_t* b = x + i * block_bytes;
        const float d = f16(b);
        const uint16_t scales_h = u16(b + 2);
        const uint8_t* scales_l = b + 4;
        const uint8_t* qs = b + 8;
        for (int ib = 0; ib < QK_K / 32; ++ib) {
            const int ls =
                ((scales_l[ib / 2] >> 4 * (ib % 2)) & 0xF) | (((scales_h >> 2 * ib) & 3) << 4);
            const float dl = d * (ls - 32);
            for (int j = 0; j < 16; ++j) {
                y[j + 0] = dl * kvalues_iq4nl[qs[j] & 0xF];
                y[j + 16] = dl * kvalues_iq4nl[qs[j] >> 4];
            }
            y += 32;
            qs += 16;
        }
    }
}

}  // namespace ps
