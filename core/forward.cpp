// The forward pass, in the style of llama2.c's run.c, but over all T prompt positions at once:
// every projection is one matrix-matrix product on [T, dim] activations.
#include "core/forward.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <string>

#include "core/error.h"

namespace ps {

namespace {

using RowVector = Eigen::Matrix<float, 1, Eigen::Dynamic>;
using Stride = Eigen::OuterStride<>;
using ConstMap = Eigen::Map<const MatrixRM, 0, Stride>;

// Threads for the engine's parallel loops. Eigen itself runs single-threaded: the engine splits
// work explicitly, and only work big enough to repay a parallel region is split at all (on tiny
// models, waking a second thread costs more than the product, and more still on a busy machine).
std::atomic<int> g_threads{0};                // 0: all cores
constexpr double kMinParallelWork = 1 << 20;  // multiply-adds

int threads_for(double work) {
    if (work < kMinParallelWork) return 1;
    int n = g_threads.load();
    return n > 0 ? n : omp_get_num_procs();
}

// y[T, out] = x[T, in] W^T + b, with W used in place in whichever layout the file stores it.
// Split over blocks of output columns when it is worth it.
void linear(MatrixRM& y, const MatrixRM& x, const Linear& l) {
    const Eigen::Index T = x.rows();
    y.resize(T, l.out);
    const int n = threads_for(double(T) * l.in * l.out);
    const Eigen::Index block = ((l.out + n - 1) / n + 15) / 16 * 16;
#pragma omp parallel for num_threads(n) schedule(static) if (n > 1)
    for (int part = 0; part < n; ++part) {
        const Eigen::Index begin = part * block;
        const Eigen::Index cols = std::min<Eigen::Index>(block, l.out - begin);
        if (cols <= 0) continue;
        if (l.stored_in_out) {
            ConstMap w(l.w, l.in, l.out, Stride(l.row_stride()));  // [in, out]
            y.middleCols(begin, cols).noalias() = x * w.middleCols(begin, cols);
        } else {
            ConstMap w(l.w, l.out, l.in, Stride(l.row_stride()));  // [out, in]
            y.middleCols(begin, cols).noalias() = x * w.middleRows(begin, cols).transpose();
        }
    }
    if (l.b) y.rowwise() += Eigen::Map<const RowVector>(l.b, l.out);
}

// out = x / sqrt(mean(x^2) + eps) * gain, row by row (RMSNorm, llama).
void rmsnorm(MatrixRM& out, const MatrixRM& x, const float* gain, float eps) {
    const int dim = static_cast<int>(x.cols());
    out.resize(x.rows(), dim);
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
        float ss = x.row(t).squaredNorm() / static_cast<float>(dim) + eps;
        float scale = 1.0f / std::sqrt(ss);
        for (int i = 0; i < dim; ++i) out(t, i) = gain[i] * (scale * x(t, i));
    }
}

// out = (x - mean) / sqrt(var + eps) * gain + bias, row by row (LayerNorm, GPT-2).
void layernorm(MatrixRM& out, const MatrixRM& x, const float* gain, const float* bias, float eps) {
    const int dim = static_cast<int>(x.cols());
    out.resize(x.rows(), dim);
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
        float mean = x.row(t).mean();
        float var = (x.row(t).array() - mean).square().sum() / static_cast<float>(dim);
        float scale = 1.0f / std::sqrt(var + eps);
        for (int i = 0; i < dim; ++i) out(t, i) = (x(t, i) - mean) * scale * gain[i] + bias[i];
    }
}

void norm(MatrixRM& out, const MatrixRM& x, const Config& c, const float* gain, const float* bias) {
    if (c.arch == Arch::Gpt2)
        layernorm(out, x, gain, bias, c.norm_eps);
    else
        rmsnorm(out, x, gain, c.norm_eps);
}

