// The effect of an intervention on one distribution (core/analysis/intervention_effect.h).
#include "core/analysis/intervention_effect.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace ps {

namespace {

// log softmax in double: log p(v) = logit(v) - max - log sum exp(logit - max).
std::vector<double> log_softmax(const float* logits, int vocab) {
    const double top = *std::max_element(logits, logits + vocab);
    double sum = 0;
    for (int v = 0; v < vocab; ++v) sum += std::exp(double(logits[v]) - top);
    const double log_sum = std::log(sum);
    std::vector<double> out(static_cast<size_t>(vocab));
    for (int v = 0; v < vocab; ++v) out[size_t(v)] = double(logits[v]) - top - log_sum;
    return out;
}

}  // namespace

InterventionEffect intervention_effect(const float* before, const float* after, int vocab,
                                       int top_n) {
    const std::vector<double> lb = log_softmax(before, vocab), la = log_softmax(after, vocab);
    InterventionEffect e;
    for (size_t v = 0; v < size_t(vocab); ++v) e.kl_divergence += std::exp(lb[v]) * (lb[v] - la[v]);
    e.kl_divergence = std::max(0.0, e.kl_divergence);  // rounding can leave -1e-17
    e.argmax_before = int(std::max_element(lb.begin(), lb.end()) - lb.begin());
    e.argmax_after = int(std::max_element(la.begin(), la.end()) - la.begin());
    std::vector<int> order(static_cast<size_t>(vocab));
    std::iota(order.begin(), order.end(), 0);
    auto larger = [&](int v) { return std::max(lb[size_t(v)], la[size_t(v)]); };
    const size_t n = std::min(size_t(std::max(top_n, 0)), order.size());
    std::partial_sort(
        order.begin(), order.begin() + std::ptrdiff_t(n), order.end(),
        [&](int a, int b) { return larger(a) > larger(b) || (larger(a) == larger(b) && a < b); });
    for (size_t i = 0; i < n; ++i) {
        const size_t v = size_t(order[i]);
        e.top.push_back({order[i], std::exp(lb[v]), std::exp(la[v])});
    }
    return e;
}

}  // namespace ps
