#include "core/sampling/generate.h"

#include <algorithm>
#include <cmath>
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

// The loop both samplers share: `draw(logits, ids)` picks the next token and describes it.
template <class Draw>
static Generation generation_loop(const Model& model, std::vector<int> ids,
                                  const GenerateOptions& options, Draw draw) {
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
        GeneratedStep step = draw(trace.logits.data(), ids);
        previous = std::move(trace);
        const int next = step.token;
        g.steps.push_back(std::move(step));
        if (is_stop_token(tok, next)) {
            g.ended = true;
            break;
        }
        ids.push_back(next);
    }
    return g;
}

Generation generate_tokens(const Model& model, std::vector<int> ids,
                           const SamplingSettings& settings, Sampler& sampler,
                           const GenerateOptions& options) {
    const int vocab = model.config.vocab_size;
    return generation_loop(model, std::move(ids), options,
                           [&](const float* logits, const std::vector<int>&) {
                               const Distribution d = apply_sampling(logits, vocab, settings);
                               return describe_step(d, sampler.sample(d), options.top_n);
                           });
}

Generation generate_tokens(const Model& model, std::vector<int> ids, const ChainSettings& chain,
                           ChainRandom& random, Sampler& sampler, const GenerateOptions& options) {
    const int vocab = model.config.vocab_size;
    return generation_loop(
        model, std::move(ids), options, [&](const float* logits, const std::vector<int>& history) {
            const ChainResult r = apply_chain(logits, vocab, history, chain, random);
            // The raw distribution (temperature 1, nothing removed) for p_raw and the rank.
            const float max = *std::max_element(logits, logits + vocab);
            double sum = 0, entropy = 0;
            for (int v = 0; v < vocab; ++v) sum += std::exp(double(logits[v]) - max);
            for (int v = 0; v < vocab; ++v) {
                const double q = std::exp(double(logits[v]) - max) / sum;
                if (q > 0) entropy -= q * std::log2(q);
            }
            auto raw = [&](int id) { return float(std::exp(double(logits[id]) - max) / sum); };
            GeneratedStep step;
            step.token = sample_chain(r, sampler.next_uniform());
            step.p_final = r.p_final[size_t(step.token)];
            step.p_raw = raw(step.token);
            for (int v = 0; v < vocab; ++v)
                step.rank += logits[v] > logits[step.token] ||
                             (logits[v] == logits[step.token] && v < step.token);
            step.kept = static_cast<int>(r.ranked.size());
            step.entropy_final_bits = r.entropy_final_bits;
            step.entropy_raw_bits = entropy;
            const int n = std::clamp(options.top_n, 0, step.kept);
            for (int i = 0; i < n; i++) {
                const int id = r.ranked[size_t(i)];
                step.top.push_back({id, r.p_final[size_t(id)], raw(id)});
            }
            return step;
        });
}

}  // namespace ps
