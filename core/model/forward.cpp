// The forward pass, in the style of llama2.c's run.c, but over all T prompt positions at once:
// every projection is one matrix-matrix product on [T, dim] activations.
#include "core/model/forward.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/model/compact_weights.h"
#include "core/tensor/gemm.h"
#include "core/tensor/memory_budget.h"

namespace ps {

namespace {

using RowVector = Eigen::Matrix<float, 1, Eigen::Dynamic>;

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

// Values per panel of a compact weight (4 MB as f32). Measured on GPT-2 124M in F16: panels
// of 64K values made products too thin for the kernel; panels dequantized and multiplied by
// every thread in turn needed two parallel regions per panel, and on a busy machine each
// region's barrier can wait for a descheduled thread (seconds per pass). So each thread takes
// its own contiguous share of the output units, panel after panel: one region per product, as
// for f32 weights.
constexpr int64_t kPanelValues = int64_t(1) << 20;

// Dequantizes output units first .. first+width-1 of a compact W into `panel`: [in, width] for
// a column block of [in, out], else [width, in] (rows of [out, in]).
void dequantize_panel(float* panel, const Linear& l, int first, int width) {
    const int rows = l.stored_in_out ? l.in : width;
    for (int r = 0; r < rows; ++r) {
        if (l.stored_in_out)
            dequantize(l.dtype, stored_row(l, r) + encoded_bytes(l.dtype, first),
                       panel + static_cast<size_t>(r) * width, width);
        else
            dequantize(l.dtype, stored_row(l, first + r), panel + static_cast<size_t>(r) * l.in,
                       l.in);
    }
}

// y[T, out] = x[T, in] W^T for a compact W: W is dequantized a panel of output units at a time
// (rows of [out, in], or a column block of [in, out]) into a per-thread buffer reused from call
// to call, and each panel is one product.
void linear_compact(float* y, const MatrixRM& x, const Linear& l) {
    const int T = static_cast<int>(x.rows());
    // Output units per panel and per thread: multiples of 16 (a column block then starts on a
    // block boundary: F16 and BF16 blocks are one value; validate() refuses others).
    const int panel =
        static_cast<int>(std::clamp<int64_t>(kPanelValues / l.in / 16 * 16, 16, int64_t(1) << 16));
    const int n = std::min(threads_for(double(T) * l.in * l.out), (l.out + 15) / 16);
    const int share = ((l.out + n - 1) / n + 15) / 16 * 16;
#pragma omp parallel num_threads(n) if (n > 1)
    {
        const int begin = omp_get_thread_num() * share;
        const int end = std::min(l.out, begin + share);
        thread_local std::vector<float> buffer;
        if (begin < end) buffer.resize(static_cast<size_t>(std::min(panel, end - begin)) * l.in);
        for (int first = begin; first < end; first += panel) {
            const int width = std::min(panel, end - first);
            dequantize_panel(buffer.data(), l, first, width);
            if (l.stored_in_out)
                gemm(y + first, l.out, x.data(), l.in, buffer.data(), width, T, width, l.in, false,
                     1);
            else
                gemm(y + first, l.out, x.data(), l.in, buffer.data(), l.in, T, width, l.in, true,
                     1);
        }
    }
}

// y[T, out] = x[T, in] W^T + b, with W used in place in whichever layout the file stores it
// (or dequantized panel by panel when compact). `y` is T rows of `out` floats that are already
// there: a working matrix, or a trace's own rows.
void linear_into(float* y, const MatrixRM& x, const Linear& l) {
    const int T = static_cast<int>(x.rows());
    if (l.compact())
        linear_compact(y, x, l);
    else
        gemm(y, l.out, x.data(), l.in, l.w, l.row_stride(), T, l.out, l.in, !l.stored_in_out,
             threads_for(double(T) * l.in * l.out));
    if (l.b) Eigen::Map<MatrixRM>(y, T, l.out).rowwise() += Eigen::Map<const RowVector>(l.b, l.out);
}

// The same into a matrix it sizes.
void linear(MatrixRM& y, const MatrixRM& x, const Linear& l) {
    y.resize(x.rows(), l.out);
    linear_into(y.data(), x, l);
}

// GPT-2 files store q, k and v as one tensor ([dim, 3*dim] or [3*dim, dim]): the three
// projections are then one product. The fused Linear, or nothing when they are separate tensors.
std::optional<Linear> fused_qkv(const LayerWeights& L) {
    const Linear &q = L.wq, &k = L.wk, &v = L.wv;
    if (q.stored_in_out != k.stored_in_out || q.stored_in_out != v.stored_in_out || q.in != k.in ||
        q.in != v.in || q.row_stride() != k.row_stride() || q.row_stride() != v.row_stride() ||
        q.dtype != k.dtype || q.dtype != v.dtype || q.compact() != k.compact() ||
        q.compact() != v.compact())
        return std::nullopt;
    // Where the following slice would start, in values from the start of `l`.
    auto next = [](const Linear& l) {
        return l.stored_in_out ? int64_t(l.out) : int64_t(l.out) * l.row_stride();
    };
    if (q.compact() ? k.raw != q.raw + encoded_bytes(q.dtype, next(q)) ||
                          v.raw != k.raw + encoded_bytes(q.dtype, next(k))
                    : k.w != q.w + next(q) || v.w != k.w + next(k))
        return std::nullopt;
    const bool no_bias = !q.b && !k.b && !v.b;
    const bool one_bias = q.b && k.b == q.b + q.out && v.b == k.b + k.out;
    if (!no_bias && !one_bias) return std::nullopt;
    Linear fused = q;
    fused.out = q.out + k.out + v.out;
    fused.ld = q.row_stride();
    if (q.stored_in_out && fused.ld != fused.out) return std::nullopt;
    return fused;
}

// out = x / sqrt(mean(x^2) + eps) * gain, row by row (RMSNorm, llama).
void rmsnorm(MatrixRM& out, const Eigen::Ref<const MatrixRM>& x, const float* gain, float eps) {
    const int dim = static_cast<int>(x.cols());
    out.resize(x.rows(), dim);
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
        float ss = x.row(t).squaredNorm() / static_cast<float>(dim) + eps;
        float scale = 1.0f / std::sqrt(ss);
        for (int i = 0; i < dim; ++i) out(t, i) = gain[i] * (scale * x(t, i));
    }
}

// out = (x - mean) / sqrt(var + eps) * gain + bias, row by row (LayerNorm, GPT-2).
void layernorm(MatrixRM& out, const Eigen::Ref<const MatrixRM>& x, const float* gain,
               const float* bias, float eps) {
    const int dim = static_cast<int>(x.cols());
    out.resize(x.rows(), dim);
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
        float mean = x.row(t).mean();
        float var = (x.row(t).array() - mean).square().sum() / static_cast<float>(dim);
        float scale = 1.0f / std::sqrt(var + eps);
        for (int i = 0; i < dim; ++i) out(t, i) = (x(t, i) - mean) * scale * gain[i] + bias[i];
    }
}

