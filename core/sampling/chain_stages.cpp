// The sampler chain's stages (core/sampling/chain_stages.h), each as the named engine computes
// it; the source each follows is named above it.
#include "core/sampling/chain_stages.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

namespace ps::chain {

bool ranks_before(const Candidate& a, const Candidate& b) {
    return a.logit > b.logit || (a.logit == b.logit && a.id < b.id);
}

void sort_ranked(Candidates& cur) {
    if (!cur.sorted) std::sort(cur.c.begin(), cur.c.end(), ranks_before);
    cur.sorted = true;
}

namespace {

// The first k of the ranking, in order (the rest dropped).
void keep_first_ranked(Candidates& cur, size_t k) {
    k = std::min(k, cur.c.size());
    if (!cur.sorted) {
        std::partial_sort(cur.c.begin(), cur.c.begin() + static_cast<std::ptrdiff_t>(k),
                          cur.c.end(), ranks_before);
        cur.sorted = true;
    }
    cur.c.resize(k);
}

}  // namespace

// softmax of the candidates' logits, in their order (double; -inf gives 0).
std::vector<double> softmax(const Candidates& cur) {
    std::vector<double> p(cur.c.size());
    float max = -INFINITY;
    for (const Candidate& x : cur.c) max = std::max(max, x.logit);
    double sum = 0;
    for (size_t i = 0; i < p.size(); ++i) {
        p[i] = std::exp(double(cur.c[i].logit) - double(max));
        sum += p[i];
    }
    for (double& v : p) v /= sum;
    return p;
}

double entropy_bits(const std::vector<double>& p) {
    double h = 0;
    for (double v : p)
        if (v > 0) h -= v * std::log(v);
    return h / std::log(2.0);
}

// Candidates with logit -inf are out: they can never be drawn (top_n_sigma and greedy
// temperature mask this way, as llama.cpp does).
void drop_masked(Candidates& cur) {
    std::erase_if(cur.c, [](const Candidate& x) { return x.logit == -INFINITY; });
}

// --- the stages, one function each, named as the math ---------------------------------------

namespace {

// How often each token occurs in the last `window` tokens of the history (all: window < 0).
std::unordered_map<int, int> token_counts(const std::vector<int>& history, int window) {
    std::unordered_map<int, int> count;
    const size_t n = window < 0 ? history.size() : std::min(history.size(), size_t(window));
    for (size_t i = history.size() - n; i < history.size(); ++i) ++count[history[i]];
    return count;
}

}  // namespace

// llama.cpp llama_sampler_penalties_apply; Hugging Face RepetitionPenaltyLogitsProcessor
// (score < 0 ? score * penalty : score / penalty over every earlier token).
void penalties(Candidates& cur, const std::vector<int>& history, const ChainSettings& s,
               std::vector<int>& changed) {
    if (s.repeat_penalty == 1.0f && s.frequency_penalty == 0.0f && s.presence_penalty == 0.0f)
        return;
    const int window = s.flavor == ChainFlavor::HuggingFace ? -1 : s.penalty_last_n;
    if (window == 0) return;
    const std::unordered_map<int, int> count = token_counts(history, window);
    for (Candidate& x : cur.c) {
        const auto it = count.find(x.id);
        if (it == count.end()) continue;
        x.logit = x.logit <= 0 ? x.logit * s.repeat_penalty : x.logit / s.repeat_penalty;
        x.logit -= float(it->second) * s.frequency_penalty + s.presence_penalty;
        changed.push_back(x.id);
    }
    cur.sorted = false;
}

// llama.cpp llama_sampler_dry_apply, steps 1-4: the restart limit from the sequence breakers,
// the reverse Z-algorithm's repeat lengths, the longest repeat each next token would extend,
// and the penalty multiplier * base^(length - allowed).
void dry(Candidates& cur, const std::vector<int>& history, const ChainSettings& s,
         std::vector<int>& changed) {
    if (s.dry_multiplier == 0.0f || s.dry_base < 1.0f || s.dry_penalty_last_n == 0) return;
    const int n = std::min(static_cast<int>(history.size()), s.dry_penalty_last_n);
    if (n <= s.dry_allowed_length) return;
    auto rat = [&](int i) { return history[history.size() - 1 - size_t(i)]; };  // i-th from end
    int rep_limit = n;
    for (int i = 0; i < n; ++i) {
        const auto [first, last] = s.dry_breakers.equal_range(rat(i));
        if (first == last) continue;
        int longest = -1;
        for (auto it = first; it != last; ++it) {
            const int len = static_cast<int>(it->second.size());
            if (len <= longest || len > i) continue;
            bool match = true;
            for (int o = 0; o < len && match; ++o) match = it->second[size_t(o)] == rat(i - o - 1);
            if (match) longest = len;
        }
        if (longest >= 0) {
            rep_limit = i - longest;
            break;
        }
    }
    if (rep_limit < s.dry_allowed_length) return;
    // repeat[last - k]: how far the suffix of the history matches the tokens ending k back.
    std::vector<int> repeat(size_t(n), 0);
    const int last = n - 1;
    int lt = 0, rt = 0;
    for (int k = 1; k < n; ++k) {
        if (k > rt) {
            int len = 0;
            while (len + k < n && rat(len) == rat(len + k)) ++len;
            repeat[size_t(last - k)] = std::min(len, rep_limit);
            if (len > 0) {
                lt = k;
                rt = k + len - 1;
            }
        } else {
            const int pair = k - lt, right = rt - k + 1;
            if (repeat[size_t(last - pair)] < right) {
                repeat[size_t(last - k)] = std::min(repeat[size_t(last - pair)], rep_limit);
            } else {
                int i = rt + 1;
                while (i < n && rat(i) == rat(i - k)) ++i;
                repeat[size_t(last - k)] = std::min(i - k, rep_limit);
                lt = k;
                rt = i - 1;
            }
        }
    }
    std::unordered_map<int, int> max_repeat;  // next token -> the longest repeat it extends
    for (int i = 0; i < n - 1; ++i) {
        if (repeat[size_t(i)] < s.dry_allowed_length) continue;
        const int token = rat(n - 2 - i);
        int& m = max_repeat.try_emplace(token, 0).first->second;
        m = std::max(m, repeat[size_t(i)]);
    }
    const float kFloatMaxLog = 88.7228391f;
    const int max_exponent = s.dry_base > 1.000001f ? int(kFloatMaxLog / std::log(s.dry_base)) : 0;
    for (Candidate& x : cur.c) {
        const auto it = max_repeat.find(x.id);
        if (it == max_repeat.end()) continue;
        bool single_token_breaker = false;
        const auto [first, end] = s.dry_breakers.equal_range(x.id);
        for (auto b = first; b != end; ++b) single_token_breaker |= b->second.empty();
        if (single_token_breaker) continue;
        int exponent = it->second - s.dry_allowed_length;
        if (max_exponent > 0 && exponent > max_exponent) exponent = max_exponent;
        x.logit -= s.dry_multiplier * std::pow(s.dry_base, float(exponent));
        changed.push_back(x.id);
    }
    cur.sorted = false;
}

// llama.cpp llama_sampler_top_n_sigma_apply: mask logits below max - n * std (float sums).
void top_n_sigma(Candidates& cur, float n) {
    if (n <= 0.0f || cur.c.size() <= 1) return;
    float max = cur.c[0].logit, sum = 0;
    size_t valid = 0;
    for (const Candidate& x : cur.c)
        if (x.logit != -INFINITY) {
            max = std::max(max, x.logit);
            sum += x.logit;
            ++valid;
        }
    const float mean = valid > 0 ? sum / float(valid) : 0;
    float acc = 0;
    for (const Candidate& x : cur.c)
        if (x.logit != -INFINITY) acc += (x.logit - mean) * (x.logit - mean);
    const float sd = valid > 0 ? std::sqrt(acc / float(valid)) : 0;
    for (Candidate& x : cur.c)
        if (x.logit < max - n * sd) x.logit = -INFINITY;
}

// llama.cpp llama_sampler_top_k_impl; Hugging Face TopKLogitsWarper (scores < the k-th: out).
void top_k(Candidates& cur, int k, ChainFlavor flavor) {
    if (k <= 0 || size_t(k) >= cur.c.size()) return;
    if (flavor == ChainFlavor::LlamaCpp) return keep_first_ranked(cur, size_t(k));
    sort_ranked(cur);
    const float kth = cur.c[size_t(k) - 1].logit;
    size_t keep = size_t(k);
    while (keep < cur.c.size() && cur.c[keep].logit >= kth) ++keep;
    cur.c.resize(keep);
}

// llama.cpp llama_sampler_typical_apply; Hugging Face TypicalLogitsWarper.
void typical(Candidates& cur, float mass, ChainFlavor flavor) {
    if (mass >= 1.0f) return;
    sort_ranked(cur);
    const std::vector<double> p = softmax(cur);
    double h = 0;
    for (double v : p)
        if (v > 0) h -= v * std::log(v);
    std::vector<double> shifted(p.size());
    for (size_t i = 0; i < p.size(); ++i) shifted[i] = std::abs(-std::log(p[i]) - h);
    std::vector<size_t> order(p.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return shifted[a] < shifted[b]; });
    size_t keep = order.size();
    double cum = 0;
    if (flavor == ChainFlavor::LlamaCpp) {
        for (size_t i = 0; i < order.size(); ++i) {
            cum += p[order[i]];
            if (cum > mass) {
                keep = i + 1;
                break;
            }
        }
    } else {
        // last_ind = how many cumulative sums are < mass; tokens scoring above it go.
        size_t last_ind = 0;
        for (size_t i = 0; i < order.size(); ++i) {
            cum += p[order[i]];
            if (cum < mass) ++last_ind;
        }
        last_ind = std::min(last_ind, order.size() - 1);
        const double limit = shifted[order[last_ind]];
        keep = 0;
        while (keep < order.size() && (keep == 0 || shifted[order[keep]] <= limit)) ++keep;
    }
    std::vector<Candidate> kept;
    for (size_t i = 0; i < keep; ++i) kept.push_back(cur.c[order[i]]);
    cur.c = std::move(kept);
    cur.sorted = false;
}

