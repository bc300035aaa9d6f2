// Head importance by ablation (core/analysis/importance.h).
#include "core/analysis/importance.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace ps {

double probability_of(const float* logits, int vocab, int id) {
    const float top = *std::max_element(logits, logits + vocab);
    double sum = 0;
    for (int v = 0; v < vocab; ++v) sum += std::exp(double(logits[v]) - top);
    return std::exp(double(logits[id]) - top) / sum;
}

HeadImportance head_importance(const Model& model, const std::vector<int>& ids, int target_id,
                               const Interventions& interventions,
                               const ImportanceProgress& progress) {
    const Config& c = model.config;
    // The baseline keeps each layer's stream so that each ablated run starts at its layer.
    TraceOptions with_stream = TraceOptions::none();
    with_stream.residual = true;
    const Trace base = forward(model, ids, with_stream, nullptr, interventions);
    const float* last = base.logits.data() + (base.logits.rows() - 1) * base.logits.cols();
    HeadImportance out;
    out.target_id = target_id >= 0
                        ? target_id
                        : static_cast<int>(std::max_element(last, last + c.vocab_size) - last);
    if (out.target_id >= c.vocab_size)
        throw Error("the target token id " + std::to_string(target_id) +
                    " is outside the vocabulary (0.." + std::to_string(c.vocab_size - 1) + ")");
    out.baseline_p = static_cast<float>(probability_of(last, c.vocab_size, out.target_id));
    out.delta.assign(size_t(c.n_layers), std::vector<float>(size_t(c.n_heads), 0.0f));
    const int total = c.n_layers * c.n_heads;
    int done = 0;
    for (int l = 0; l < c.n_layers; ++l)
        for (int h = 0; h < c.n_heads; ++h) {
            Interventions list = interventions;
            Intervention ablate;
            ablate.hook = Hook::AttnZ;
            ablate.layer = l;
            ablate.unit = h;
            list.push_back(ablate);
            const Trace run = forward_from(model, base, l, list, TraceOptions::none());
            const double p = probability_of(run.logits.data(), c.vocab_size, out.target_id);
            out.delta[size_t(l)][size_t(h)] = static_cast<float>(out.baseline_p - p);
            if (progress && !progress(++done, total)) throw Cancelled();
        }
    return out;
}

}  // namespace ps
