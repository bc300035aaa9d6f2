// Scale sweeps (core/analysis/sweep.h).
#include "core/analysis/sweep.h"

#include <algorithm>
#include <numeric>

#include "core/analysis/importance.h"
#include "core/error.h"

namespace ps {

std::vector<float> factor_range(float low, float high, int steps) {
    if (steps < 2 || steps > 1000)
        throw Error("a sweep needs 2 to 1000 steps, not " + std::to_string(steps));
    std::vector<float> out(static_cast<size_t>(steps));
    for (int i = 0; i < steps; ++i)
        out[size_t(i)] = low + (high - low) * float(i) / float(steps - 1);
    return out;
}

ScaleSweep scale_sweep(const Model& model, const std::vector<int>& ids,
                       const Intervention& component, const std::vector<float>& factors,
                       std::vector<int> targets, const Interventions& interventions,
                       const SweepProgress& progress) {
    const Config& c = model.config;
    if (component.hook == Hook::ResidPre)
        throw Error("a sweep scales a head, a neuron or a sub-layer's output, not hook_resid_pre");
    if (factors.empty()) throw Error("a sweep needs at least one factor");
    if (component.layer < 0 || component.layer >= c.n_layers)
        throw Error("the sweep's layer " + std::to_string(component.layer) +
                    " is outside the model (0.." + std::to_string(c.n_layers - 1) + ")");
    Interventions kept;
    for (const Intervention& iv : interventions)
        if (!(iv.hook == component.hook && iv.layer == component.layer &&
              iv.unit == component.unit && iv.position == component.position))
            kept.push_back(iv);
    // The stream entering the component's layer, shared by every factor's run.
    TraceOptions with_stream = TraceOptions::none();
    with_stream.residual = true;
    const Trace base = forward(model, ids, with_stream, nullptr, kept);
    if (targets.empty()) {
        const float* last = base.logits.data() + (base.logits.rows() - 1) * base.logits.cols();
        std::vector<int> order(size_t(c.vocab_size));
        std::iota(order.begin(), order.end(), 0);
        const size_t k = std::min<size_t>(3, order.size());
        std::partial_sort(order.begin(), order.begin() + std::ptrdiff_t(k), order.end(),
                          [&](int a, int b) { return last[a] > last[b]; });
        targets.assign(order.begin(), order.begin() + std::ptrdiff_t(k));
    }
    for (int t : targets)
        if (t < 0 || t >= c.vocab_size)
            throw Error("the sweep's target token id " + std::to_string(t) +
                        " is outside the vocabulary (0.." + std::to_string(c.vocab_size - 1) + ")");
    ScaleSweep out;
    out.factors = factors;
    out.targets = targets;
    out.p.assign(targets.size(), std::vector<float>(factors.size(), 0.0f));
    for (size_t f = 0; f < factors.size(); ++f) {
        Interventions list = kept;
        Intervention scale = component;
        scale.action = Intervention::Action::Scale;
        scale.factor = factors[f];
        scale.enabled = true;
        scale.values.reset();
        list.push_back(scale);
        const Trace run = forward_from(model, base, component.layer, list, TraceOptions::none());
        const float* last = run.logits.data() + (run.logits.rows() - 1) * run.logits.cols();
        for (size_t t = 0; t < targets.size(); ++t)
            out.p[t][f] = static_cast<float>(probability_of(last, c.vocab_size, targets[t]));
        if (progress && !progress(int(f) + 1, int(factors.size()))) throw Cancelled();
    }
    return out;
}

}  // namespace ps