// Rotary position embedding on every head of q [T, n_heads*hd] (or k), position t = row t.
// Interleaved rotates pairs (2i, 2i+1) like llama2.c; Half rotates (i, i + hd/2) like HF.
void rope(MatrixRM& q, int head_dim, float theta, RopeStyle style) {
    const int n_heads = static_cast<int>(q.cols()) / head_dim;
    const int half = head_dim / 2;
    for (Eigen::Index t = 0; t < q.rows(); ++t) {
        for (int i = 0; i < half; ++i) {
            float freq =
                1.0f / std::pow(theta, static_cast<float>(2 * i) / static_cast<float>(head_dim));
            float angle = static_cast<float>(t) * freq;
            float cos_a = std::cos(angle), sin_a = std::sin(angle);
            for (int h = 0; h < n_heads; ++h) {
                int a = h * head_dim + (style == RopeStyle::Interleaved ? 2 * i : i);
                int b = a + (style == RopeStyle::Interleaved ? 1 : half);
                float v0 = q(t, a), v1 = q(t, b);
                q(t, a) = v0 * cos_a - v1 * sin_a;
                q(t, b) = v0 * sin_a + v1 * cos_a;
            }
        }
    }
}

// Causal softmax attention for every head. q [T, n_heads*hd], k and v [T, n_kv_heads*hd];
// query heads share key/value heads in groups (grouped-query attention).
// out [T, n_heads*hd]; pattern (if not null) receives every head's [T, T] weights stacked.
void attention(MatrixRM& out, const MatrixRM& q, const MatrixRM& k, const MatrixRM& v,
               const Config& c, MatrixRM* pattern) {
    const int T = static_cast<int>(q.rows());
    const int hd = c.head_dim();
    const int group = c.n_heads / c.n_kv_heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    out.resize(T, c.dim);
    if (pattern) pattern->resize(static_cast<Eigen::Index>(c.n_heads) * T, T);

    const int n = threads_for(double(T) * T * hd * c.n_heads * 2);
#pragma omp parallel for num_threads(n) schedule(static) if (n > 1)
    for (int h = 0; h < c.n_heads; ++h) {
        const int kvh = h / group;
        auto qh = q.middleCols(h * hd, hd);
        auto kh = k.middleCols(kvh * hd, hd);
        auto vh = v.middleCols(kvh * hd, hd);
        MatrixRM scores = (qh * kh.transpose()) * scale;  // [T, T]
        for (int t = 0; t < T; ++t) {
            // softmax over keys 0..t; keys after t are masked to exactly 0
            float max_score = scores.row(t).head(t + 1).maxCoeff();
            float sum = 0.0f;
            for (int s = 0; s <= t; ++s) {
                scores(t, s) = std::exp(scores(t, s) - max_score);
                sum += scores(t, s);
            }
            for (int s = 0; s <= t; ++s) scores(t, s) /= sum;
            for (int s = t + 1; s < T; ++s) scores(t, s) = 0.0f;
        }
        out.middleCols(h * hd, hd).noalias() = scores * vh;
        if (pattern) pattern->middleRows(static_cast<Eigen::Index>(h) * T, T) = scores;
    }
}

// SwiGLU: silu(gate) * up, in place into gate (llama MLP).
void swiglu(MatrixRM& gate, const MatrixRM& up) {
    gate = (gate.array() / (1.0f + (-gate.array()).exp())) * up.array();
}

// GELU, tanh approximation (GPT-2's gelu_new).
void gelu(MatrixRM& x) {
    const float k = std::sqrt(2.0f / static_cast<float>(M_PI));
    x = 0.5f * x.array() * (1.0f + (k * (x.array() + 0.044715f * x.array().cube())).tanh());
}

void check_prompt(const Model& model, const std::vector<int>& ids) {
    const Config& c = model.config;
    if (ids.empty()) throw Error("the prompt is empty: at least one token is needed");
    if (static_cast<int>(ids.size()) > c.context_length)
        throw Error("the prompt has " + std::to_string(ids.size()) +
                    " tokens but the model's context window is " +
                    std::to_string(c.context_length) + " tokens");
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= c.vocab_size)
            throw Error("token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                        " is outside the vocabulary (0.." + std::to_string(c.vocab_size - 1) + ")");
}

}  // namespace

