// The steps of the math every architecture is built from (core/model/blocks.cpp), in the style of
// llama2.c's run.c: one function per step, named as the math is, over all T positions at once.
// Activations are row-major [T, width], one row per token.
#pragma once

#include <Eigen/Core>
#include <optional>
#include <vector>

#include "core/model/model.h"
#include "core/tensor/activation.h"

namespace ps {

// Threads worth using for `work` multiply-adds (1 below the size that repays a parallel region).
int threads_for(double work);

// y[T, out] = x[T, in] W^T + b into T rows of `out` floats that are already there, with W used
// in place in whichever layout the file stores it (dequantized a panel at a time when compact).
void linear_into(float* y, const MatrixRM& x, const Linear& l);
// The same into a matrix it sizes.
void linear(MatrixRM& y, const MatrixRM& x, const Linear& l);
// q, k and v stored as one tensor (GPT-2's c_attn, Phi-3's qkv_proj) as one Linear, so the three
// projections are one product; nothing when they are separate tensors.
std::optional<Linear> fused_qkv(const LayerWeights& L);

// out = x / sqrt(mean(x^2) + eps) * (offset + gain), row by row (RMSNorm; Gemma's offset is 1).
void rmsnorm(MatrixRM& out, const Eigen::Ref<const MatrixRM>& x, const float* gain, float eps,
             float offset = 0.0f);
// out = (x - mean) / sqrt(var + eps) * gain + bias, row by row (LayerNorm, GPT-2).
void layernorm(MatrixRM& out, const Eigen::Ref<const MatrixRM>& x, const float* gain,
               const float* bias, float eps);
// The config's norm of the residual stream: LayerNorm for GPT-2, RMSNorm otherwise.
void norm(MatrixRM& out, const Eigen::Ref<const MatrixRM>& x, const Config& c, const float* gain,
          const float* bias);
// RMSNorm of each head_dim-wide head of x [T, heads * head_dim], in place (Qwen3's and Gemma 3's
// q_norm and k_norm).
void head_rmsnorm(MatrixRM& x, int head_dim, const float* gain, const Config& c);

// RoPE's inverse frequencies [rotary_dims / 2] for `layer`: theta^(-2i/rotary_dims), scaled as
// the config says (linear, Llama 3's band, GGUF's per-frequency factors); Gemma 3's sliding
// layers use their own unscaled base.
std::vector<float> rope_frequencies(const Config& c, const Weights& w, int layer);
// Rotates the first rotary_dims of every head of q [T, n_heads*head_dim] (or k) by position
// start + t: pairs (2i, 2i+1) when interleaved, (i, i + rotary_dims/2) when rotate-half.
void rope(MatrixRM& q, int head_dim, const std::vector<float>& inv_freq, RopeStyle style,
          int start);

// Causal softmax attention for every head, for the queries of positions start .. start+Tq-1
// over the keys of positions 0 .. start+Tq-1 (only the last `window` of them when window > 0).
// q [Tq, n_heads*hd], k and v [T, n_kv_heads*hd]; query heads share key/value heads in groups
// (grouped-query attention). out [Tq, n_heads*hd]. pattern (if not null, [Tq, n_heads*K] with
// K >= T) receives head h's weights in columns h*K .. h*K+T-1 and zeros in the rest.
void attention(MatrixRM& out, const MatrixRM& q, const Activation& k, const Activation& v,
               const Config& c, int window, int start, Eigen::Map<MatrixRM>* pattern);

// SwiGLU: silu(gate) * up, in place into gate (Llama's MLP).
void swiglu(MatrixRM& gate, const MatrixRM& up);
// GeGLU: gelu_tanh(gate) * up, in place into gate (Gemma's MLP).
void geglu(MatrixRM& gate, const MatrixRM& up);
// GELU, tanh approximation (GPT-2's gelu_new, Gemma's gelu_pytorch_tanh).
void gelu(MatrixRM& x);
// x -> cap * tanh(x / cap) (Gemma's soft-capping); nothing when cap is 0.
void softcap(Eigen::Ref<MatrixRM> x, float cap);

}  // namespace ps
