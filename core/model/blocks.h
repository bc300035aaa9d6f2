// The transformer block of each architecture, built from the shared steps of core/model/ops.h,
// the way llama.cpp's src/models/*.cpp are: forward() runs one block function per layer.
#pragma once

#include <Eigen/Core>

#include "core/model/forward.h"
#include "core/model/model.h"

namespace ps {

// One layer of the forward pass over the new positions start .. start+Tn-1 of a prompt whose
// first `start` positions come from `old` (a reused trace, or nothing). Its steps compute the
// math and record each activation the options ask for into `trace`, named as TransformerLens
// names its hooks, after applying the interventions at each hook (attn.hook_z, hook_attn_out,
// mlp.hook_post, hook_mlp_out).
class LayerPass {
  public:
    LayerPass(const Config& c, const Weights& w, int layer, int start, const TraceOptions& options,
              Eigen::Index capacity, LayerTrace& trace, const LayerTrace& old,
              const Interventions& interventions);

    const Config& c;
    const LayerWeights& L;

    // out = norm(x) with `gain` (and `bias`, LayerNorm): the config's kind of norm.
    void norm(MatrixRM& out, const MatrixRM& x, const float* gain,
              const float* bias = nullptr) const;
    // Self-attention on the normalized stream xb [Tn, dim] -> [Tn, dim], after the output
    // projection: q, k, v (biases where present), q/k norms (Qwen3, Gemma 3), RoPE, masked
    // softmax over the cached and new keys (hook_rot_k, hook_v, hook_pattern).
    const MatrixRM& self_attention(const MatrixRM& xb);
    // The MLP on xb [Tn, dim] -> [Tn, dim]: act(gate) * up, or act(up) for GPT-2 (mlp.hook_post).
    const MatrixRM& mlp(const MatrixRM& xb);
    // x += out, recorded as hook_attn_out / hook_mlp_out: what the sublayer adds to the stream.
    void add_attention_out(MatrixRM& x, const MatrixRM& out);
    void add_mlp_out(MatrixRM& x, const MatrixRM& out);

  private:
    const Weights& w_;
    int layer_, start_;
    const TraceOptions& options_;
    Eigen::Index capacity_;
    LayerTrace& trace_;
    const LayerTrace& old_;
    const Interventions& interventions_;
    MatrixRM qkv_, q_, k_, v_, att_, attn_result_, gate_, up_, mlp_result_;

    void capture(Activation& into, const Activation& reused,
                 const Eigen::Ref<const MatrixRM>& fresh) const;
    // `out` after the interventions at `hook` (a copy in `changed` when there are some).
    const MatrixRM& intervened(Hook hook, const MatrixRM& out, MatrixRM& changed) const;
    MatrixRM changed_;
};

// x [Tn, dim] through one block, in place.
using BlockFunction = void (*)(LayerPass& p, MatrixRM& x);
// The block of architecture `a`.
BlockFunction block_function(Arch a);

}  // namespace ps