// llama.cpp llama_sampler_top_p_apply (the smallest prefix with cumulative p >= top_p);
// Hugging Face TopPLogitsWarper (ascending cumulative p <= 1 - top_p removed, one kept).
void top_p(Candidates& cur, float top, ChainFlavor flavor) {
    if (top >= 1.0f) return;
    sort_ranked(cur);
    const std::vector<double> p = softmax(cur);
    size_t keep = p.size();
    if (flavor == ChainFlavor::LlamaCpp) {
        double cum = 0;
        for (size_t i = 0; i < p.size(); ++i) {
            cum += p[i];
            if (cum >= top) {
                keep = i + 1;
                break;
            }
        }
    } else {
        double cum = 0;  // from the least likely up
        size_t removed = 0;
        for (size_t i = p.size(); i-- > 1;) {
            cum += p[i];
            if (cum > 1.0 - double(top)) break;
            ++removed;
        }
        keep = p.size() - removed;
    }
    cur.c.resize(keep);
}

// llama.cpp llama_sampler_min_p_apply (logit >= max + ln min_p); Hugging Face MinPLogitsWarper
// (p >= min_p * p_max).
void min_p(Candidates& cur, float min, ChainFlavor flavor) {
    if (min <= 0.0f || cur.c.empty()) return;
    float max = -INFINITY;
    for (const Candidate& x : cur.c) max = std::max(max, x.logit);
    if (flavor == ChainFlavor::LlamaCpp) {
        const float limit = max + std::log(min);
        std::erase_if(cur.c, [&](const Candidate& x) { return x.logit < limit; });
    } else {
        const double limit = std::log(double(min));
        std::erase_if(cur.c,
                      [&](const Candidate& x) { return double(x.logit) - double(max) < limit; });
    }
}

