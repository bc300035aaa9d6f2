// The blocks of each architecture, and the steps they share. Two blocks cover every supported
// architecture; what else differs is in the Config and in which weights a model has:
//   pre_norm_block   GPT-2 (LayerNorm, GELU), Llama 2/3, Mistral, Qwen2, Qwen3, Phi-3 (RMSNorm,
//                    SwiGLU): HF LlamaDecoderLayer, llama.cpp src/models/llama.cpp
//   gemma3_block     Gemma 3: a norm before and after each sublayer, GeGLU:
//                    HF Gemma3DecoderLayer, llama.cpp src/models/gemma3.cpp
#include "core/model/blocks.h"

#include <algorithm>

#include "core/model/ops.h"

namespace ps {

LayerPass::LayerPass(const Config& config, const Weights& w, int layer, int start,
                     const TraceOptions& options, Eigen::Index capacity, LayerTrace& trace,
                     const LayerTrace& old, const Interventions& interventions)
    : c(config),
      L(w.layers[static_cast<size_t>(layer)]),
      w_(w),
      layer_(layer),
      start_(start),
      options_(options),
      capacity_(capacity),
      trace_(trace),
      old_(old),
      interventions_(interventions) {}

void LayerPass::capture(Activation& into, const Activation& reused,
                        const Eigen::Ref<const MatrixRM>& fresh) const {
    into = Activation::extend(reused, start_, fresh, capacity_);
}

const MatrixRM& LayerPass::intervened(Hook hook, const MatrixRM& out, MatrixRM& changed) const {
    if (!acts_at(interventions_, hook, layer_)) return out;
    changed = out;
    apply_interventions(interventions_, hook, layer_, start_, changed, c);
    return changed;
}

void LayerPass::norm(MatrixRM& out, const MatrixRM& x, const float* gain, const float* bias) const {
    ps::norm(out, x, c, gain, bias);
}

namespace {

// The first `rows` rows of `layer`'s pattern with each head's keys widened to K columns.
Activation widen_pattern(const LayerTrace& layer, Eigen::Index rows, Eigen::Index K) {
    const Eigen::Index old_keys = layer.pattern.cols() / layer.heads;
    MatrixRM wide = MatrixRM::Zero(rows, layer.heads * K);
    for (int h = 0; h < layer.heads; ++h)
        wide.middleCols(h * K, old_keys) =
            layer.pattern.topRows(rows).middleCols(h * old_keys, old_keys);
    return Activation(wide);
}

}  // namespace

const MatrixRM& LayerPass::self_attention(const MatrixRM& xb) {
    const int P = start_;
    const int Tn = static_cast<int>(xb.rows());
    const int T = P + Tn;
    if (const std::optional<Linear> fused = fused_qkv(L)) {
        linear(qkv_, xb, *fused);
        q_ = qkv_.leftCols(L.wq.out);
        k_ = qkv_.middleCols(L.wq.out, L.wk.out);
        v_ = qkv_.rightCols(L.wv.out);
    } else {
        linear(q_, xb, L.wq);
        linear(k_, xb, L.wk);
        linear(v_, xb, L.wv);
    }
    const int hd = c.head_dim();
    if (L.q_norm) head_rmsnorm(q_, hd, L.q_norm, c);
    if (L.k_norm) head_rmsnorm(k_, hd, L.k_norm, c);
    if (c.rotary()) {
        const std::vector<float> freq = rope_frequencies(c, w_, layer_);
        rope(q_, hd, freq, c.rope_style, P);
        rope(k_, hd, freq, c.rope_style, P);
    }
    // New queries against every key and value, cached ones included.
    Activation keys, values;
    capture(keys, old_.k, k_);
    capture(values, old_.v, v_);
    // Each pattern row has room for K keys: the reused trace's K while it has room for T, else
    // a new K (and the cached rows are laid out anew, once every few appended tokens).
    const Eigen::Index old_keys = old_.heads > 0 ? old_.pattern.cols() / old_.heads : 0;
    const Eigen::Index K = P > 0 && old_keys >= T ? old_keys : capacity_;
    // The new rows are written in place, straight into the trace.
    float* rows = nullptr;
    if (options_.attention) {
        trace_.heads = c.n_heads;
        trace_.pattern =
            Activation::extend(P > 0 && K != old_keys ? widen_pattern(old_, P, K) : old_.pattern, P,
                               Tn, c.n_heads * K, capacity_, &rows);
    }
    Eigen::Map<MatrixRM> pattern(rows, rows ? Tn : 0, rows ? c.n_heads * K : 0);
    attention(att_, q_, keys, values, c, c.window(layer_), P,
              options_.attention ? &pattern : nullptr);
    if (options_.keys_values) {
        trace_.k = std::move(keys);
        trace_.v = std::move(values);
    }
    // att_ [Tn, heads * head_dim] is attn.hook_z: each head's weighted sum of values.
    apply_interventions(interventions_, Hook::AttnZ, layer_, P, att_, c);
    linear(attn_result_, att_, L.wo);
    return attn_result_;
}

const MatrixRM& LayerPass::mlp(const MatrixRM& xb) {
    if (c.gated_mlp()) {
        linear(gate_, xb, L.ffn_gate);
        linear(up_, xb, L.ffn_up);
        if (c.arch == Arch::Gemma3)
            geglu(gate_, up_);
        else
            swiglu(gate_, up_);
    } else {
        linear(gate_, xb, L.ffn_up);
        gelu(gate_);
    }
    apply_interventions(interventions_, Hook::MlpPost, layer_, start_, gate_, c);
    if (options_.neurons) capture(trace_.mlp_post, old_.mlp_post, gate_);
    linear(mlp_result_, gate_, L.ffn_down);
    return mlp_result_;
}

void LayerPass::add_attention_out(MatrixRM& x, const MatrixRM& out) {
    const MatrixRM& added = intervened(Hook::AttnOut, out, changed_);
    if (options_.sublayer_out) capture(trace_.attn_out, old_.attn_out, added);
    x += added;
}

void LayerPass::add_mlp_out(MatrixRM& x, const MatrixRM& out) {
    const MatrixRM& added = intervened(Hook::MlpOut, out, changed_);
    if (options_.sublayer_out) capture(trace_.mlp_out, old_.mlp_out, added);
    x += added;
}

namespace {

// x += attention(norm(x)); x += mlp(norm(x)).
void pre_norm_block(LayerPass& p, MatrixRM& x) {
    MatrixRM xb;
    p.norm(xb, x, p.L.attn_norm, p.L.attn_norm_bias);
    p.add_attention_out(x, p.self_attention(xb));
    p.norm(xb, x, p.L.ffn_norm, p.L.ffn_norm_bias);
    p.add_mlp_out(x, p.mlp(xb));
}

// x += post_norm(attention(norm(x))); x += post_norm(mlp(pre_norm(x))). TransformerLens's
// hook_attn_out and hook_mlp_out are after the post norms (what is added to the stream).
void gemma3_block(LayerPass& p, MatrixRM& x) {
    MatrixRM xb, out;
    p.norm(xb, x, p.L.attn_norm);
    p.norm(out, p.self_attention(xb), p.L.post_attn_norm);
    p.add_attention_out(x, out);
    p.norm(xb, x, p.L.ffn_norm);
    p.norm(out, p.mlp(xb), p.L.post_ffn_norm);
    p.add_mlp_out(x, out);
}

}  // namespace

BlockFunction block_function(Arch a) {
    return a == Arch::Gemma3 ? gemma3_block : pre_norm_block;
}

}  // namespace ps
