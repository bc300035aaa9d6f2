#include "tests/support/decoder_fixtures.h"

#include <cmath>
#include <random>

#include "tests/support/gguf_writer.h"
#include "tests/support/hf_writer.h"
#include "tests/support/tiny_fixtures.h"

namespace ps::test {

using json = nlohmann::json;

namespace {

std::string layer(int l) {
    return "model.layers." + std::to_string(l) + ".";
}

// The input width of a matrix: what its rows are as long as.
int64_t matrix_in(const std::string& name, const DecoderSpec& s) {
    if (name.find("down_proj") != std::string::npos) return s.hidden;
    if (name.find("o_proj") != std::string::npos) return int64_t(s.heads) * s.hd();
    return s.dim;
}

}  // namespace

int decoder_vocab_size() {
    return static_cast<int>(small_spm_vocab().pieces.size());
}

HfWeights random_decoder_weights(const DecoderSpec& s, int vocab, unsigned seed) {
    std::mt19937 rng(seed);
    // Multiples of 2^-10: exact in F16. Matrices within +-0.125, norm gains near their unit.
    auto values = [&](size_t n, int range, float center) {
        std::uniform_int_distribution<int> k(-range, range);
        std::vector<float> v(n);
        for (float& x : v) x = center + static_cast<float>(k(rng)) / 1024.0f;
        return v;
    };
    const size_t d = s.dim, q = size_t(s.heads) * s.hd(), kv = size_t(s.kv_heads) * s.hd(),
                 h = s.hidden, hd = s.hd();
    const float unit = s.gemma() ? 0.0f : 1.0f;  // Gemma's gains are (1 + w)
    HfWeights w;
    w["model.embed_tokens.weight"] = values(size_t(vocab) * d, 512, 0);
    for (int l = 0; l < s.layers; ++l) {
        const std::string p = layer(l);
        w[p + "input_layernorm.weight"] = values(d, 200, unit);
        if (s.phi3()) {
            w[p + "self_attn.qkv_proj.weight"] = values((q + 2 * kv) * d, 128, 0);
        } else {
            w[p + "self_attn.q_proj.weight"] = values(q * d, 128, 0);
            w[p + "self_attn.k_proj.weight"] = values(kv * d, 128, 0);
            w[p + "self_attn.v_proj.weight"] = values(kv * d, 128, 0);
        }
        if (s.qkv_bias) {
            w[p + "self_attn.q_proj.bias"] = values(q, 128, 0);
            w[p + "self_attn.k_proj.bias"] = values(kv, 128, 0);
            w[p + "self_attn.v_proj.bias"] = values(kv, 128, 0);
        }
        w[p + "self_attn.o_proj.weight"] = values(d * q, 128, 0);
        if (s.o_bias) w[p + "self_attn.o_proj.bias"] = values(d, 128, 0);
        if (s.qk_norm()) {
            w[p + "self_attn.q_norm.weight"] = values(hd, 200, unit);
            w[p + "self_attn.k_norm.weight"] = values(hd, 200, unit);
        }
        w[p + "post_attention_layernorm.weight"] = values(d, 200, unit);
        if (s.gemma()) {
            w[p + "pre_feedforward_layernorm.weight"] = values(d, 200, unit);
            w[p + "post_feedforward_layernorm.weight"] = values(d, 200, unit);
        }
        if (s.phi3()) {
            w[p + "mlp.gate_up_proj.weight"] = values(2 * h * d, 128, 0);
        } else {
            w[p + "mlp.gate_proj.weight"] = values(h * d, 128, 0);
            w[p + "mlp.up_proj.weight"] = values(h * d, 128, 0);
        }
        w[p + "mlp.down_proj.weight"] = values(d * h, 128, 0);
        if (s.mlp_bias) {
            w[p + "mlp.gate_proj.bias"] = values(h, 128, 0);
            w[p + "mlp.up_proj.bias"] = values(h, 128, 0);
            w[p + "mlp.down_proj.bias"] = values(d, 128, 0);
        }
    }
    w["model.norm.weight"] = values(d, 200, unit);
    if (!s.tied) w["lm_head.weight"] = values(size_t(vocab) * d, 512, 0);
    return w;
}

json hf_decoder_config(const DecoderSpec& s, int vocab) {
    json c = {{"architectures", {s.hf_class}},
              {"hidden_size", s.dim},
              {"intermediate_size", s.hidden},
              {"num_hidden_layers", s.layers},
              {"num_attention_heads", s.heads},
              {"num_key_value_heads", s.kv_heads},
              {"vocab_size", vocab},
              {"max_position_embeddings", 64},
              {"rms_norm_eps", s.eps},
              {"rope_theta", s.rope_theta},
              {"tie_word_embeddings", s.tied},
              {"torch_dtype", "float32"}};
    if (s.head_dim > 0) c["head_dim"] = s.head_dim;
    if (!s.rope_scaling.is_null()) c["rope_scaling"] = s.rope_scaling;
    if (s.hf_class == "LlamaForCausalLM") {
        c["attention_bias"] = s.qkv_bias;
        c["mlp_bias"] = s.mlp_bias;
    }
    if (s.hf_class == "Qwen3ForCausalLM" || s.gemma()) c["attention_bias"] = s.qkv_bias;
    if (s.phi3()) c["partial_rotary_factor"] = s.partial_rotary;
    if (s.sliding_window > 0) {
        c["sliding_window"] = s.sliding_window;
        if (!s.sliding_layers.empty()) {
            json types = json::array();
            for (int l = 0; l < s.layers; ++l) {
                bool sliding = false;
                for (int x : s.sliding_layers) sliding = sliding || x == l;
                types.push_back(sliding ? "sliding_attention" : "full_attention");
            }
            c["layer_types"] = types;
        }
    } else {
        c["sliding_window"] = nullptr;
    }
    if (s.gemma()) {
        c["hidden_activation"] = "gelu_pytorch_tanh";
        c["query_pre_attn_scalar"] = s.query_pre_attn_scalar;
        c["rope_local_base_freq"] = s.rope_local_theta;
        c["final_logit_softcapping"] = s.final_softcap > 0 ? json(s.final_softcap) : json(nullptr);
        c["attn_logit_softcapping"] = nullptr;
    } else {
        c["hidden_act"] = "silu";
    }
    for (const auto& [k, v] : s.extra.items()) c[k] = v;
    return c;
}

void write_hf_decoder(const std::string& dir, const DecoderSpec& s, const HfWeights& w,
                      const std::string& dtype) {
    const int vocab = decoder_vocab_size();
    std::vector<HfTensor> tensors;
    for (const auto& [name, values] : w) {
        const int64_t in = matrix_in(name, s);
        const bool vector =
            name.find("norm") != std::string::npos || name.find(".bias") != std::string::npos;
        tensors.push_back({name,
                           vector ? std::vector<int64_t>{int64_t(values.size())}
                                  : std::vector<int64_t>{int64_t(values.size()) / in, in},
                           values});
    }
    write_hf_model(dir, hf_decoder_config(s, vocab), tensors, dtype);
    const SpmVocab v = small_spm_vocab();
    write_llama_tokenizer_json(dir, v.pieces, v.scores);
}

namespace {

// llama.cpp's LlamaModel.permute: rows of each head from rotate-half order back to Meta's
// interleaved order, reshape(n_head, 2, rows/n_head/2, in).swapaxes(1, 2).
std::vector<float> permute(const std::vector<float>& w, int n_head, int in) {
    const size_t rows = w.size() / size_t(in);
    const size_t half = rows / size_t(n_head) / 2;
    std::vector<float> out(w.size());
    for (int h = 0; h < n_head; ++h)
        for (size_t j = 0; j < half; ++j)
            for (size_t r = 0; r < 2; ++r) {
                const size_t to = h * 2 * half + j * 2 + r, from = h * 2 * half + r * half + j;
                for (int i = 0; i < in; ++i) out[to * in + i] = w[from * in + i];
            }
    return out;
}

// gguf-py's tensor name for a Hugging Face one.
std::string gguf_name(const std::string& hf, bool gemma) {
    static const std::pair<const char*, const char*> parts[] = {
        {"input_layernorm", "attn_norm"},
        {"self_attn.q_proj", "attn_q"},
        {"self_attn.k_proj", "attn_k"},
        {"self_attn.v_proj", "attn_v"},
        {"self_attn.o_proj", "attn_output"},
        {"self_attn.qkv_proj", "attn_qkv"},
        {"self_attn.q_norm", "attn_q_norm"},
        {"self_attn.k_norm", "attn_k_norm"},
        {"pre_feedforward_layernorm", "ffn_norm"},
        {"post_feedforward_layernorm", "post_ffw_norm"},
        {"mlp.gate_proj", "ffn_gate"},
        {"mlp.up_proj", "ffn_up"},
        {"mlp.gate_up_proj", "ffn_up"},
        {"mlp.down_proj", "ffn_down"},
    };
    if (hf == "model.embed_tokens.weight") return "token_embd.weight";
    if (hf == "model.norm.weight") return "output_norm.weight";
    if (hf == "lm_head.weight") return "output.weight";
    const size_t dot = hf.find('.', 13);  // after "model.layers.N"
    const std::string n = hf.substr(13, dot - 13), rest = hf.substr(dot + 1);
    const std::string suffix = rest.substr(rest.rfind('.'));
    const std::string stem = rest.substr(0, rest.rfind('.'));
    if (stem == "post_attention_layernorm")
        return "blk." + n + (gemma ? ".post_attention_norm" : ".ffn_norm") + suffix;
    for (const auto& [from, to] : parts)
        if (stem == from) return "blk." + n + "." + to + suffix;
    return "?" + hf;
}

}  // namespace

void write_gguf_decoder(const std::string& path, const DecoderSpec& s, const HfWeights& w,
                        bool f16) {
    const std::string a = s.gguf_arch;
    const bool llama = a == "llama";
    GgufWriter g;
    g.set_string("general.architecture", a);
    g.set_u32(a + ".context_length", 64);
    g.set_u32(a + ".embedding_length", uint32_t(s.dim));
    g.set_u32(a + ".block_count", uint32_t(s.layers));
    g.set_u32(a + ".feed_forward_length", uint32_t(s.hidden));
    g.set_u32(a + ".attention.head_count", uint32_t(s.heads));
    g.set_u32(a + ".attention.head_count_kv", uint32_t(s.kv_heads));
    g.set_f32(a + ".attention.layer_norm_rms_epsilon", float(s.eps));
    g.set_f32(a + ".rope.freq_base", float(s.rope_theta));
    if (s.head_dim > 0 || s.gemma()) {
        g.set_u32(a + ".attention.key_length", uint32_t(s.hd()));
        g.set_u32(a + ".attention.value_length", uint32_t(s.hd()));
    }
    const int rot = s.phi3() ? int(s.partial_rotary * s.dim) / s.heads : s.hd();
    g.set_u32(a + ".rope.dimension_count", uint32_t(rot));
    const std::string type =
        s.rope_scaling.is_null() ? "" : s.rope_scaling.value("rope_type", std::string());
    if (type == "linear") {
        g.set_string(a + ".rope.scaling.type", "linear");
        g.set_f32(a + ".rope.scaling.factor", s.rope_scaling["factor"].get<float>());
    }
    if (s.sliding_window > 0)
        g.set_u32(a + ".attention.sliding_window", uint32_t(s.sliding_window));
    if (s.gemma() && s.sliding_window > 0) {  // every pattern-th layer global (llama.cpp: 6)
        int pattern = s.layers;
        if (s.extra.contains("sliding_window_pattern")) pattern = s.extra["sliding_window_pattern"];
        g.set_u32(a + ".attention.sliding_window_pattern", uint32_t(pattern));
    }
    if (s.final_softcap > 0) g.set_f32(a + ".final_logit_softcapping", float(s.final_softcap));

    const SpmVocab v = small_spm_vocab();
    g.set_string("tokenizer.ggml.model", "llama");
    g.set_string_array("tokenizer.ggml.tokens", v.pieces);
    g.set_f32_array("tokenizer.ggml.scores", v.scores);
    g.set_u32("tokenizer.ggml.bos_token_id", 1);
    g.set_u32("tokenizer.ggml.eos_token_id", 2);
    g.set_u32("tokenizer.ggml.unknown_token_id", 0);

    for (const auto& [name, values] : w) {
        std::vector<float> data = values;
        const bool vector =
            name.find("norm") != std::string::npos || name.find(".bias") != std::string::npos;
        if (s.gemma() && name.size() > 11 && name.compare(name.size() - 11, 11, "norm.weight") == 0)
            for (float& x : data) x += 1.0f;  // the converter's norm_shift
        const int in = static_cast<int>(matrix_in(name, s));
        if (llama && name.find("q_proj") != std::string::npos)
            data = permute(data, s.heads, vector ? 1 : in);
        if (llama && name.find("k_proj") != std::string::npos)
            data = permute(data, s.kv_heads, vector ? 1 : in);
        const std::string gname = gguf_name(name, s.gemma());
        if (vector)
            g.add_tensor_f32(gname, {int64_t(data.size())}, data.data());
        else if (f16)
            g.add_tensor_f16(gname, {in, int64_t(data.size()) / in}, data.data());
        else
            g.add_tensor_f32(gname, {in, int64_t(data.size()) / in}, data.data());
    }
    if (type == "llama3") {  // the converter's generate_extra_tensors
        const json& r = s.rope_scaling;
        const double factor = r["factor"], low = r.value("low_freq_factor", 1.0),
                     high = r.value("high_freq_factor", 4.0),
                     old = r.value("original_max_position_embeddings", 8192);
        std::vector<float> factors;
        for (int i = 0; i < s.hd(); i += 2) {
            const double freq = 1.0 / std::pow(s.rope_theta, double(i) / s.hd());
            const double wavelen = 2 * M_PI / freq;
            if (wavelen < old / high)
                factors.push_back(1.0f);
            else if (wavelen > old / low)
                factors.push_back(float(factor));
            else {
                const double smooth = (old / wavelen - low) / (high - low);
                factors.push_back(float(1 / ((1 - smooth) / factor + smooth)));
            }
        }
        g.add_tensor_f32("rope_freqs.weight", {int64_t(factors.size())}, factors.data());
    }
    g.write(path);
}

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
                                         const std::vector<int>& ids) {
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
        Matrix o =
            linear(att, at(p + "self_attn.o_proj.weight"), maybe(p + "self_attn.o_proj.bias"), d);
        if (gemma)
            o = rmsnorm(o, at(p + "post_attention_layernorm.weight"), s.eps, true, size_t(d));
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
        Matrix m = linear(gate, at(p + "mlp.down_proj.weight"), maybe(p + "mlp.down_proj.bias"), d);
        if (gemma)
            m = rmsnorm(m, at(p + "post_feedforward_layernorm.weight"), s.eps, true, size_t(d));
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