// llama.cpp llama_sample_xtc_apply: with probability `chance`, every token with p >= threshold
// but the last of them (in ranking order) goes.
bool xtc(Candidates& cur, float probability, float threshold, ChainRandom& random) {
    if (probability <= 0.0f || threshold > 0.5f || cur.c.size() < 2) return false;
    if (random.next_xtc() > probability) return false;
    sort_ranked(cur);
    const std::vector<double> p = softmax(cur);
    size_t last = 0;
    for (size_t i = 0; i < p.size() && p[i] >= threshold; ++i) last = i;
    if (last > 0) cur.c.erase(cur.c.begin(), cur.c.begin() + std::ptrdiff_t(last));
    return true;
}

// llama.cpp llama_sampler_temp_impl: T <= 0 keeps the top token only (the first of equal
// ones in id order); else logits / T.
void temperature(Candidates& cur, float t) {
    if (cur.c.empty()) return;
    if (t <= 0.0f) {
        size_t best = 0;
        for (size_t i = 1; i < cur.c.size(); ++i)
            if (ranks_before(cur.c[i], cur.c[best])) best = i;
        cur.c = {cur.c[best]};
        cur.sorted = true;
        return;
    }
    for (Candidate& x : cur.c) x.logit /= t;
}

}  // namespace ps::chain
