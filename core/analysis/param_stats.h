// What the parameters look like: value statistics and histograms over any selection of
// tensors, the formula that gives a model's parameter count from its configuration, and the
// token embeddings seen as parameters (nearest tokens by cosine similarity).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "core/model/model.h"

namespace ps {

// One tensor's values: f32 values, or compact ones in the file's encoding, which the
// statistics read a dequantized chunk at a time (so a selection never needs them all as f32).
struct ValueSpan {
    const float* data = nullptr;   // f32 values, or null when compact
    const uint8_t* raw = nullptr;  // compact values in `dtype`
    DType dtype = DType::F32;
    int64_t count = 0;

    ValueSpan() = default;
    ValueSpan(std::span<const float> values)  // NOLINT: implicit, like the span it wraps
        : data(values.data()), count(static_cast<int64_t>(values.size())) {}
    ValueSpan(const std::vector<float>& values) : ValueSpan(std::span<const float>(values)) {}
    explicit ValueSpan(const TensorInfo& t)
        : data(t.data), raw(t.raw), dtype(t.dtype), count(t.data || t.raw ? t.count : 0) {}
};
// A selection of parameter values: one span per tensor.
using ValueSpans = std::vector<ValueSpan>;

struct ValueStats {
    int64_t count = 0;
    // NaN or infinite values (a diverged or corrupt checkpoint): part of `count`, left out of
    // every statistic below, which describe the finite values (all 0 when there are none).
    int64_t non_finite = 0;
    double mean = 0, std = 0, min = 0, max = 0;
    double near_zero = 0;  // fraction with |x| < near_zero_threshold
    double near_zero_threshold = 0;
    // Percentiles 1, 5, 25, 50, 75, 95, 99 (nearest rank). Exact up to the exact-percentile limit
    // (kExactPercentileLimit values by default); beyond that read from a 65,536-bin histogram
    // (error below (max - min) / 65536).
    double percentile[7] = {};
    bool percentiles_exact = true;
};
inline constexpr int kPercentiles[7] = {1, 5, 25, 50, 75, 95, 99};
inline constexpr int64_t kExactPercentileLimit = int64_t(1) << 24;

// Statistics of every value in `values` (population std). near_zero_threshold <= 0 picks
// 1e-3 times the largest magnitude.
ValueStats value_stats(const ValueSpans& values, double near_zero_threshold = 0,
                       int64_t exact_percentile_limit = kExactPercentileLimit);

// `bins` equal bins over [lo, hi] (finite); the last bin includes hi. Values outside [lo, hi] (and
// NaN) are counted in `outside`, so counts + outside always equals the selection's element count.
struct Histogram {
    double lo = 0, hi = 0;
    std::vector<int64_t> counts;
    int64_t outside = 0;
    int64_t total() const;  // sum of counts
    double bin_width() const { return counts.empty() ? 0 : (hi - lo) / double(counts.size()); }
    double bin_center(int i) const { return lo + (i + 0.5) * bin_width(); }
};
Histogram histogram(const ValueSpans& values, int bins, double lo, double hi);

// The values of the tensors at `indices` of model.tensors.
ValueSpans tensor_values(const Model& model, const std::vector<int>& indices);

// Where a tensor sits in the network, for grouping the inventory: "embeddings", "attention",
// "mlp", "norms" or "unembedding".
std::string tensor_component(const TensorInfo& t);

// The parameter count the configuration implies, with the formula in words, e.g. for GPT-2
// "vocab·d + ctx·d + L·(12d² + 13d) + 2d". A tied unembedding is counted once.
struct ParameterFormula {
    std::string formula;      // symbolic
    std::string substituted;  // with the configuration's numbers
    int64_t value = 0;
};
// The count of the architecture's usual tensors (GPT-2's biases, Qwen2's q/k/v biases ...).
ParameterFormula parameter_formula(const Config& c);
// The same for the tensors `m` has (Llama with attention_bias, say), as its inventory counts them.
ParameterFormula parameter_formula(const Model& m);

// The k tokens whose embedding rows are closest to `token`'s by cosine similarity (the token
// itself excluded), most similar first.
std::vector<std::pair<int, float>> nearest_tokens(const Model& model, int token, int k);

}  // namespace ps
