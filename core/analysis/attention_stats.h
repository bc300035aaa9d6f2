// What each attention head does, in a few numbers: how much it looks at the previous token, at
// the first token (BOS, the usual "attention sink"), at itself, how spread out it looks
// (entropy), and whether it is an induction head (attends to the token that followed an earlier
// occurrence of the current token: "... A B ... A" -> B). Computed from the trace's patterns.
//
// Query 0 can only attend to itself, so every score averages over queries 1..T-1; with a single
// token the scores are NaN (undefined), and the induction score is NaN when no query has an
// earlier occurrence of its token.
#pragma once

#include <Eigen/Core>
#include <vector>

#include "core/model/forward.h"

namespace ps {

enum class HeadMetric { PreviousToken, FirstToken, Self, Entropy, Induction };
constexpr int kHeadMetricCount = 5;

// "previous_token", "first_token", "self", "entropy_bits", "induction".
const char* head_metric_name(HeadMetric m);

struct HeadScores {
    double previous_token = 0;  // mean of A[i][i-1]
    double first_token = 0;     // mean of A[i][0]
    double self = 0;            // mean of A[i][i]
    double entropy_bits = 0;    // mean of -sum_j A[i][j] log2 A[i][j]
    double induction = 0;       // mean over queries with targets of sum_{targets t} A[i][t]
    double get(HeadMetric m) const;
};

// For every query i, the induction targets: positions j+1 < i such that ids[j] == ids[i].
// (j+1 == i is left out: it is the query itself, which the self score already measures.)
std::vector<std::vector<int>> induction_targets(const std::vector<int>& ids);

// The scores of one head's [T, T] pattern (row = query, column = key). `targets` is
// induction_targets(ids) of the same T tokens. Throws ps::Error on mismatched sizes.
HeadScores head_scores(const Eigen::Ref<const MatrixRM>& pattern,
                       const std::vector<std::vector<int>>& targets);

// The query heads that share a key/value head (grouped-query attention): query head h reads
// kv head h / (n_heads / n_kv_heads).
int kv_head_of(const Config& c, int head);
std::vector<int> heads_sharing_kv(const Config& c, int kv_head);

struct AttentionStats {
    int n_layers = 0;
    int n_heads = 0;
    std::vector<HeadScores> heads;  // layer-major: heads[layer * n_heads + head]
    const HeadScores& at(int layer, int head) const {
        return heads[static_cast<size_t>(layer * n_heads + head)];
    }
};

// Every head of every layer of `trace`; empty (0 layers) when the trace has no patterns.
AttentionStats attention_stats(const Trace& trace);

}  // namespace ps
