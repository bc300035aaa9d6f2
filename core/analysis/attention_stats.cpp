#include "core/analysis/attention_stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>

#include "core/error.h"

namespace ps {

const char* head_metric_name(HeadMetric m) {
    switch (m) {
        case HeadMetric::PreviousToken:
            return "previous_token";
        case HeadMetric::FirstToken:
            return "first_token";
        case HeadMetric::Self:
            return "self";
        case HeadMetric::Entropy:
            return "entropy_bits";
        case HeadMetric::Induction:
            return "induction";
    }
    return "?";
}

double HeadScores::get(HeadMetric m) const {
    switch (m) {
        case HeadMetric::PreviousToken:
            return previous_token;
        case HeadMetric::FirstToken:
            return first_token;
        case HeadMetric::Self:
            return self;
        case HeadMetric::Entropy:
            return entropy_bits;
        case HeadMetric::Induction:
            return induction;
    }
    return std::numeric_limits<double>::quiet_NaN();
}

std::vector<std::vector<int>> induction_targets(const std::vector<int>& ids) {
    const int T = static_cast<int>(ids.size());
    std::vector<std::vector<int>> targets(static_cast<size_t>(T));
    for (int i = 0; i < T; ++i)
        for (int j = 0; j + 1 < i; ++j)
            if (ids[static_cast<size_t>(j)] == ids[static_cast<size_t>(i)])
                targets[static_cast<size_t>(i)].push_back(j + 1);
    return targets;
}

// Shannon entropy in bits of one attention row (zeros contribute nothing). Eigen's vectorized
// log keeps this cheap for long prompts: it runs on the GUI thread for every head.
static double row_entropy_bits(const float* row, int n) {
    const Eigen::Map<const Eigen::ArrayXf> p(row, n);
    // p * log(max(p, tiny)) is 0 at p = 0 like the limit, without a branch that would stop
    // the vectorization.
    const float nats = (p * p.max(std::numeric_limits<float>::min()).log()).sum();
    return -double(nats) / std::log(2.0);
}

HeadScores head_scores(const Eigen::Ref<const MatrixRM>& pattern,
                       const std::vector<std::vector<int>>& targets) {
    const int T = static_cast<int>(pattern.rows());
    if (pattern.cols() != T || static_cast<int>(targets.size()) != T)
        throw Error("attention pattern: expected [T, T] with T = " +
                    std::to_string(targets.size()) + " tokens, got [" +
                    std::to_string(pattern.rows()) + ", " + std::to_string(pattern.cols()) + "]");
    const double nan = std::numeric_limits<double>::quiet_NaN();
    HeadScores s;
    if (T < 2) return {nan, nan, nan, nan, nan};
    double induction_sum = 0;
    int induction_queries = 0;
    for (int i = 1; i < T; ++i) {
        s.previous_token += pattern(i, i - 1);
        s.first_token += pattern(i, 0);
        s.self += pattern(i, i);
        s.entropy_bits += row_entropy_bits(pattern.row(i).data(), i + 1);
        const auto& t = targets[static_cast<size_t>(i)];
        if (t.empty()) continue;
        for (int key : t) induction_sum += pattern(i, key);
        induction_queries++;
    }
    const double queries = T - 1;
    s.previous_token /= queries;
    s.first_token /= queries;
    s.self /= queries;
    s.entropy_bits /= queries;
    s.induction = induction_queries ? induction_sum / induction_queries : nan;
    return s;
}

int kv_head_of(const Config& c, int head) {
    const int group = c.n_kv_heads > 0 ? c.n_heads / c.n_kv_heads : 1;
    return head / std::max(1, group);
}

std::vector<int> heads_sharing_kv(const Config& c, int kv_head) {
    std::vector<int> heads;
    for (int h = 0; h < c.n_heads; ++h)
        if (kv_head_of(c, h) == kv_head) heads.push_back(h);
    return heads;
}

AttentionStats attention_stats(const Trace& trace) {
    AttentionStats stats;
    const int T = static_cast<int>(trace.ids.size());
    if (trace.layers.empty() || T == 0 || trace.layers[0].pattern.size() == 0) return stats;
    stats.n_layers = static_cast<int>(trace.layers.size());
    stats.n_heads = trace.layers[0].heads;
    const auto targets = induction_targets(trace.ids);
    stats.heads.reserve(static_cast<size_t>(stats.n_layers * stats.n_heads));
    for (const LayerTrace& layer : trace.layers)
        for (int h = 0; h < stats.n_heads; ++h)
            stats.heads.push_back(head_scores(layer.head_pattern(h), targets));
    return stats;
}

}  // namespace ps
