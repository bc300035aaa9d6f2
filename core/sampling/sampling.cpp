// The sampling step (rules in sampling.h). Everything works on the ranking: each filter keeps a
// prefix of it, so "the tokens still in play" is just a length n, and renormalizing is dividing
// by the sum of the first n weights.
#include "core/sampling/sampling.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "core/error.h"

namespace ps {

const char* removed_by_name(RemovedBy r) {
    switch (r) {
        case RemovedBy::TopK:
            return "top_k";
        case RemovedBy::TopP:
            return "top_p";
        case RemovedBy::MinP:
            return "min_p";
        case RemovedBy::Greedy:
            return "greedy";
        case RemovedBy::None:
            break;
    }
    return nullptr;
}

const char* sampling_order_name(SamplingOrder o) {
    return o == SamplingOrder::HuggingFace ? "hf" : "llamacpp";
}

bool parse_sampling_order(const char* name, SamplingOrder* out) {
    if (std::strcmp(name, "hf") == 0)
        *out = SamplingOrder::HuggingFace;
    else if (std::strcmp(name, "llamacpp") == 0)
        *out = SamplingOrder::LlamaCpp;
    else
        return false;
    return true;
}

static void check_settings(const SamplingSettings& s) {
    auto bad = [](const std::string& what) { fail("sampling", what); };
    if (!(s.temperature >= 0.0f) || !std::isfinite(s.temperature))
        bad("temperature must be a finite number >= 0, got " + std::to_string(s.temperature));
    if (s.top_k < 0) bad("top-k must be >= 0 (0 = off), got " + std::to_string(s.top_k));
    if (!(s.top_p >= 0.0f && s.top_p <= 1.0f))
        bad("top-p must be in [0, 1], got " + std::to_string(s.top_p));
    if (!(s.min_p >= 0.0f && s.min_p <= 1.0f))
        bad("min-p must be in [0, 1], got " + std::to_string(s.min_p));
}

void check_logits(const float* logits, int vocab_size) {
    if (logits == nullptr || vocab_size <= 0)
        fail("sampling", "empty logits (vocabulary size " + std::to_string(vocab_size) + ")");
    bool any_finite = false;
    for (int i = 0; i < vocab_size; i++) {
        const float l = logits[i];
        if (std::isnan(l) || l == INFINITY)
            fail("sampling",
                 "logit of token " + std::to_string(i) + " is " + (std::isnan(l) ? "NaN" : "+inf"));
        any_finite |= std::isfinite(l);
    }
    if (!any_finite) fail("sampling", "every logit is -inf: no token can be sampled");
}

// A float's bits remapped so that unsigned comparison orders the floats ascending.
static uint32_t ascending_bits(float f) {
    if (f == 0.0f) f = 0.0f;  // -0 and +0 are the same logit
    uint32_t u;
    std::memcpy(&u, &f, sizeof u);
    return (u & 0x80000000u) ? ~u : (u | 0x80000000u);
}

// Token ids by logit descending, ties by id ascending: a stable LSD radix sort of the
// descending-order logit bits, 11 bits per pass (3 passes, histograms from one sweep), the id
// riding along in the low 32 bits. Stability keeps equal logits in id order. Scratch buffers are
// per thread so a slider move allocates only its outputs.
static std::vector<int> rank_by_logit(const float* logits, int n) {
    constexpr int kBits = 11, kBuckets = 1 << kBits, kPasses = 3;
    thread_local std::vector<uint64_t> keys, tmp;
    keys.resize(static_cast<size_t>(n));
    tmp.resize(static_cast<size_t>(n));
    std::array<std::array<int, kBuckets>, kPasses> count{};
    for (int i = 0; i < n; i++) {
        const uint32_t k = ~ascending_bits(logits[i]);
        keys[i] = (static_cast<uint64_t>(k) << 32) | uint32_t(i);
        for (int p = 0; p < kPasses; p++) count[p][(k >> (p * kBits)) & (kBuckets - 1)]++;
    }
    for (int p = 0; p < kPasses; p++) {
        const int shift = 32 + p * kBits;
        if (count[p][(keys[0] >> shift) & (kBuckets - 1)] == n) continue;  // one bucket
        int start = 0;
        for (int& c : count[p]) start += std::exchange(c, start);
        for (int i = 0; i < n; i++) {
            const uint64_t key = keys[i];
            tmp[count[p][(key >> shift) & (kBuckets - 1)]++] = key;
        }
        keys.swap(tmp);
    }
    std::vector<int> ranked(static_cast<size_t>(n));
    for (int i = 0; i < n; i++) ranked[i] = static_cast<int>(keys[i] & 0xffffffffu);
    return ranked;
}

// Unnormalized softmax weights in rank order: w[i] = exp((logit[ranked[i]] - max) / t) for the
// first n ranks (w[0] = 1); entries past n are not touched. Returns their sum.
static double weights_in_rank_order(const float* logits, const std::vector<int>& ranked, int n,
                                    double t, std::vector<double>& w) {
    w.resize(ranked.size());
    const double max = logits[ranked[0]];
    double sum = 0;
    int i = 0;
    for (; i < n; i++) {
        const double x = (logits[ranked[i]] - max) / t;
        if (x < -746.0) break;  // exp underflows to 0 in double, and the ranking only goes down
        w[i] = std::exp(x);
        sum += w[i];
    }
    std::fill(w.begin() + i, w.begin() + n, 0.0);
    return sum;
}

// Entropy in bits of p_i = w_i / sum over the first n ranks, using ln w_i = x_i (no logs per
// token): H = ln(sum) - sum_i p_i x_i.
static double entropy_bits(const float* logits, const std::vector<int>& ranked, int n, double t,
                           const std::vector<double>& w, double sum) {
    const double max = logits[ranked[0]];
    double px = 0;
    for (int i = 0; i < n && w[i] > 0; i++) px += w[i] * ((logits[ranked[i]] - max) / t);
    const double h = std::log(sum) - px / sum;
    return std::max(0.0, h) / std::log(2.0);
}

static double prefix_sum(const std::vector<double>& w, int n) {
    double s = 0;
    for (int i = 0; i < n; i++) s += w[i];
    return s;
}

// Each filter takes the weights in rank order and the number n of tokens in play, and returns
// how many stay in play.
static int top_k_filter(int n, int k) {
    return (k > 0 && k < n) ? k : n;
}

static int top_p_filter(const std::vector<double>& w, int n, double p) {
    if (p >= 1.0) return n;
    const double target = (p - kBoundaryEps) * prefix_sum(w, n);
    double cum = 0;
    for (int i = 0; i < n; i++) {
        cum += w[i];
        if (cum >= target) return i + 1;
    }
    return n;
}

static int min_p_filter(const std::vector<double>& w, int n, double min_p) {
    if (min_p <= 0.0) return n;
    const double threshold = min_p * w[0] - kBoundaryEps * prefix_sum(w, n);
    int keep = 1;
    while (keep < n && w[keep] >= threshold) keep++;
    return keep;
}

static void mark_removed(Distribution& d, int from, int to, RemovedBy why) {
    for (int i = from; i < to; i++) d.removed_by[d.ranked[i]] = why;
}

// top-k, top-p, min-p on weights w in rank order; returns the number kept.
static int run_filters(Distribution& d, const std::vector<double>& w, int n,
                       const SamplingSettings& s) {
    int kept = top_k_filter(n, s.top_k);
    mark_removed(d, kept, n, RemovedBy::TopK);
    n = kept;
    kept = top_p_filter(w, n, s.top_p);
    mark_removed(d, kept, n, RemovedBy::TopP);
    n = kept;
    kept = min_p_filter(w, n, s.min_p);
    mark_removed(d, kept, n, RemovedBy::MinP);
    return kept;
}

Distribution apply_sampling(const float* logits, int vocab_size, const SamplingSettings& s) {
    check_settings(s);
    check_logits(logits, vocab_size);
    const int n = vocab_size;
    Distribution d;
    d.ranked = rank_by_logit(logits, n);
    d.removed_by.assign(static_cast<size_t>(n), RemovedBy::None);
    d.p_final.assign(static_cast<size_t>(n), 0.0f);

    // The model's own distribution: temperature 1, nothing removed.
    thread_local std::vector<double> raw, tempered_scratch;
    const double raw_sum = weights_in_rank_order(logits, d.ranked, n, 1.0, raw);
    d.p_raw.assign(static_cast<size_t>(n), 0.0f);
    for (int i = 0; i < n && raw[i] > 0; i++) d.p_raw[d.ranked[i]] = float(raw[i] / raw_sum);
    d.entropy_raw_bits = entropy_bits(logits, d.ranked, n, 1.0, raw, raw_sum);

    if (s.temperature == 0.0f) {  // greedy
        d.kept = 1;
        mark_removed(d, 1, n, RemovedBy::Greedy);
        d.p_final[d.ranked[0]] = 1.0f;
        d.entropy_final_bits = 0;
        return d;
    }

    const double t = s.temperature;
    const std::vector<double>* tempered = &raw;
    if (s.order == SamplingOrder::HuggingFace) {
        // Temperature first: the filters see the tempered probabilities. Past top-k nothing
        // reads them, so only the first k are computed.
        if (t != 1.0) {
            weights_in_rank_order(logits, d.ranked, top_k_filter(n, s.top_k), t, tempered_scratch);
            tempered = &tempered_scratch;
        }
        d.kept = run_filters(d, *tempered, n, s);
    } else {
        // Filters on the un-tempered probabilities, then temperature over the survivors.
        d.kept = run_filters(d, raw, n, s);
        if (t != 1.0) {
            weights_in_rank_order(logits, d.ranked, d.kept, t, tempered_scratch);
            tempered = &tempered_scratch;
        }
    }
    const double kept_sum = prefix_sum(*tempered, d.kept);
    for (int i = 0; i < d.kept; i++) d.p_final[d.ranked[i]] = float((*tempered)[i] / kept_sum);
    d.entropy_final_bits = entropy_bits(logits, d.ranked, d.kept, t, *tempered, kept_sum);
    return d;
}

int sample_token(const Distribution& d, double u) {
    if (d.kept <= 0 || d.ranked.size() < size_t(d.kept))
        fail("sampling", "cannot sample from an empty distribution");
    double cum = 0;
    for (int i = 0; i < d.kept; i++) {
        const int id = d.ranked[i];
        cum += d.p_final[id];
        if (u < cum) return id;
    }
    return d.ranked[d.kept - 1];
}

}  // namespace ps
