// Head importance: ablate each attention head in turn and measure how much the probability of
// one next token drops: "which heads matter for this prediction" (the attribution by ablation
// of TransformerLens tutorials and of Wang et al.'s indirect-object circuit).
#pragma once

#include <functional>
#include <vector>

#include "core/model/forward.h"

namespace ps {

struct HeadImportance {
    int target_id = -1;       // the token whose probability is measured
    float baseline_p = 0.0f;  // its probability at the last position without the ablations
    // delta[l][h] = baseline_p - p(target) with head h of layer l zeroed (attn.hook_z) at every
    // position: positive when the head helps the prediction.
    std::vector<std::vector<float>> delta;
};

// Called after each head with (done, total); returning false cancels (throws ps::Cancelled).
using ImportanceProgress = std::function<bool(int done, int total)>;

// Every head's importance for `target_id` (-1: the model's top token) at the last position of
// `ids`, with `interventions` (the user's own, kept on during every run). The layers before an
// ablated head's layer are computed once and shared (forward_from), so a sweep costs about
// half of n_layers * n_heads full passes.
HeadImportance head_importance(const Model& model, const std::vector<int>& ids, int target_id,
                               const Interventions& interventions = {},
                               const ImportanceProgress& progress = nullptr);

// softmax(logits)[id] in double: one probability without building the distribution.
double probability_of(const float* logits, int vocab, int id);

}  // namespace ps
