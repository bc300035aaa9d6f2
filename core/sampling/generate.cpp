#include "core/sampling/generate.h"

#include <algorithm>
#include <string>

#include "core/error.h"
#include "core/model/forward.h"
#include "core/tokenizer/tokenizer.h"

namespace ps {

bool is_stop_token(const Tokenizer& tok, int id) {
    return id == tok.eos_id || (id == tok.bos_id && tok.kind() == "spm");
}

std::vector<int> Generation::continuation() const {
    std::vector<int> ids;
    for (const GeneratedStep& s : steps) ids.push_back(s.token);
    if (ended && !ids.empty()) ids.pop_back();
    return ids;
}

// What a view needs of one step's distribution, without keeping the whole vocabulary.
static GeneratedStep describe_step(const Distribution& d, int token, int top_n) {
    GeneratedStep step;
    step.token = token;
    step.p_final = d.p_final[static_cast<size_t>(token)];
    step.p_raw = d.p_raw[static_cast<size_t>(token)];
    step.rank =
        static_cast<int>(std::find(d.ranked.begin(), d.ranked.end(), token) - d.ranked.begin());
    step.kept = d.kept;
    step.entropy_final_bits = d.entropy_final_bits;
    step.entropy_raw_bits = d.entropy_raw_bits;
    const int n = std::clamp(top_n, 0, static_cast<int>(d.ranked.size()));
    for (int i = 0; i < n; i++) {
        const auto id = static_cast<size_t>(d.ranked[static_cast<size_t>(i)]);
        step.top.push_back({static_cast<int>(id), d.p_final[id], d.p_raw[id]});
    }
    return step;
}

Generation generate_tokens(const Model& model, std::vector<int> ids,
                           const SamplingSettings& settings, Sampler& sampler,
                           const GenerateOptions& options) {
    if (ids.empty() && options.steps > 0) fail("generate", "the prompt has no tokens");
    if (!model.tokenizer) fail("generate", "the model has no tokenizer");
    const Tokenizer& tok = *model.tokenizer;
    Generation g;
    // Each step keeps its keys and values, so the next one computes only the new position.
    TraceOptions cached = TraceOptions::none();
    cached.keys_values = true;
    Trace previous;
    for (int i = 0; i < options.steps; i++) {
        if (static_cast<int>(ids.size()) >= model.config.context_length) break;
        if (options.cancelled && options.cancelled()) {
            g.cancelled = true;
            break;
        }
        Trace trace =
            forward(model, ids, cached, i > 0 ? &previous : nullptr, options.interventions);
        const Distribution d =
            apply_sampling(trace.logits.data(), model.config.vocab_size, settings);
        previous = std::move(trace);
        const int next = sampler.sample(d);
        g.steps.push_back(describe_step(d, next, options.top_n));
        if (is_stop_token(tok, next)) {
            g.ended = true;
            break;
        }
        ids.push_back(next);
    }
    return g;
}

}  // namespace ps
