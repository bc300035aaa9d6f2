#include "core/analysis/param_stats.h"

#include <Eigen/Core>
#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"
#include "core/model/compact_weights.h"

namespace ps {

namespace {

int64_t element_count(const ValueSpans& values) {
    int64_t n = 0;
    for (const ValueSpan& s : values) n += s.count;
    return n;
}

// Calls visit(float) on every value of the selection, in order.
template <class Visit>
void for_each_value(const ValueSpans& values, Visit&& visit) {
    for (const ValueSpan& s : values)
        for_each_chunk(s.data, s.raw, s.dtype, s.count, [&](const float* chunk, int64_t n) {
            for (int64_t i = 0; i < n; ++i) visit(chunk[i]);
        });
}

// Nearest-rank percentile q (0..100) of n sorted-or-selectable values: the value of rank
// ceil(q/100 * n), 1-based.
int64_t nearest_rank(double q, int64_t n) {
    const auto rank = static_cast<int64_t>(std::ceil(q / 100.0 * double(n)));
    return std::clamp<int64_t>(rank, 1, n) - 1;
}

// n: the number of finite values (NaN would break nth_element's ordering).
void exact_percentiles(const ValueSpans& values, int64_t n, ValueStats& s) {
    std::vector<float> all;
    all.reserve(static_cast<size_t>(n));
    for_each_value(values, [&](float v) {
        if (std::isfinite(v)) all.push_back(v);
    });
    for (int i = 0; i < 7; ++i) {
        auto nth = all.begin() + nearest_rank(kPercentiles[i], n);
        std::nth_element(all.begin(), nth, all.end());
        s.percentile[i] = *nth;
    }
}

void histogram_percentiles(const ValueSpans& values, int64_t n, ValueStats& s) {
    const Histogram h = histogram(values, 65536, s.min, s.max);
    int64_t below = 0;
    int bin = 0;
    for (int i = 0; i < 7; ++i) {
        const int64_t rank = nearest_rank(kPercentiles[i], n);
        while (bin + 1 < static_cast<int>(h.counts.size()) && below + h.counts[bin] <= rank)
            below += h.counts[bin++];
        s.percentile[i] = h.bin_center(bin);
    }
    s.percentiles_exact = false;
}

}  // namespace

ValueStats value_stats(const ValueSpans& values, double near_zero_threshold,
                       int64_t exact_percentile_limit) {
    ValueStats s;
    s.count = element_count(values);
    if (s.count == 0) return s;
    double sum = 0;
    s.min = std::numeric_limits<double>::infinity();
    s.max = -s.min;
    for_each_value(values, [&](float v) {
        if (!std::isfinite(v)) {
            ++s.non_finite;
            return;
        }
        sum += v;
        s.min = std::min<double>(s.min, v);
        s.max = std::max<double>(s.max, v);
    });
    const int64_t n = s.count - s.non_finite;
    if (n == 0) {
        s.min = s.max = 0;
        return s;
    }
    s.mean = sum / double(n);
    double squares = 0;  // second pass: accurate even when the mean is large
    for_each_value(values, [&](float v) {
        if (std::isfinite(v)) squares += (v - s.mean) * (v - s.mean);
    });
    s.std = std::sqrt(squares / double(n));
    s.near_zero_threshold = near_zero_threshold > 0
                                ? near_zero_threshold
                                : 1e-3 * std::max(std::abs(s.min), std::abs(s.max));
    int64_t near = 0;
    for_each_value(values, [&](float v) {
        near += std::abs(v) < s.near_zero_threshold;  // false for NaN, inf
    });
    s.near_zero = double(near) / double(n);
    if (n <= exact_percentile_limit)
        exact_percentiles(values, n, s);
    else
        histogram_percentiles(values, n, s);
    return s;
}

int64_t Histogram::total() const {
    int64_t n = 0;
    for (int64_t c : counts) n += c;
    return n;
}

Histogram histogram(const ValueSpans& values, int bins, double lo, double hi) {
    if (bins < 1 || bins > (1 << 20))
        throw Error("histogram: bins must be 1..1048576, got " + std::to_string(bins));
    if (!(hi >= lo)) throw Error("histogram: the range must have lo <= hi");
    if (!std::isfinite(lo) || !std::isfinite(hi))
        throw Error("histogram: the range must be finite");
    Histogram h;
    h.lo = lo;
    h.hi = hi > lo ? hi : lo + 1.0;  // a constant tensor still gets a visible bar
    h.counts.assign(static_cast<size_t>(bins), 0);
    const double scale = double(bins) / (h.hi - h.lo);
    for_each_value(values, [&](float v) {
        if (!(v >= lo && v <= h.hi)) {  // also NaN
            ++h.outside;
            return;
        }
        // Compared before converting: a float-to-int conversion out of range is undefined.
        const double x = (double(v) - h.lo) * scale;
        const int bin = x < double(bins - 1) ? static_cast<int>(x) : bins - 1;
        ++h.counts[static_cast<size_t>(bin)];
    });
    return h;
}

ValueSpans tensor_values(const Model& model, const std::vector<int>& indices) {
    ValueSpans spans;
    for (int i : indices) {
        if (i < 0 || i >= static_cast<int>(model.tensors.size()))
            throw Error("tensor index " + std::to_string(i) + " is outside the inventory");
        const TensorInfo& t = model.tensors[static_cast<size_t>(i)];
        if (t.data || t.raw) spans.emplace_back(t);
    }
    return spans;
}

std::string tensor_component(const TensorInfo& t) {
    auto has = [&](const char* part) { return t.name.find(part) != std::string::npos; };
    if (t.kind == ParamKind::Norm) return "norms";
    if (has("lm_head") || has("output.") || has("wcls") || t.name == "output") return "unembedding";
    if (t.kind == ParamKind::Embedding) return "embeddings";
    if (has("attn") || has("attention") || has("self_attn")) return "attention";
    if (has("mlp") || has("ffn") || has("feed_forward")) return "mlp";
    return t.layer >= 0 ? "mlp" : "embeddings";
}

namespace {

// What a block holds beyond its matrices, which the formula counts.
struct BlockExtras {
    bool qkv_bias = false, o_bias = false, mlp_bias = false, qk_norm = false, post_norms = false;
    bool rope_factors = false;  // GGUF's rope_freqs.weight, one factor per rotated pair
};

ParameterFormula formula_of(const Config& c, const BlockExtras& x) {
    const int64_t V = c.vocab_size, d = c.dim, h = c.hidden_dim, L = c.n_layers,
                  C = c.context_length, kv = c.kv_dim(), q = c.q_dim(), hd = c.head_dim();
    const int64_t unembed = c.tied_embeddings ? 0 : V * d;
    const std::string untied = c.tied_embeddings ? "" : " + vocab·d (untied unembedding)";
    auto num = [](int64_t v) { return std::to_string(v); };
    ParameterFormula f;
    if (c.arch == Arch::Gpt2) {
        // Per block: c_attn d·3d + 3d, c_proj d² + d, c_fc d·h + h, mlp c_proj h·d + d,
        // ln_1 and ln_2 2d each; with h = 4d that is 12d² + 13d.
        const int64_t block = 4 * d * d + 2 * d * h + h + 9 * d;
        f.value = V * d + C * d + L * block + 2 * d + unembed;
        f.formula = h == 4 * d ? "vocab·d + ctx·d + L·(12d² + 13d) + 2d"
                               : "vocab·d + ctx·d + L·(4d² + 2d·h + h + 9d) + 2d";
        f.substituted = num(V) + "·" + num(d) + " + " + num(C) + "·" + num(d) + " + " + num(L) +
                        "·" + num(block) + " + " + num(2 * d);
    } else {
        // Per block: wq d·q and wo q·d (q = heads·head_dim, d when the heads split d), wk and wv
        // d·kv each, three MLP matrices d·h, two RMSNorm gains (four in Gemma 3), and what the
        // architecture adds: biases, per-head q/k norm gains.
        int64_t block = 2 * d * q + 2 * d * kv + 3 * d * h + (x.post_norms ? 4 : 2) * d;
        std::string terms = std::string(q == d ? "2d²" : "2d·q") + " + 2d·kv + 3d·h";
        if (x.qkv_bias) block += q + 2 * kv, terms += q == d ? " + d + 2kv" : " + q + 2kv";
        if (x.o_bias) block += d, terms += " + d";
        if (x.mlp_bias) block += 2 * h + d, terms += " + 2h + d";
        if (x.qk_norm) block += 2 * hd, terms += " + 2·head_dim";
        terms += x.post_norms ? " + 4d" : " + 2d";
        const int64_t factors = x.rope_factors ? c.rotary_dims() / 2 : 0;
        f.value = V * d + L * block + d + unembed + factors;
        f.formula =
            "vocab·d + L·(" + terms + ") + d" + (factors ? " + head_dim/2 (rope_freqs)" : "");
        if (q != d) f.formula += ", q = heads·head_dim = " + num(q);
        f.substituted = num(V) + "·" + num(d) + " + " + num(L) + "·" + num(block) + " + " + num(d);
        if (factors) f.substituted += " + " + num(factors);
    }
    f.formula += untied;
    if (!c.tied_embeddings) f.substituted += " + " + num(V) + "·" + num(d);
    return f;
}

}  // namespace

ParameterFormula parameter_formula(const Config& c) {
    BlockExtras x;
    x.qkv_bias = c.arch == Arch::Qwen2;
    x.qk_norm = c.arch == Arch::Qwen3 || c.arch == Arch::Gemma3;
    x.post_norms = c.arch == Arch::Gemma3;
    return formula_of(c, x);
}

ParameterFormula parameter_formula(const Model& m) {
    if (m.weights.layers.empty()) return parameter_formula(m.config);
    const LayerWeights& L = m.weights.layers.front();
    BlockExtras x;
    x.qkv_bias = L.wq.b && L.wk.b && L.wv.b;
    x.o_bias = L.wo.b != nullptr;
    x.mlp_bias = L.ffn_up.b && L.ffn_down.b && (L.ffn_gate.b || !m.config.gated_mlp());
    x.qk_norm = L.q_norm && L.k_norm;
    x.post_norms = L.post_attn_norm && L.post_ffn_norm;
    x.rope_factors = m.weights.rope_freq_factors != nullptr;
    return formula_of(m.config, x);
}

std::vector<std::pair<int, float>> nearest_tokens(const Model& model, int token, int k) {
    const Config& c = model.config;
    if (token < 0 || token >= c.vocab_size)
        throw Error("token id " + std::to_string(token) + " is outside the vocabulary (0.." +
                    std::to_string(c.vocab_size - 1) + ")");
    // Row by row, so a compact embedding is never dequantized whole.
    const Weights& w = model.weights;
    std::vector<float> target(static_cast<size_t>(c.dim)), row(static_cast<size_t>(c.dim));
    token_embedding_row(w, c.dim, token, target.data());
    using Vector = Eigen::Map<const Eigen::VectorXf>;
    const Vector t(target.data(), c.dim);
    Eigen::VectorXf norms(c.vocab_size), dots(c.vocab_size);
    for (int i = 0; i < c.vocab_size; ++i) {
        token_embedding_row(w, c.dim, i, row.data());
        const Vector e(row.data(), c.dim);
        norms[i] = e.norm();
        dots[i] = e.dot(t);
    }
    std::vector<std::pair<int, float>> all;
    all.reserve(static_cast<size_t>(c.vocab_size));
    for (int i = 0; i < c.vocab_size; ++i) {
        if (i == token) continue;
        const float denom = norms[i] * norms[token];
        const float cos = denom > 0 ? dots[i] / denom : 0.0f;
        // NaN (from NaN weights) ranks last: sorting needs an order in which every pair compares.
        all.emplace_back(i, std::isnan(cos) ? -std::numeric_limits<float>::infinity() : cos);
    }
    const size_t n = std::min<size_t>(static_cast<size_t>(std::max(k, 0)), all.size());
    std::partial_sort(all.begin(), all.begin() + static_cast<std::ptrdiff_t>(n), all.end(),
                      [](const auto& a, const auto& b) {
                          return a.second != b.second ? a.second > b.second : a.first < b.first;
                      });
    all.resize(n);
    return all;
}

}  // namespace ps
