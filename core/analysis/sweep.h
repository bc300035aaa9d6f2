// A dose-response sweep: scale one component (a head's z, a neuron, a whole attention or MLP
// sub-layer) by each factor of a range, 0 (silenced) through 1 (as trained) to 2 (doubled), and
// follow the probability of a few next tokens at the last position: how a prediction depends on
// one dial, not only whether it does.
#pragma once

#include <functional>
#include <vector>

#include "core/model/forward.h"

namespace ps {

struct ScaleSweep {
    std::vector<float> factors;
    std::vector<int> targets;           // the tokens followed
    std::vector<std::vector<float>> p;  // p[target][factor]: its probability at the last position
};

// Called after each factor with (done, total); returning false cancels (throws ps::Cancelled).
using SweepProgress = std::function<bool(int done, int total)>;

// `component` names the unit (its action, factor and enabled flag are ignored); it must act at
// attn.hook_z, mlp.hook_post, hook_attn_out or hook_mlp_out. `interventions` (the user's own)
// stay on in every run, except those acting on the same unit at the same position, which the
// sweep's factor replaces. `targets` empty: the three most likely tokens at factor 1. The layers
// before the component's are computed once and shared (forward_from).
ScaleSweep scale_sweep(const Model& model, const std::vector<int>& ids,
                       const Intervention& component, const std::vector<float>& factors,
                       std::vector<int> targets, const Interventions& interventions = {},
                       const SweepProgress& progress = nullptr);

// `steps` factors evenly from `low` to `high` inclusive (steps >= 2).
std::vector<float> factor_range(float low, float high, int steps);

}  // namespace ps