Trace forward(const Model& model, const std::vector<int>& ids, const TraceOptions& options) {
    check_prompt(model, ids);
    const Config& c = model.config;
    const Weights& w = model.weights;
    const int T = static_cast<int>(ids.size());

    Trace trace;
    trace.ids = ids;

    // Embedding lookup (and learned positions for GPT-2).
    MatrixRM x(T, c.dim);
    for (int t = 0; t < T; ++t)
        x.row(t) = Eigen::Map<const RowVector>(
            w.token_embedding + static_cast<size_t>(ids[t]) * c.dim, c.dim);
    if (options.residual) trace.embed = x;
    if (c.arch == Arch::Gpt2) {
        Eigen::Map<const MatrixRM> pos(w.position_embedding, T, c.dim);
        if (options.residual) trace.pos_embed = pos;
        x += pos;
    }

    MatrixRM xb, q, k, v, att, sub, gate, up;
    trace.layers.resize(static_cast<size_t>(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
        const LayerWeights& L = w.layers[static_cast<size_t>(l)];
        LayerTrace& lt = trace.layers[static_cast<size_t>(l)];
        if (options.residual) lt.resid_pre = x;

        // Attention block.
        norm(xb, x, c, L.attn_norm, L.attn_norm_bias);
        linear(q, xb, L.wq);
        linear(k, xb, L.wk);
        linear(v, xb, L.wv);
        if (c.arch == Arch::Llama) {
            rope(q, c.head_dim(), c.rope_theta, c.rope_style);
            rope(k, c.head_dim(), c.rope_theta, c.rope_style);
        }
        attention(att, q, k, v, c, options.attention ? &lt.pattern : nullptr);
        linear(sub, att, L.wo);
        if (options.sublayer_out) lt.attn_out = sub;
        x += sub;

        // MLP block.
        norm(xb, x, c, L.ffn_norm, L.ffn_norm_bias);
        if (c.arch == Arch::Llama) {
            linear(gate, xb, L.ffn_gate);
            linear(up, xb, L.ffn_up);
            swiglu(gate, up);
        } else {
            linear(gate, xb, L.ffn_up);
            gelu(gate);
        }
        if (options.neurons) lt.mlp_post = gate;
        linear(sub, gate, L.ffn_down);
        if (options.sublayer_out) lt.mlp_out = sub;
        x += sub;
        if (options.residual) lt.resid_post = x;
    }

    // Final norm and unembedding.
    norm(xb, x, c, w.final_norm, w.final_norm_bias);
    if (options.final_norm) trace.ln_final = xb;
    if (options.all_logits) {
        linear(trace.logits, xb, w.unembed);
    } else {
        MatrixRM last = xb.bottomRows(1);
        linear(trace.logits, last, w.unembed);
    }
    return trace;
}

std::vector<float> logit_lens(const Model& model, const float* residual) {
    const Config& c = model.config;
    MatrixRM x = Eigen::Map<const MatrixRM>(residual, 1, c.dim);
    MatrixRM xb, logits;
    norm(xb, x, c, model.weights.final_norm, model.weights.final_norm_bias);
    linear(logits, xb, model.weights.unembed);
    return std::vector<float>(logits.data(), logits.data() + logits.size());
}

MatrixRM logit_lens(const Model& model, const MatrixRM& residuals) {
    MatrixRM xb, logits;
    norm(xb, residuals, model.config, model.weights.final_norm, model.weights.final_norm_bias);
    linear(logits, xb, model.weights.unembed);
    return logits;
}

std::vector<NamedActivation> named_activations(const Trace& trace) {
    std::vector<NamedActivation> out;
    auto add = [&](const std::string& name, const MatrixRM& m) {
        if (m.size() > 0) out.push_back({name, {m.rows(), m.cols()}, m.data()});
    };
    const int64_t T = static_cast<int64_t>(trace.ids.size());
    add("hook_embed", trace.embed);
    add("hook_pos_embed", trace.pos_embed);
    for (size_t l = 0; l < trace.layers.size(); ++l) {
        const LayerTrace& lt = trace.layers[l];
        const std::string p = "blocks." + std::to_string(l) + ".";
        add(p + "hook_resid_pre", lt.resid_pre);
        if (lt.pattern.size() > 0)
            out.push_back(
                {p + "attn.hook_pattern", {lt.pattern.rows() / T, T, T}, lt.pattern.data()});
        add(p + "hook_attn_out", lt.attn_out);
        add(p + "mlp.hook_post", lt.mlp_post);
        add(p + "hook_mlp_out", lt.mlp_out);
        add(p + "hook_resid_post", lt.resid_post);
    }
    add("ln_final.hook_normalized", trace.ln_final);
    add("logits", trace.logits);
    return out;
}

void set_threads(int n) {
    g_threads = n > 0 ? n : 0;
}

}  // namespace ps
