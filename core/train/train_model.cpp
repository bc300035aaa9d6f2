// GPT-2 forward and backward for training, one sequence at a time, in the style of llm.c: each
// operation has a forward that caches what its backward needs, and a backward that accumulates
// parameter gradients and returns the gradient of its input. Shapes: activations [T, C] row
// major; Conv1D weights [in, out], so a linear layer is y = x W + b.
#include "core/train/train_model.h"

#include <omp.h>

#include <cmath>
#include <string>

#include "core/error.h"

namespace ps {

namespace {

template <class S>
using Map = Eigen::Map<const MatrixR<S>>;
template <class S>
using MapMut = Eigen::Map<MatrixR<S>>;
template <class S>
using RowMap = Eigen::Map<const Eigen::Matrix<S, 1, Eigen::Dynamic>>;
template <class S>
using RowMapMut = Eigen::Map<Eigen::Matrix<S, 1, Eigen::Dynamic>>;

// ----- linear (Conv1D): y = x W + b, W [in, out] -----

template <class S>
void linear_forward(MatrixR<S>& y, const MatrixR<S>& x, const S* w, const S* b, int in, int out) {
    y.noalias() = x * Map<S>(w, in, out);
    y.rowwise() += RowMap<S>(b, out);
}

// dW += x^T dy, db += column sums of dy, dx = dy W^T. The column sums are added row by row:
// Eigen's vectorized colwise().sum() orders its additions by the destination's alignment,
// which would make the result depend on where the allocator put the gradient buffer.
template <class S>
void linear_backward(MatrixR<S>* dx, const MatrixR<S>& dy, const MatrixR<S>& x, const S* w, S* dw,
                     S* db, int in, int out) {
    MapMut<S>(dw, in, out).noalias() += x.transpose() * dy;
    RowMapMut<S> bias(db, out);
    for (Eigen::Index t = 0; t < dy.rows(); ++t) bias += dy.row(t);
    if (dx) dx->noalias() = dy * Map<S>(w, in, out).transpose();
}

// ----- LayerNorm: y = (x - mean) * rstd * w + b, rstd = 1 / sqrt(var + eps) -----

constexpr double kLayerNormEps = 1e-5;  // config.json's layer_norm_epsilon

template <class S>
void layernorm_forward(MatrixR<S>& y, VectorS<S>& mean, VectorS<S>& rstd, const MatrixR<S>& x,
                       const S* w, const S* b) {
    const Eigen::Index T = x.rows(), C = x.cols();
    y.resize(T, C);
    mean.resize(T);
    rstd.resize(T);
    for (Eigen::Index t = 0; t < T; ++t) {
        const S m = x.row(t).mean();
        const S var = (x.row(t).array() - m).square().sum() / static_cast<S>(C);
        const S r = S(1) / std::sqrt(var + static_cast<S>(kLayerNormEps));
        for (Eigen::Index i = 0; i < C; ++i) y(t, i) = (x(t, i) - m) * r * w[i] + b[i];
        mean(t) = m;
        rstd(t) = r;
    }
}

// With xhat = (x - mean) * rstd and g = dy * w:
// dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); dw += dy * xhat; db += dy.
// Adds dx into `dx` (the residual stream's gradient already flowing there).
template <class S>
void layernorm_backward(MatrixR<S>& dx, const MatrixR<S>& dy, const MatrixR<S>& x,
                        const VectorS<S>& mean, const VectorS<S>& rstd, const S* w, S* dw, S* db) {
    const Eigen::Index T = x.rows(), C = x.cols();
    Eigen::Matrix<S, Eigen::Dynamic, 1> xhat(C), g(C);
    for (Eigen::Index t = 0; t < T; ++t) {
        S g_mean = 0, gx_mean = 0;
        for (Eigen::Index i = 0; i < C; ++i) {
            xhat(i) = (x(t, i) - mean(t)) * rstd(t);
            g(i) = dy(t, i) * w[i];
            g_mean += g(i);
            gx_mean += g(i) * xhat(i);
            dw[i] += dy(t, i) * xhat(i);
            db[i] += dy(t, i);
        }
        g_mean /= static_cast<S>(C);
        gx_mean /= static_cast<S>(C);
        for (Eigen::Index i = 0; i < C; ++i)
            dx(t, i) += rstd(t) * (g(i) - g_mean - xhat(i) * gx_mean);
    }
}

// ----- GELU, tanh approximation (gelu_new), as core/model/forward.cpp computes it -----

template <class S>
S gelu_k() {
    return std::sqrt(S(2) / static_cast<S>(M_PI));
}

template <class S>
void gelu_forward(MatrixR<S>& y, const MatrixR<S>& x) {
    const S k = gelu_k<S>();
    y = S(0.5) * x.array() * (S(1) + (k * (x.array() + S(0.044715) * x.array().cube())).tanh());
}

// gelu(x) = x/2 (1 + tanh u), u = k (x + 0.044715 x^3):
// gelu'(x) = (1 + tanh u)/2 + x/2 (1 - tanh^2 u) k (1 + 3 * 0.044715 x^2).
template <class S>
void gelu_backward(MatrixR<S>& dx, const MatrixR<S>& dy, const MatrixR<S>& x) {
    const S k = gelu_k<S>();
    dx.resize(x.rows(), x.cols());
    for (Eigen::Index i = 0; i < x.size(); ++i) {
        const S v = x.data()[i];
        const S th = std::tanh(k * (v + S(0.044715) * v * v * v));
        const S grad = S(0.5) * (S(1) + th) +
                       S(0.5) * v * (S(1) - th * th) * k * (S(1) + S(3 * 0.044715) * v * v);
        dx.data()[i] = dy.data()[i] * grad;
    }
}

// ----- causal self-attention over qkv [T, 3d] = [q | k | v], heads of hd columns -----

// P = softmax(q k^T / sqrt(hd)) over keys s <= t (later keys exactly 0); y = P v.
template <class S>
void attention_forward(MatrixR<S>& y, MatrixR<S>& att, const MatrixR<S>& qkv, int n_heads) {
    const int T = static_cast<int>(qkv.rows());
    const int d = static_cast<int>(qkv.cols()) / 3;
    const int hd = d / n_heads;
    const S scale = S(1) / std::sqrt(static_cast<S>(hd));
    y.resize(T, d);
    att.resize(static_cast<Eigen::Index>(n_heads) * T, T);
    for (int h = 0; h < n_heads; ++h) {
        auto q = qkv.middleCols(h * hd, hd);
        auto k = qkv.middleCols(d + h * hd, hd);
        auto v = qkv.middleCols(2 * d + h * hd, hd);
        auto p = att.middleRows(static_cast<Eigen::Index>(h) * T, T);
        p.noalias() = (q * k.transpose()) * scale;
        for (int t = 0; t < T; ++t) {
            const S max_score = p.row(t).head(t + 1).maxCoeff();
            S sum = 0;
            for (int s = 0; s <= t; ++s) {
                p(t, s) = std::exp(p(t, s) - max_score);
                sum += p(t, s);
            }
            for (int s = 0; s <= t; ++s) p(t, s) /= sum;
            for (int s = t + 1; s < T; ++s) p(t, s) = 0;
        }
        y.middleCols(h * hd, hd).noalias() = p * v;
    }
}

// dP = dy v^T, dv = P^T dy; softmax: dS = P * (dP - rowsum(P * dP)); dq = dS k * scale,
// dk = dS^T q * scale. Masked entries have P = 0, so they get dS = 0.
template <class S>
void attention_backward(MatrixR<S>& dqkv, const MatrixR<S>& dy, const MatrixR<S>& att,
                        const MatrixR<S>& qkv, int n_heads) {
    const int T = static_cast<int>(qkv.rows());
    const int d = static_cast<int>(qkv.cols()) / 3;
    const int hd = d / n_heads;
    const S scale = S(1) / std::sqrt(static_cast<S>(hd));
    dqkv.resize(T, 3 * d);
    MatrixR<S> dp(T, T);
    for (int h = 0; h < n_heads; ++h) {
        auto q = qkv.middleCols(h * hd, hd);
        auto k = qkv.middleCols(d + h * hd, hd);
        auto v = qkv.middleCols(2 * d + h * hd, hd);
        auto p = att.middleRows(static_cast<Eigen::Index>(h) * T, T);
        auto dyh = dy.middleCols(h * hd, hd);
        dp.noalias() = dyh * v.transpose();
        dqkv.middleCols(2 * d + h * hd, hd).noalias() = p.transpose() * dyh;
        for (int t = 0; t < T; ++t) {
            const S dot = p.row(t).dot(dp.row(t));
            for (int s = 0; s < T; ++s) dp(t, s) = p(t, s) * (dp(t, s) - dot);
        }
        dqkv.middleCols(h * hd, hd).noalias() = (dp * k) * scale;
        dqkv.middleCols(d + h * hd, hd).noalias() = (dp.transpose() * q) * scale;
    }
}

// ----- cross-entropy over the vocabulary -----

// Turns logits into probabilities in place and returns sum_t -log p(target_t).
template <class S>
S softmax_cross_entropy(MatrixR<S>& logits, const int* targets) {
    S total = 0;
    for (Eigen::Index t = 0; t < logits.rows(); ++t) {
        auto row = logits.row(t);
        const S max_logit = row.maxCoeff();
        const S target_logit = row(targets[t]);
        row.array() = (row.array() - max_logit).exp();
        const S sum = row.sum();
        row /= sum;
        total += std::log(sum) + max_logit - target_logit;  // -log softmax(target)
    }
    return total;
}

}  // namespace

void check_shape(const Gpt2Shape& s) {
    auto need = [](bool ok, const std::string& what) {
        if (!ok) throw Error("model shape: " + what);
    };
    need(s.vocab_size >= 2 && s.vocab_size <= (1 << 20), "vocab size must be in 2..1048576");
    need(s.context_length >= 1 && s.context_length <= 8192, "context must be in 1..8192");
    need(s.dim >= 1 && s.dim <= 4096, "dim must be in 1..4096");
    need(s.n_layers >= 1 && s.n_layers <= 64, "layers must be in 1..64");
    need(s.n_heads >= 1 && s.n_heads <= s.dim, "heads must be in 1..dim");
    need(s.dim % s.n_heads == 0, "dim (" + std::to_string(s.dim) +
                                     ") must be a multiple of heads (" + std::to_string(s.n_heads) +
                                     ")");
}

std::vector<ParamTensor> gpt2_layout(const Gpt2Shape& s) {
    std::vector<ParamTensor> out;
    size_t offset = 0;
    auto add = [&](const std::string& name, std::vector<int64_t> shape) {
        size_t count = 1;
        for (int64_t n : shape) count *= static_cast<size_t>(n);
        out.push_back({name, shape, offset, count, shape.size() == 2});
        offset += count;
    };
    const int64_t d = s.dim, h = s.hidden_dim();
    add("wte.weight", {s.vocab_size, d});
    add("wpe.weight", {s.context_length, d});
    for (int l = 0; l < s.n_layers; ++l) {
        const std::string p = "h." + std::to_string(l) + ".";
        add(p + "ln_1.weight", {d});
        add(p + "ln_1.bias", {d});
        add(p + "attn.c_attn.weight", {d, 3 * d});
        add(p + "attn.c_attn.bias", {3 * d});
        add(p + "attn.c_proj.weight", {d, d});
        add(p + "attn.c_proj.bias", {d});
        add(p + "ln_2.weight", {d});
        add(p + "ln_2.bias", {d});
        add(p + "mlp.c_fc.weight", {d, h});
        add(p + "mlp.c_fc.bias", {h});
        add(p + "mlp.c_proj.weight", {h, d});
        add(p + "mlp.c_proj.bias", {d});
    }
    add("ln_f.weight", {d});
    add("ln_f.bias", {d});
    return out;
}

size_t gpt2_param_count(const Gpt2Shape& s) {
    const size_t d = static_cast<size_t>(s.dim);
    return static_cast<size_t>(s.vocab_size) * d + static_cast<size_t>(s.context_length) * d +
           static_cast<size_t>(s.n_layers) * (12 * d * d + 13 * d) + 2 * d;
}

double gpt2_training_flops_per_token(const Gpt2Shape& s) {
    const double d = s.dim, L = s.n_layers;
    return 6.0 * (L * 12.0 * d * d + static_cast<double>(s.vocab_size) * d) +
           12.0 * L * s.context_length * d;
}

template <class S>
Gpt2<S>::Gpt2(const Gpt2Shape& shape) : shape_(shape) {
    check_shape(shape);
    layout_ = gpt2_layout(shape);
    count_ = layout_.back().offset + layout_.back().count;
    size_t i = 0;
    auto next = [&] { return layout_[i++].offset; };
    wte_ = next();
    wpe_ = next();
    for (int l = 0; l < shape.n_layers; ++l) {
        LayerOffsets o;
        o.ln1_w = next(), o.ln1_b = next(), o.attn_w = next(), o.attn_b = next();
        o.proj_w = next(), o.proj_b = next(), o.ln2_w = next(), o.ln2_b = next();
        o.fc_w = next(), o.fc_b = next(), o.fc2_w = next(), o.fc2_b = next();
        off_.push_back(o);
    }
    lnf_w_ = next();
    lnf_b_ = next();
}

template <class S>
void Gpt2<S>::forward(const S* p, const int* ids, int T, SequenceActs<S>& a) const {
    const int d = shape_.dim, hidden = shape_.hidden_dim();
    // Token embedding plus learned position embedding.
    MatrixR<S> x(T, d);
    for (int t = 0; t < T; ++t)
        x.row(t) = RowMap<S>(p + wte_ + static_cast<size_t>(ids[t]) * d, d) +
                   RowMap<S>(p + wpe_ + static_cast<size_t>(t) * d, d);
    a.layers.resize(static_cast<size_t>(shape_.n_layers));
    MatrixR<S> sub;
    for (int l = 0; l < shape_.n_layers; ++l) {
        const LayerOffsets& o = off_[static_cast<size_t>(l)];
        LayerActs<S>& la = a.layers[static_cast<size_t>(l)];
        la.x_in = x;
        layernorm_forward(la.ln1, la.ln1_mean, la.ln1_rstd, x, p + o.ln1_w, p + o.ln1_b);
        linear_forward(la.qkv, la.ln1, p + o.attn_w, p + o.attn_b, d, 3 * d);
        attention_forward(la.att_y, la.att, la.qkv, shape_.n_heads);
        linear_forward(sub, la.att_y, p + o.proj_w, p + o.proj_b, d, d);
        la.x_mid = x + sub;
        layernorm_forward(la.ln2, la.ln2_mean, la.ln2_rstd, la.x_mid, p + o.ln2_w, p + o.ln2_b);
        linear_forward(la.fc, la.ln2, p + o.fc_w, p + o.fc_b, d, hidden);
        gelu_forward(la.fc_gelu, la.fc);
        linear_forward(sub, la.fc_gelu, p + o.fc2_w, p + o.fc2_b, hidden, d);
        x = la.x_mid + sub;
    }
    a.x_out = x;
    layernorm_forward(a.lnf, a.lnf_mean, a.lnf_rstd, x, p + lnf_w_, p + lnf_b_);
    // Tied unembedding: logits = lnf wte^T.
    a.logits.noalias() = a.lnf * Map<S>(p + wte_, shape_.vocab_size, d).transpose();
}

template <class S>
void Gpt2<S>::backward(const S* p, const int* ids, const int* targets, int T, S scale,
                       SequenceActs<S>& a, S* g) const {
    const int d = shape_.dim, hidden = shape_.hidden_dim(), V = shape_.vocab_size;
    // d(loss)/d(logits) = (softmax - onehot(target)) * scale; a.logits holds the softmax.
    MatrixR<S>& dlogits = a.logits;
    for (int t = 0; t < T; ++t) dlogits(t, targets[t]) -= S(1);
    dlogits *= scale;
    // logits = lnf wte^T: d wte += dlogits^T lnf, d lnf = dlogits wte.
    MapMut<S>(g + wte_, V, d).noalias() += dlogits.transpose() * a.lnf;
    MatrixR<S> dlnf = dlogits * Map<S>(p + wte_, V, d);
    MatrixR<S> dx = MatrixR<S>::Zero(T, d);
    layernorm_backward(dx, dlnf, a.x_out, a.lnf_mean, a.lnf_rstd, p + lnf_w_, g + lnf_w_,
                       g + lnf_b_);

    MatrixR<S> dsub, dfc_gelu, dfc, dln, datt_y, dqkv;
    for (int l = shape_.n_layers - 1; l >= 0; --l) {
        const LayerOffsets& o = off_[static_cast<size_t>(l)];
        const LayerActs<S>& la = a.layers[static_cast<size_t>(l)];
        // x_out = x_mid + gelu(ln2 Wfc + bfc) Wproj + bproj; dx is d(x_out) and becomes d(x_mid).
        linear_backward(&dfc_gelu, dx, la.fc_gelu, p + o.fc2_w, g + o.fc2_w, g + o.fc2_b, hidden,
                        d);
        gelu_backward(dfc, dfc_gelu, la.fc);
        linear_backward(&dln, dfc, la.ln2, p + o.fc_w, g + o.fc_w, g + o.fc_b, d, hidden);
        layernorm_backward(dx, dln, la.x_mid, la.ln2_mean, la.ln2_rstd, p + o.ln2_w, g + o.ln2_w,
                           g + o.ln2_b);
        // x_mid = x_in + attention(ln1 Wattn + battn) Wo + bo; dx becomes d(x_in).
        linear_backward(&datt_y, dx, la.att_y, p + o.proj_w, g + o.proj_w, g + o.proj_b, d, d);
        attention_backward(dqkv, datt_y, la.att, la.qkv, shape_.n_heads);
        linear_backward(&dln, dqkv, la.ln1, p + o.attn_w, g + o.attn_w, g + o.attn_b, d, 3 * d);
        layernorm_backward(dx, dln, la.x_in, la.ln1_mean, la.ln1_rstd, p + o.ln1_w, g + o.ln1_w,
                           g + o.ln1_b);
    }
    // x = wte[ids] + wpe[0..T).
    for (int t = 0; t < T; ++t) {
        RowMapMut<S>(g + wte_ + static_cast<size_t>(ids[t]) * d, d) += dx.row(t);
        RowMapMut<S>(g + wpe_ + static_cast<size_t>(t) * d, d) += dx.row(t);
    }
}

template <class S>
void Gpt2<S>::check_ids(const int* ids, int n) const {
    for (int i = 0; i < n; ++i)
        if (ids[i] < 0 || ids[i] >= shape_.vocab_size)
            throw Error("token id " + std::to_string(ids[i]) + " is outside the vocabulary (0.." +
                        std::to_string(shape_.vocab_size - 1) + ")");
}

template <class S>
MatrixR<S> Gpt2<S>::logits(const S* params, const int* ids, int T) const {
    if (T < 1 || T > shape_.context_length)
        throw Error("sequence length " + std::to_string(T) + " is outside 1.." +
                    std::to_string(shape_.context_length));
    check_ids(ids, T);
    SequenceActs<S> acts;
    forward(params, ids, T, acts);
    return std::move(acts.logits);
}

template <class S>
S Gpt2<S>::loss(const S* params, const int* inputs, const int* targets, int B, int T, S* grads,
                int threads) const {
    if (T < 1 || T > shape_.context_length || B < 1)
        throw Error("batch " + std::to_string(B) + " x " + std::to_string(T) +
                    " does not fit the model's context of " +
                    std::to_string(shape_.context_length));
    check_ids(inputs, B * T);
    check_ids(targets, B * T);
    const int chunks = std::max(1, std::min(threads, B));
    const S scale = S(1) / static_cast<S>(static_cast<size_t>(B) * T);
    std::vector<S> chunk_loss(static_cast<size_t>(chunks), S(0));
    // Chunk 0 accumulates straight into `grads`; the others into their own buffers.
    std::vector<std::vector<S>> buffers(static_cast<size_t>(chunks - (grads ? 1 : chunks)));
    if (grads) std::fill(grads, grads + count_, S(0));

#pragma omp parallel for schedule(static, 1) num_threads(chunks) if (chunks > 1)
    for (int c = 0; c < chunks; ++c) {
        S* g = nullptr;
        if (grads) {
            if (c == 0) {
                g = grads;
            } else {
                buffers[static_cast<size_t>(c - 1)].assign(count_, S(0));
                g = buffers[static_cast<size_t>(c - 1)].data();
            }
        }
        SequenceActs<S> acts;
        const int b0 = c * B / chunks, b1 = (c + 1) * B / chunks;
        for (int b = b0; b < b1; ++b) {
            const int* in = inputs + static_cast<size_t>(b) * T;
            const int* tg = targets + static_cast<size_t>(b) * T;
            forward(params, in, T, acts);
            chunk_loss[static_cast<size_t>(c)] += softmax_cross_entropy(acts.logits, tg);
            if (g) backward(params, in, tg, T, scale, acts, g);
        }
    }

    // Sum the chunks in a fixed order, so the result never depends on scheduling.
    if (grads && chunks > 1) {
        const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(count_);
#pragma omp parallel for schedule(static) num_threads(chunks)
        for (std::ptrdiff_t i = 0; i < n; ++i)
            for (const std::vector<S>& buf : buffers) grads[i] += buf[static_cast<size_t>(i)];
    }
    S total = 0;
    for (S l : chunk_loss) total += l;
    return total * scale;
}

template class Gpt2<float>;
template class Gpt2<double>;

}  // namespace ps
