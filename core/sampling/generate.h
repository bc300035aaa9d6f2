// Generation: continue a prompt token by token, each drawn from the sampling distribution of the
// last position, and keep what each step looked like (the token's probability when it was drawn,
// the entropy, the top of the distribution) so a view can show why each token was chosen.
// The one generation loop: `paramscope generate`, the GUI's Generate and the comparison view.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

#include "core/model/intervention.h"
#include "core/model/model.h"
#include "core/sampling/chain.h"
#include "core/sampling/sampling.h"

namespace ps {

class Tokenizer;

// Whether generation stops at `id`: end of text, or a BOS a SentencePiece model emits to start a
// new document.
bool is_stop_token(const Tokenizer& tok, int id);

struct TokenProbability {
    int id = -1;
    float p_final = 0;  // in the distribution sampled from
    float p_raw = 0;    // temperature 1, no filter
};

struct GeneratedStep {
    int token = -1;
    float p_final = 0;  // the drawn token's probability in the distribution it was drawn from
    float p_raw = 0;
    int rank = 0;  // of the drawn token by logit, 0 = most probable
    int kept = 0;
    double entropy_final_bits = 0, entropy_raw_bits = 0;
    std::vector<TokenProbability> top;  // the first top_n tokens by logit at this step
};

struct Generation {
    std::vector<GeneratedStep> steps;  // every drawn token, a final stop token included
    bool ended = false;                // the last step drew a stop token (is_stop_token)
    bool cancelled = false;

    // The drawn tokens without the final stop token: what is appended to the prompt.
    std::vector<int> continuation() const;
};

struct GenerateOptions {
    int steps = 32;  // at most this many tokens (fewer at a stop token or the context length)
    int top_n = 10;  // entries kept in GeneratedStep::top
    // Polled between steps; true stops with Generation::cancelled set.
    std::function<bool()> cancelled;
    Interventions interventions;  // applied at every step (core/model/intervention.h)
};

// Continues `ids` (non-empty) with `sampler`: each step runs the forward pass over the ids so
// far, applies `settings` to the last position's logits (full vocabulary) and draws with
// sampler.sample. The sampler advances one draw per step, so a caller holding it can go on.
Generation generate_tokens(const Model& model, std::vector<int> ids,
                           const SamplingSettings& settings, Sampler& sampler,
                           const GenerateOptions& options);
// The same through a sampler chain (core/sampling/chain.h): each step's history is the ids so
// far; `random` holds the stages' draws (XTC), `sampler` the final one. GeneratedStep::top then
// lists the most likely survivors.
Generation generate_tokens(const Model& model, std::vector<int> ids, const ChainSettings& chain,
                           ChainRandom& random, Sampler& sampler, const GenerateOptions& options);

}  // namespace ps
