// Encoding f32 values as F16, Q8_0 or Q4_K blocks, for models built in memory (the random shapes
// `paramscope bench --shape NAME --dtype q4_k` measures). Q8_0 is ggml's quantize_row_q8_0_ref
// exactly; Q4_K packs its scales as ggml does but takes each sub-block's scale and minimum from
// its range instead of ggml's search for the best ones: valid blocks that decode with
// core/tensor/quant.h, a little less accurate than llama-quantize's.
#pragma once

#include <cstdint>
#include <vector>

#include "core/tensor/dtype.h"

namespace ps {

// `count` values (a multiple of the type's block size: 1, 32 or 256) as `type`'s bytes.
// Throws ps::Error for another type or a count that is not whole blocks.
std::vector<uint8_t> quantize(DType type, const float* values, int64_t count);

}  // namespace ps
