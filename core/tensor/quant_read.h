// Field reads for the dequantizers (quant.cpp, quant_k.cpp): a block inside a file has no
// alignment, and ggml writes its fields little-endian, so they are assembled byte by byte.
#pragma once

#include <cstdint>

#include "core/tensor/half.h"

namespace ps::quant_read {

inline uint16_t u16(const uint8_t* p) {
    return static_cast<uint16_t>(p[0] | (p[1] << 8));
}

inline uint32_t u32(const uint8_t* p) {
    return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) |
           (static_cast<uint32_t>(p[2]) << 16) | (static_cast<uint32_t>(p[3]) << 24);
}

inline float f16(const uint8_t* p) {
    return f16_to_f32(u16(p));
}

}  // namespace ps::quant_read
