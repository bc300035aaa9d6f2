// The shared steps of every architecture's forward pass (core/model/ops.h).
#include "core/model/ops.h"

#include <omp.h>

#include <algorithm>
#include <atomic>
#include <cmath>

#include "core/model/compact_weights.h"
#include "core/tensor/gemm.h"

namespace ps {

std::atomic<int> g_engine_threads{0};  // 0: all cores; set_threads (core/model/forward.h)

namespace {

using RowVector = Eigen::Matrix<float, 1, Eigen::Dynamic>;

// Threads for the engine's parallel loops. Eigen itself runs single-threaded: the engine splits
// work explicitly, and only work big enough to repay a parallel region is split at all (on tiny
// models, waking a second thread costs more than the product, and more still on a busy machine).
constexpr double kMinParallelWork = 1 << 20;  // multiply-adds

}  // namespace

int threads_for(double work) {
    if (work < kMinParallelWork) return 1;
    int n = g_engine_threads.load();
    return n > 0 ? n : omp_get_num_procs();
}

namespace {

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

}  // namespace

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

void rmsnorm(MatrixRM& out, const Eigen::Ref<const MatrixRM>& x, const float* gain, float eps,
             float offset) {
    const int dim = static_cast<int>(x.cols());
    out.resize(x.rows(), dim);
    for (Eigen::Index t = 0; t < x.rows(); ++t) {
        float ss = x.row(t).squaredNorm() / static_cast<float>(dim) + eps;
        float scale = 1.0f / std::sqrt(ss);
        for (int i = 0; i < dim; ++i) out(t, i) = (offset + gain[i]) * (scale * x(t, i));
    }
}

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
    if (c.layer_norm())
        layernorm(out, x, gain, bias, c.norm_eps);
    else
        rmsnorm(out, x, gain, c.norm_eps, c.norm_offset);
}

void head_rmsnorm(MatrixRM& x, int head_dim, const float* gain, const Config& c) {
    // [T, heads * head_dim] row-major is [T * heads, head_dim]: one RMSNorm row per head.
    Eigen::Map<MatrixRM> heads(x.data(), x.rows() * (x.cols() / head_dim), head_dim);
    MatrixRM normed;
    rmsnorm(normed, heads, gain, c.norm_eps, c.norm_offset);
    heads = normed;
}

std::vector<float> rope_frequencies(const Config& c, const Weights& w, int layer) {
    const int n = c.rotary_dims();
    const bool sliding_base = c.rope_theta_sliding > 0.0f && c.window(layer) > 0;
    const float theta = sliding_base ? c.rope_theta_sliding : c.rope_theta;
    std::vector<float> freq(static_cast<size_t>(n / 2));
    for (int i = 0; i < n / 2; ++i)
        freq[static_cast<size_t>(i)] =
            1.0f / std::pow(theta, static_cast<float>(2 * i) / static_cast<float>(n));
    if (sliding_base) return freq;  // Gemma 3's local layers: the default, unscaled RoPE
    const RopeScaling& s = c.rope_scaling;
    if (s.type == RopeScaling::Type::Linear) {
        for (float& f : freq) f /= s.factor;
    } else if (s.type == RopeScaling::Type::Llama3) {
        // Hugging Face's _compute_llama3_parameters: wavelengths longer than the original
        // context / low_freq_factor are slowed by `factor`, shorter than context /
        // high_freq_factor kept, and the band between blended.
        const float old_context = static_cast<float>(s.original_context);
        const float low_wavelen = old_context / s.low_freq_factor;
        const float high_wavelen = old_context / s.high_freq_factor;
        for (float& f : freq) {
            const float wavelen = 2.0f * static_cast<float>(M_PI) / f;
            if (wavelen > low_wavelen) {
                f /= s.factor;
            } else if (wavelen >= high_wavelen) {
                const float smooth = (old_context / wavelen - s.low_freq_factor) /
                                     (s.high_freq_factor - s.low_freq_factor);
                f = (1.0f - smooth) * f / s.factor + smooth * f;
            }
        }
    }
    if (w.rope_freq_factors)
        for (int i = 0; i < n / 2; ++i) freq[static_cast<size_t>(i)] /= w.rope_freq_factors[i];
    return freq;
}

void rope(MatrixRM& q, int head_dim, const std::vector<float>& inv_freq, RopeStyle style,
          int start) {
    const int n_heads = static_cast<int>(q.cols()) / head_dim;
    const int half = static_cast<int>(inv_freq.size());  // rotary_dims / 2
    for (Eigen::Index t = 0; t < q.rows(); ++t) {
        for (int i = 0; i < half; ++i) {
            float angle = static_cast<float>(start + t) * inv_freq[static_cast<size_t>(i)];
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

void attention(MatrixRM& out, const MatrixRM& q, const Activation& k, const Activation& v,
               const Config& c, int window, int start, Eigen::Map<MatrixRM>* pattern) {
    const int Tq = static_cast<int>(q.rows());
    const int T = static_cast<int>(k.rows());
    const int hd = c.head_dim();
    const int group = c.n_heads / c.n_kv_heads;
    const float scale =
        c.attn_scale > 0.0f ? c.attn_scale : 1.0f / std::sqrt(static_cast<float>(hd));
    out.resize(Tq, c.q_dim());

    const int n = threads_for(double(Tq) * T * hd * c.n_heads * 2);
#pragma omp parallel for num_threads(n) schedule(static) if (n > 1)
    for (int h = 0; h < c.n_heads; ++h) {
        const int kvh = h / group;
        auto qh = q.middleCols(h * hd, hd);
        auto kh = k.middleCols(kvh * hd, hd);
        auto vh = v.middleCols(kvh * hd, hd);
        MatrixRM scores = (qh * kh.transpose()) * scale;  // [Tq, T]
        softcap(scores, c.attn_softcap);
        for (int i = 0; i < Tq; ++i) {
            // softmax over the keys `first`..t the query sees; the others are exactly 0
            const int t = start + i;
            const int first = window > 0 ? std::max(0, t - window + 1) : 0;
            float max_score = scores.row(i).segment(first, t + 1 - first).maxCoeff();
            float sum = 0.0f;
            for (int s = first; s <= t; ++s) {
                scores(i, s) = std::exp(scores(i, s) - max_score);
                sum += scores(i, s);
            }
            for (int s = first; s <= t; ++s) scores(i, s) /= sum;
            for (int s = 0; s < first; ++s) scores(i, s) = 0.0f;
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

void swiglu(MatrixRM& gate, const MatrixRM& up) {
    gate = (gate.array() / (1.0f + (-gate.array()).exp())) * up.array();
}

void gelu(MatrixRM& x) {
    const float k = std::sqrt(2.0f / static_cast<float>(M_PI));
    x = 0.5f * x.array() * (1.0f + (k * (x.array() + 0.044715f * x.array().cube())).tanh());
}

void geglu(MatrixRM& gate, const MatrixRM& up) {
    gelu(gate);
    gate.array() *= up.array();
}

void softcap(Eigen::Ref<MatrixRM> x, float cap) {
    if (cap > 0.0f) x = cap * (x.array() / cap).tanh();
}

}  // namespace ps
