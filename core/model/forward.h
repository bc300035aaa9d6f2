// The forward pass over all prompt positions at once, with a trace of every activation,
// named as TransformerLens names its hooks.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "core/model/intervention.h"
#include "core/model/model.h"
#include "core/tensor/activation.h"

namespace ps {

struct TraceOptions {
    bool residual = true;      // hook_embed, hook_pos_embed, blocks.L.hook_resid_pre/post
    bool attention = true;     // blocks.L.attn.hook_pattern
    bool sublayer_out = true;  // blocks.L.hook_attn_out, blocks.L.hook_mlp_out
    bool neurons = true;       // blocks.L.mlp.hook_post
    bool final_norm = true;    // ln_final.hook_normalized
    bool all_logits = true;    // logits at every position; false: the last position only
    bool keys_values = true;   // blocks.L.attn.hook_k / hook_v: the key/value cache that lets
                               // a longer prompt reuse this trace (forward's `reuse`)

    static TraceOptions none() { return {false, false, false, false, false, false, false}; }
    // Whether a trace captured with these options has everything `wanted` asks for.
    bool covers(const TraceOptions& wanted) const;
};

// Every activation but the attention pattern shares its rows with the trace it was extended
// from (core/tensor/activation.h).
struct LayerTrace {
    Activation resid_pre;  // [T, dim]
    // blocks.L.attn.hook_pattern, post-softmax, [T, heads * K]: row q holds every head's weights
    // over the keys, head h in columns h*K .. h*K+K-1. K >= T leaves room for the keys of tokens
    // appended later; weights past the query are 0, as the causal mask makes them.
    Activation pattern;
    int heads = 0;
    // Head h's [T, T] block: row = query, column = key.
    Eigen::Map<const MatrixRM, 0, Eigen::OuterStride<>> head_pattern(int h) const {
        const Eigen::Index keys = heads > 0 ? pattern.cols() / heads : 0;
        return {pattern.data() + h * keys, pattern.rows(), pattern.rows(),
                Eigen::OuterStride<>(pattern.cols())};
    }
    Activation k, v;        // [T, n_kv_heads * head_dim]: keys (after rotary embedding) and values
    Activation attn_out;    // [T, dim]
    Activation mlp_post;    // [T, hidden]: the neurons after the activation function
    Activation mlp_out;     // [T, dim]
    Activation resid_post;  // [T, dim]
};

struct Trace {
    std::vector<int> ids;
    TraceOptions options;  // what was captured
    int head_dim = 0;
    bool rotary = false;   // keys are stored after the rotary embedding (llama)
    Activation embed;      // hook_embed [T, dim]
    Activation pos_embed;  // hook_pos_embed [T, dim], GPT-2 only
    std::vector<LayerTrace> layers;
    Activation ln_final;          // ln_final.hook_normalized [T, dim]
    Activation logits;            // [T, vocab], or [1, vocab] (last position) without all_logits
    Interventions interventions;  // what the run changed (core/model/intervention.h)
    // The model's weight edits (core/model/weight_edit.h) as specs: a cache is reused only by a
    // run of a model with the same edits.
    std::vector<std::string> weight_edits;
};

// One captured activation: its hook name, shape and values (row-major).
struct NamedActivation {
    std::string name;
    std::vector<int64_t> shape;
    const float* data;
    // The values, when they had to be rearranged into this shape (the attention pattern).
    std::shared_ptr<const std::vector<float>> rearranged = nullptr;
};
// Every non-empty activation of `trace`, in forward order ("logits" last). `data` stays valid
// while both the trace and the returned vector live.
std::vector<NamedActivation> named_activations(const Trace& trace);

// Runs the model over `ids` (each < vocab_size, at most context_length of them).
// Throws ps::Error for an empty prompt, an out-of-range id, a prompt that is too long, or one
// whose trace would not fit in memory (forward_bytes).
//
// `reuse`, a trace of the same model captured with options covering `options` and the key/value
// cache, saves the work of the positions it shares with `ids`: the longest common prefix of the
// two prompts (all but the last token at most) is shared, not copied, and only the rest is
// computed, attending to the cached keys and values. Appending a token thus costs one position, and
// editing the prompt's end costs only the positions after the edit. Without a usable `reuse`
// every position is computed. The result is the same either way, up to float rounding.
//
// `interventions` change activations at their hooks as the pass goes (TransformerLens's
// run_with_hooks); the trace records the changed values and the list. A `reuse` run with other
// interventions shares only the positions before the first one where the two lists differ.
Trace forward(const Model& model, const std::vector<int>& ids,
              const TraceOptions& options = TraceOptions(), const Trace* reuse = nullptr,
              const Interventions& interventions = {});

// The layers from `layer` on again, from `base`'s hook_resid_pre there as recorded (`base`
// captured with `residual`; its interventions there are not applied again), with
// `interventions` at that layer's later hooks and the layers after it: `base`'s layers before
// `layer` and its embeddings are shared, not recomputed. What an ablation sweep over the
// heads of one layer needs (core/analysis/importance.h).
Trace forward_from(const Model& model, const Trace& base, int layer,
                   const Interventions& interventions, const TraceOptions& options);

// Bytes forward() writes for `tokens` positions: the trace `options` asks for (the attention
// patterns alone are n_heads * tokens * K floats per layer, K a few more keys than tokens) plus
// the pass's working buffers.
// forward() checks it against available_memory() (core/tensor/memory_budget.h) before allocating
// and refuses with a message naming the prompt length and the sizes.
uint64_t forward_bytes(const Config& c, int tokens, const TraceOptions& options);

// How many leading positions forward() would take from `reuse` for `ids` and `options`.
int reusable_prefix(const Model& model, const Trace* reuse, const std::vector<int>& ids,
                    const TraceOptions& options, const Interventions& interventions = {});

// The logit lens: final norm + unembedding applied to one residual vector [dim] -> [vocab].
std::vector<float> logit_lens(const Model& model, const float* residual);
// The same for every row of `residuals` [N, dim] at once -> [N, vocab] (one matrix product).
MatrixRM logit_lens(const Model& model, const Eigen::Ref<const MatrixRM>& residuals);

// The floating-point operations of forward()'s matrix products over `tokens` new positions
// after `cached` reused ones (2 per multiply-add; attention counted as computed, every query
// against every key it sees, masked ones included). Norms and activations are not counted.
double forward_flops(const Config& c, int tokens, bool all_logits, int cached = 0);

// Sets the number of threads the engine uses; 0 = all cores (the default).
void set_threads(int n);

}  // namespace ps
