// The naive reference of tests/support/decoder_fixtures.h: each Hugging Face modeling file's
// forward pass written out as scalar loops in double precision, sharing nothing with the engine.
#include <cmath>

#include "tests/support/decoder_fixtures.h"

namespace ps::test {

namespace {

using Matrix = std::vector<std::vector<double>>;  // [rows][cols]

// y[t] = W x[t] + b, W stored [out, in] row-major (nn.Linear).
Matrix linear(const Matrix& x, const std::vector<float>& W, const std::vector<float>* b, int out) {
    const size_t in = x[0].size();
    Matrix y(x.size(), std::vector<double>(size_t(out)));
    for (size_t t = 0; t < x.size(); ++t)
        for (int o = 0; o < out; ++o) {
            double sum = b ? (*b)[size_t(o)] : 0.0;
            for (size_t i = 0; i < in; ++i) sum += double(W[size_t(o) * in + i]) * x[t][i];
            y[t][size_t(o)] = sum;
        }
    return y;
}

// RMSNorm over `width`-wide groups of each row (the whole row, or each head), gain (1 + w) for
// Gemma (Gemma3RMSNorm), w otherwise (LlamaRMSNorm).
Matrix rmsnorm(const Matrix& x, const std::vector<float>& w, double eps, bool gemma, size_t width) {
    Matrix y = x;
    for (auto& row : y)
        for (size_t g = 0; g < row.size(); g += width) {
            double ss = 0;
            for (size_t i = 0; i < width; ++i) ss += row[g + i] * row[g + i];
            const double scale = 1.0 / std::sqrt(ss / double(width) + eps);
            for (size_t i = 0; i < width; ++i)
                row[g + i] = row[g + i] * scale * ((gemma ? 1.0 : 0.0) + w[i]);
        }
    return y;
}

// The rotary inverse frequencies of HF's rope initializers: default, linear, llama3.
std::vector<double> inv_freq(const DecoderSpec& s, double theta, bool scaled) {
    const int dim = int(s.hd() * s.partial_rotary);
    std::vector<double> f;
    for (int i = 0; i < dim; i += 2) f.push_back(1.0 / std::pow(theta, double(i) / dim));
    if (!scaled || s.rope_scaling.is_null()) return f;
    const std::string type = s.rope_scaling["rope_type"];
    const double factor = s.rope_scaling["factor"];
    if (type == "linear")
        for (double& x : f) x /= factor;
    if (type == "llama3") {  // _compute_llama3_parameters, written out
        const double low = s.rope_scaling.value("low_freq_factor", 1.0),
                     high = s.rope_scaling.value("high_freq_factor", 4.0),
                     old = s.rope_scaling.value("original_max_position_embeddings", 8192);
        for (double& x : f) {
            const double wavelen = 2 * M_PI / x;
            if (wavelen > old / low) {
                x = x / factor;
            } else if (!(wavelen < old / high)) {
                const double smooth = (old / wavelen - low) / (high - low);
                x = (1 - smooth) * x / factor + smooth * x;
            }
        }
    }
    return f;
}

// apply_rotary_pos_emb with rotate_half on the first rotary dims of each head.
void rope(Matrix& x, int heads, int hd, const std::vector<double>& freq) {
    const size_t half = freq.size();
    for (size_t t = 0; t < x.size(); ++t)
        for (int h = 0; h < heads; ++h) {
            double* v = x[t].data() + size_t(h) * hd;
            std::vector<double> out(v, v + 2 * half);
            for (size_t i = 0; i < half; ++i) {
                const double c = std::cos(double(t) * freq[i]), sn = std::sin(double(t) * freq[i]);
                out[i] = v[i] * c - v[i + half] * sn;
                out[i + half] = v[i + half] * c + v[i] * sn;
            }
            for (size_t i = 0; i < 2 * half; ++i) v[i] = out[i];
        }
}

double gelu_tanh(double x) {
    return 0.5 * x * (1 + std::tanh(std::sqrt(2 / M_PI) * (x + 0.044715 * x * x * x)));
}

std::vector<float> rows(const std::vector<float>& w, size_t first, size_t count, size_t in) {
    return {w.begin() + long(first * in), w.begin() + long((first + count) * in)};
}

}  // namespace

std::vector<double> naive_decoder_logits(const DecoderSpec& s, const HfWeights& w,
                                         const std::vector<int>& ids, const NaiveHook& hook) {
    const int T = int(ids.size()), d = s.dim, hd = s.hd(), H = s.heads, KV = s.kv_heads;
    const bool gemma = s.gemma();
    auto at = [&](const std::string& name) -> const std::vector<float>& { return w.at(name); };
    auto maybe = [&](const std::string& name) -> const std::vector<float>* {
        auto it = w.find(name);
        return it == w.end() ? nullptr : &it->second;
    };
    const std::vector<float>& E = at("model.embed_tokens.weight");
    Matrix x(size_t(T), std::vector<double>(size_t(d), 0.0));
    for (int t = 0; t < T; ++t)
        for (int i = 0; i < d; ++i)
            x[size_t(t)][size_t(i)] =
                E[size_t(ids[size_t(t)]) * d + i] * (gemma ? std::sqrt(double(d)) : 1.0);
    for (int l = 0; l < s.layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        call_hook(hook, "hook_resid_pre", l, x);
        Matrix h = rmsnorm(x, at(p + "input_layernorm.weight"), s.eps, gemma, size_t(d));
        Matrix q, k, v;
        if (s.phi3()) {
            const std::vector<float>& qkv = at(p + "self_attn.qkv_proj.weight");
            q = linear(h, rows(qkv, 0, size_t(H * hd), d), nullptr, H * hd);
            k = linear(h, rows(qkv, size_t(H * hd), size_t(KV * hd), d), nullptr, KV * hd);
            v = linear(h, rows(qkv, size_t((H + KV) * hd), size_t(KV * hd), d), nullptr, KV * hd);
        } else {
            q = linear(h, at(p + "self_attn.q_proj.weight"), maybe(p + "self_attn.q_proj.bias"),
                       H * hd);
            k = linear(h, at(p + "self_attn.k_proj.weight"), maybe(p + "self_attn.k_proj.bias"),
                       KV * hd);
            v = linear(h, at(p + "self_attn.v_proj.weight"), maybe(p + "self_attn.v_proj.bias"),
                       KV * hd);
        }
        if (s.qk_norm()) {
            q = rmsnorm(q, at(p + "self_attn.q_norm.weight"), s.eps, gemma, size_t(hd));
            k = rmsnorm(k, at(p + "self_attn.k_norm.weight"), s.eps, gemma, size_t(hd));
        }
        bool sliding = s.sliding_window > 0 && s.sliding_layers.empty();
        for (int x_ : s.sliding_layers) sliding = sliding || (s.sliding_window > 0 && x_ == l);
        const bool local_rope = gemma && sliding;
        const std::vector<double> freq =
            inv_freq(s, local_rope ? s.rope_local_theta : s.rope_theta, !local_rope);
        rope(q, H, hd, freq);
        rope(k, KV, hd, freq);
        const double scale =
            gemma ? 1.0 / std::sqrt(s.query_pre_attn_scalar) : 1.0 / std::sqrt(double(hd));
        Matrix att(size_t(T), std::vector<double>(size_t(H * hd), 0.0));
        for (int head = 0; head < H; ++head) {
            const int kvh = head / (H / KV);
            for (int i = 0; i < T; ++i) {
                std::vector<double> score(size_t(T), -INFINITY);
                double top = -INFINITY;
                for (int j = 0; j <= i; ++j) {
                    if (sliding && i - j >= s.sliding_window) continue;  // the window's mask
                    double dot = 0;
                    for (int e = 0; e < hd; ++e)
                        dot += q[size_t(i)][size_t(head * hd + e)] *
                               k[size_t(j)][size_t(kvh * hd + e)];
                    score[size_t(j)] = dot * scale;
                    top = std::max(top, score[size_t(j)]);
                }
                double sum = 0;
                for (double& sc : score) sum += sc = std::exp(sc - top);
                for (int j = 0; j <= i; ++j)
                    for (int e = 0; e < hd; ++e)
                        att[size_t(i)][size_t(head * hd + e)] +=
                            score[size_t(j)] / sum * v[size_t(j)][size_t(kvh * hd + e)];
            }
        }
        call_hook(hook, "attn.hook_z", l, att);
        Matrix o =
            linear(att, at(p + "self_attn.o_proj.weight"), maybe(p + "self_attn.o_proj.bias"), d);
        if (gemma)
            o = rmsnorm(o, at(p + "post_attention_layernorm.weight"), s.eps, true, size_t(d));
        call_hook(hook, "hook_attn_out", l, o);
        for (int t = 0; t < T; ++t)
            for (int i = 0; i < d; ++i) x[size_t(t)][size_t(i)] += o[size_t(t)][size_t(i)];

        h = rmsnorm(x,
                    at(p + (gemma ? "pre_feedforward_layernorm.weight"
                                  : "post_attention_layernorm.weight")),
                    s.eps, gemma, size_t(d));
        Matrix gate, up;
        if (s.phi3()) {  // Phi3MLP: gate_up_proj(x).chunk(2): gate first
            const std::vector<float>& gu = at(p + "mlp.gate_up_proj.weight");
            gate = linear(h, rows(gu, 0, size_t(s.hidden), d), nullptr, s.hidden);
            up = linear(h, rows(gu, size_t(s.hidden), size_t(s.hidden), d), nullptr, s.hidden);
        } else {
            gate = linear(h, at(p + "mlp.gate_proj.weight"), maybe(p + "mlp.gate_proj.bias"),
                          s.hidden);
            up = linear(h, at(p + "mlp.up_proj.weight"), maybe(p + "mlp.up_proj.bias"), s.hidden);
        }
        for (size_t t = 0; t < gate.size(); ++t)
            for (size_t i = 0; i < gate[t].size(); ++i) {
                const double g = gate[t][i];
                gate[t][i] = (gemma ? gelu_tanh(g) : g / (1 + std::exp(-g))) * up[t][i];
            }
        call_hook(hook, "mlp.hook_post", l, gate);
        Matrix m = linear(gate, at(p + "mlp.down_proj.weight"), maybe(p + "mlp.down_proj.bias"), d);
        if (gemma)
            m = rmsnorm(m, at(p + "post_feedforward_layernorm.weight"), s.eps, true, size_t(d));
        call_hook(hook, "hook_mlp_out", l, m);
        for (int t = 0; t < T; ++t)
            for (int i = 0; i < d; ++i) x[size_t(t)][size_t(i)] += m[size_t(t)][size_t(i)];
    }
    x = rmsnorm(x, at("model.norm.weight"), s.eps, gemma, size_t(d));
    const std::vector<float>& U = s.tied ? E : at("lm_head.weight");
    const int vocab = int(E.size() / size_t(d));
    Matrix logits = linear(x, U, nullptr, vocab);
    std::vector<double> out;
    for (const auto& row : logits)
        for (double z : row)
            out.push_back(s.final_softcap > 0 ? std::tanh(z / s.final_softcap) * s.final_softcap
                                              : z);
    return out;
}

}  // namespace ps::test
