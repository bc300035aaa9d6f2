// The forward pass over all prompt positions at once, with a trace of every activation,
// named as TransformerLens names its hooks.
#pragma once

#include <Eigen/Core>
#include <string>
#include <vector>

#include "core/model.h"

namespace ps {

using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct TraceOptions {
    bool residual = true;      // hook_embed, hook_pos_embed, blocks.L.hook_resid_pre/post
    bool attention = true;     // blocks.L.attn.hook_pattern
    bool sublayer_out = true;  // blocks.L.hook_attn_out, blocks.L.hook_mlp_out
    bool neurons = true;       // blocks.L.mlp.hook_post
    bool final_norm = true;    // ln_final.hook_normalized
    bool all_logits = true;    // logits at every position; false: the last position only

    static TraceOptions none() { return {false, false, false, false, false, false}; }
};

struct LayerTrace {
    MatrixRM resid_pre;  // [T, dim]
    MatrixRM pattern;    // [n_heads * T, T]: head h is rows h*T .. h*T+T-1;
                         // row = query, column = key, post-softmax
    auto head_pattern(int h) const {
        return pattern.middleRows(h * pattern.cols(), pattern.cols());
    }
    MatrixRM attn_out;    // [T, dim]
    MatrixRM mlp_post;    // [T, hidden]: the neurons after the activation function
    MatrixRM mlp_out;     // [T, dim]
    MatrixRM resid_post;  // [T, dim]
};

struct Trace {
    std::vector<int> ids;
    MatrixRM embed;      // hook_embed [T, dim]
    MatrixRM pos_embed;  // hook_pos_embed [T, dim], GPT-2 only
    std::vector<LayerTrace> layers;
    MatrixRM ln_final;  // ln_final.hook_normalized [T, dim]
    MatrixRM logits;    // [T, vocab], or [1, vocab] (last position) without all_logits
};

// One captured activation: its hook name, shape and values (row-major).
struct NamedActivation {
    std::string name;
    std::vector<int64_t> shape;
    const float* data;
};
// Every non-empty activation of `trace`, in forward order ("logits" last).
std::vector<NamedActivation> named_activations(const Trace& trace);

// Runs the model over `ids` (each < vocab_size, at most context_length of them).
// Throws ps::Error for an empty prompt, an out-of-range id or a prompt that is too long.
Trace forward(const Model& model, const std::vector<int>& ids,
              const TraceOptions& options = TraceOptions());

// The logit lens: final norm + unembedding applied to one residual vector [dim] -> [vocab].
std::vector<float> logit_lens(const Model& model, const float* residual);
// The same for every row of `residuals` [N, dim] at once -> [N, vocab] (one matrix product).
MatrixRM logit_lens(const Model& model, const MatrixRM& residuals);

// Sets the number of threads the engine uses; 0 = all cores (the default).
void set_threads(int n);

}  // namespace ps