void norm(MatrixRM& out, const Eigen::Ref<const MatrixRM>& x, const Config& c, const float* gain,
          const float* bias) {
    if (c.arch == Arch::Gpt2)
        layernorm(out, x, gain, bias, c.norm_eps);
    else
        rmsnorm(out, x, gain, c.norm_eps);
}

// Rotary position embedding on every head of q [T, n_heads*hd] (or k); row t is at position
// start + t. Interleaved rotates pairs (2i, 2i+1) like llama2.c; Half rotates (i, i + hd/2) like
// HF.
void rope(MatrixRM& q, int head_dim, float theta, RopeStyle style, int start) {
    const int n_heads = static_cast<int>(q.cols()) / head_dim;
    const int half = head_dim / 2;
    for (Eigen::Index t = 0; t < q.rows(); ++t) {
        for (int i = 0; i < half; ++i) {
            float freq =
                1.0f / std::pow(theta, static_cast<float>(2 * i) / static_cast<float>(head_dim));
            float angle = static_cast<float>(start + t) * freq;
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

// Causal softmax attention for every head, for the queries of positions start .. start+Tq-1
// over the keys of positions 0 .. start+Tq-1. q [Tq, n_heads*hd], k and v [T, n_kv_heads*hd];
// query heads share key/value heads in groups (grouped-query attention). out [Tq, n_heads*hd].
// pattern (if not null, [Tq, n_heads*K] with K >= T) receives head h's weights in columns
// h*K .. h*K+T-1 and zeros in the rest of the head's K.
void attention(MatrixRM& out, const MatrixRM& q, const Activation& k, const Activation& v,
               const Config& c, int start, Eigen::Map<MatrixRM>* pattern) {
    const int Tq = static_cast<int>(q.rows());
    const int T = static_cast<int>(k.rows());
    const int hd = c.head_dim();
    const int group = c.n_heads / c.n_kv_heads;
    const float scale = 1.0f / std::sqrt(static_cast<float>(hd));
    out.resize(Tq, c.dim);

    const int n = threads_for(double(Tq) * T * hd * c.n_heads * 2);
#pragma omp parallel for num_threads(n) schedule(static) if (n > 1)
    for (int h = 0; h < c.n_heads; ++h) {
        const int kvh = h / group;
        auto qh = q.middleCols(h * hd, hd);
        auto kh = k.middleCols(kvh * hd, hd);
        auto vh = v.middleCols(kvh * hd, hd);
        MatrixRM scores = (qh * kh.transpose()) * scale;  // [Tq, T]
        for (int i = 0; i < Tq; ++i) {
            // softmax over keys 0..t; keys after t are masked to exactly 0
            const int t = start + i;
            float max_score = scores.row(i).head(t + 1).maxCoeff();
            float sum = 0.0f;
            for (int s = 0; s <= t; ++s) {
                scores(i, s) = std::exp(scores(i, s) - max_score);
                sum += scores(i, s);
            }
            for (int s = 0; s <= t; ++s) scores(i, s) /= sum;
            for (int s = t + 1; s < T; ++s) scores(i, s) = 0.0f;
        }
        out.middleCols(h * hd, hd).noalias() = scores * vh;
        if (pattern) {
            const Eigen::Index K = pattern->cols() / c.n_heads;
            pattern->middleCols(h * K, T) = scores;
            pattern->middleCols(h * K + T, K - T).setZero();
        }
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

// The first `rows` rows of `layer`'s pattern with each head's keys widened to K columns.
Activation widen_pattern(const LayerTrace& layer, Eigen::Index rows, Eigen::Index K) {
    const Eigen::Index old_keys = layer.pattern.cols() / layer.heads;
    MatrixRM wide = MatrixRM::Zero(rows, layer.heads * K);
    for (int h = 0; h < layer.heads; ++h)
        wide.middleCols(h * K, old_keys) =
            layer.pattern.topRows(rows).middleCols(h * old_keys, old_keys);
    return Activation(wide);
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

// Rows each captured activation has room for (and keys each pattern row): a few more than the
// prompt, so the next appended tokens extend the trace in place.
Eigen::Index trace_capacity(const Config& c, int tokens) {
    return std::min(c.context_length, tokens + std::max(16, tokens / 4));
}

}  // namespace

uint64_t forward_bytes(const Config& c, int tokens, const TraceOptions& o) {
    const uint64_t T = static_cast<uint64_t>(std::max(tokens, 0));
    const uint64_t dim = static_cast<uint64_t>(c.dim), kv = static_cast<uint64_t>(c.kv_dim()),
                   hidden = static_cast<uint64_t>(c.hidden_dim),
                   vocab = static_cast<uint64_t>(c.vocab_size),
                   heads = static_cast<uint64_t>(c.n_heads);
    // Floats per layer of the trace.
    uint64_t layer = 0;
    if (o.residual) layer += 2 * T * dim;  // resid_pre, resid_post
    // [T, heads * K], K a few more keys than T (trace_capacity).
    if (o.attention) layer += heads * T * static_cast<uint64_t>(trace_capacity(c, tokens));
    if (o.keys_values) layer += 2 * T * kv;
    if (o.sublayer_out) layer += 2 * T * dim;  // attn_out, mlp_out
    if (o.neurons) layer += T * hidden;
    uint64_t floats = static_cast<uint64_t>(c.n_layers) * layer;
    if (o.residual) floats += 2 * T * dim;  // embed, pos_embed
    if (o.final_norm) floats += T * dim;
    floats += (o.all_logits ? T : 1) * vocab;
    // Working buffers: x, xb, q/k/v (and a fused qkv), att, sub, gate, up, the keys and values
    // of every position, and one head's scores per thread.
    floats += T * (6 * dim + 2 * hidden + 5 * kv) + 2 * T * T;
    return 4 * floats;
}

bool TraceOptions::covers(const TraceOptions& w) const {
    return (residual || !w.residual) && (attention || !w.attention) &&
           (sublayer_out || !w.sublayer_out) && (neurons || !w.neurons) &&
           (final_norm || !w.final_norm) && (all_logits || !w.all_logits) &&
           (keys_values || !w.keys_values);
}

int reusable_prefix(const Model& model, const Trace* reuse, const std::vector<int>& ids,
                    const TraceOptions& options) {
    if (!reuse || !reuse->options.keys_values || !reuse->options.covers(options)) return 0;
    const Config& c = model.config;
    if (static_cast<int>(reuse->layers.size()) != c.n_layers ||
        reuse->layers[0].k.cols() != c.n_kv_heads * c.head_dim())
        return 0;
    const size_t limit = std::min(reuse->ids.size(), ids.size() - 1);
    size_t p = 0;
    while (p < limit && reuse->ids[p] == ids[p]) ++p;
    return static_cast<int>(p);
}

Trace forward(const Model& model, const std::vector<int>& ids, const TraceOptions& options,
              const Trace* reuse) {
    check_prompt(model, ids);
    const Config& c = model.config;
    const Weights& w = model.weights;
    const int T = static_cast<int>(ids.size());
    require_memory(model.path, forward_bytes(c, T, options),
                   "the forward pass over " + std::to_string(T) + " tokens with its trace");
    // Positions 0..P-1 come from `reuse`; the Tn positions P..T-1 are computed.
    const int P = reusable_prefix(model, reuse, ids, options);
    const int Tn = T - P;
    static const Trace kNoTrace;
    static const LayerTrace kNoLayer;
    const Trace& prev = P > 0 ? *reuse : kNoTrace;
    // Each captured activation: the reused rows, shared with `reuse`, then the new ones. Room for
    // a few more rows lets the next appended tokens extend it in place too.
    const Eigen::Index capacity = trace_capacity(c, T);
    auto capture = [&](Activation& into, const Activation& reused,
                       const Eigen::Ref<const MatrixRM>& fresh) {
        into = Activation::extend(reused, P, fresh, capacity);
    };

    Trace trace;
    trace.ids = ids;
    trace.options = options;
    trace.head_dim = c.head_dim();
    trace.rotary = c.arch == Arch::Llama;

    // Embedding lookup (and learned positions for GPT-2).
    MatrixRM x(Tn, c.dim);
    for (int t = 0; t < Tn; ++t) token_embedding_row(w, c.dim, ids[P + t], x.row(t).data());
    if (options.residual) capture(trace.embed, prev.embed, x);
    if (c.arch == Arch::Gpt2) {
        Eigen::Map<const MatrixRM> pos(w.position_embedding + static_cast<size_t>(P) * c.dim, Tn,
                                       c.dim);
        if (options.residual) capture(trace.pos_embed, prev.pos_embed, pos);
        x += pos;
    }

    MatrixRM xb, qkv, q, k, v, att, sub, gate, up;
    trace.layers.resize(static_cast<size_t>(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
        const LayerWeights& L = w.layers[static_cast<size_t>(l)];
        const LayerTrace& old = P > 0 ? prev.layers[static_cast<size_t>(l)] : kNoLayer;
        LayerTrace& lt = trace.layers[static_cast<size_t>(l)];
        if (options.residual) capture(lt.resid_pre, old.resid_pre, x);

        // Attention block: new queries against every key and value, cached ones included.
        norm(xb, x, c, L.attn_norm, L.attn_norm_bias);
        if (const std::optional<Linear> qkv_weights = fused_qkv(L)) {
            linear(qkv, xb, *qkv_weights);
            q = qkv.leftCols(L.wq.out);
            k = qkv.middleCols(L.wq.out, L.wk.out);
            v = qkv.rightCols(L.wv.out);
        } else {
            linear(q, xb, L.wq);
            linear(k, xb, L.wk);
            linear(v, xb, L.wv);
        }
        if (c.arch == Arch::Llama) {
            rope(q, c.head_dim(), c.rope_theta, c.rope_style, P);
            rope(k, c.head_dim(), c.rope_theta, c.rope_style, P);
        }
        Activation keys, values;
        capture(keys, old.k, k);
        capture(values, old.v, v);
        // Each pattern row has room for K keys: the reused trace's K while it has room for T,
        // else a new K (and the cached rows are laid out anew, once every few appended tokens).
        const Eigen::Index old_keys = old.heads > 0 ? old.pattern.cols() / old.heads : 0;
        const Eigen::Index K = P > 0 && old_keys >= T ? old_keys : capacity;
        // The new rows are written in place, straight into the trace.
        float* rows = nullptr;
        if (options.attention) {
            lt.heads = c.n_heads;
            lt.pattern =
                Activation::extend(P > 0 && K != old_keys ? widen_pattern(old, P, K) : old.pattern,
                                   P, Tn, c.n_heads * K, capacity, &rows);
        }
        Eigen::Map<MatrixRM> pattern(rows, rows ? Tn : 0, rows ? c.n_heads * K : 0);
        attention(att, q, keys, values, c, P, options.attention ? &pattern : nullptr);
        if (options.keys_values) {
            lt.k = std::move(keys);
            lt.v = std::move(values);
        }
        linear(sub, att, L.wo);
        if (options.sublayer_out) capture(lt.attn_out, old.attn_out, sub);
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
        if (options.neurons) capture(lt.mlp_post, old.mlp_post, gate);
        linear(sub, gate, L.ffn_down);
        if (options.sublayer_out) capture(lt.mlp_out, old.mlp_out, sub);
        x += sub;
        if (options.residual) capture(lt.resid_post, old.resid_post, x);
    }

    // Final norm and unembedding.
    norm(xb, x, c, w.final_norm, w.final_norm_bias);
    if (options.final_norm) capture(trace.ln_final, prev.ln_final, xb);
    MatrixRM logits;
    if (options.all_logits) {  // the biggest activation: computed straight into the trace
        float* rows = nullptr;
        trace.logits = Activation::extend(prev.logits, P, Tn, c.vocab_size, capacity, &rows);
        linear_into(rows, xb, w.unembed);
    } else {
        MatrixRM last = xb.bottomRows(1);
        linear(logits, last, w.unembed);
        trace.logits = Activation(logits);
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

MatrixRM logit_lens(const Model& model, const Eigen::Ref<const MatrixRM>& residuals) {
    MatrixRM xb, logits;
    norm(xb, residuals, model.config, model.weights.final_norm, model.weights.final_norm_bias);
    linear(logits, xb, model.weights.unembed);
    return logits;
}

std::vector<NamedActivation> named_activations(const Trace& trace) {
    std::vector<NamedActivation> out;
    auto add = [&](const std::string& name, const Activation& m) {
        if (m.size() > 0) out.push_back({name, {m.rows(), m.cols()}, m.data()});
    };
    const int64_t T = static_cast<int64_t>(trace.ids.size());
    add("hook_embed", trace.embed);
    add("hook_pos_embed", trace.pos_embed);
    for (size_t l = 0; l < trace.layers.size(); ++l) {
        const LayerTrace& lt = trace.layers[l];
        const std::string p = "blocks." + std::to_string(l) + ".";
        add(p + "hook_resid_pre", lt.resid_pre);
        if (lt.k.size() > 0 && trace.head_dim > 0) {
            // TransformerLens: keys after the rotary embedding are hook_rot_k.
            const int64_t heads = lt.k.cols() / trace.head_dim;
            out.push_back({p + (trace.rotary ? "attn.hook_rot_k" : "attn.hook_k"),
                           {T, heads, trace.head_dim},
                           lt.k.data()});
            out.push_back({p + "attn.hook_v", {T, heads, trace.head_dim}, lt.v.data()});
        }
        if (lt.pattern.size() > 0) {  // TransformerLens's [heads, T, T]
            auto values = std::make_shared<std::vector<float>>(size_t(lt.heads * T * T));
            for (int h = 0; h < lt.heads; ++h)
                Eigen::Map<MatrixRM>(values->data() + h * T * T, T, T) = lt.head_pattern(h);
            out.push_back({p + "attn.hook_pattern", {lt.heads, T, T}, values->data(), values});
        }
        add(p + "hook_attn_out", lt.attn_out);
        add(p + "mlp.hook_post", lt.mlp_post);
        add(p + "hook_mlp_out", lt.mlp_out);
        add(p + "hook_resid_post", lt.resid_post);
    }
    add("ln_final.hook_normalized", trace.ln_final);
    add("logits", trace.logits);
    return out;
}

double forward_flops(const Config& c, int tokens, bool all_logits, int cached) {
    const double T = tokens, seen = cached + tokens;
    const double mlp_in = (c.arch == Arch::Llama ? 2.0 : 1.0) * c.dim * c.hidden_dim;
    const double per_layer = T * (double(c.dim) * (c.dim + 2.0 * c.kv_dim()) +  // q, k, v
                                  double(c.dim) * c.dim +                       // output
                                  mlp_in + double(c.hidden_dim) * c.dim) +      // MLP
                             2.0 * T * seen * c.head_dim() * c.n_heads;  // scores, weighted sum
    const double unembed = (all_logits ? T : 1.0) * c.dim * double(c.vocab_size);
    return 2.0 * (c.n_layers * per_layer + unembed);
}

void set_threads(int n) {
    g_threads = n > 0 ? n : 0;
}

}  // namespace ps
