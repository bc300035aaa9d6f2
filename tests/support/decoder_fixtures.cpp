#include "tests/support/decoder_fixtures.h"

#include <cmath>
#include <filesystem>
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

std::vector<DecoderSpec> modern_decoder_specs() {
    std::vector<DecoderSpec> out;
    DecoderSpec s;
    // Llama 3.2: llama3 rope scaling whose band edges fall inside this head's frequencies
    // (wavelengths 6 .. 6000 against 256/4 and 256/1), tied embeddings, head_dim given,
    // attention and MLP biases.
    s.label = "llama3";
    s.hf_class = "LlamaForCausalLM";
    s.gguf_arch = "llama";
    s.head_dim = 8;
    s.tied = true;
    s.qkv_bias = s.o_bias = s.mlp_bias = true;
    s.rope_theta = 500000.0;
    s.rope_scaling = {{"rope_type", "llama3"},
                      {"factor", 8.0},
                      {"low_freq_factor", 1.0},
                      {"high_freq_factor", 4.0},
                      {"original_max_position_embeddings", 256}};
    out.push_back(s);
    // Mistral: a sliding window shorter than the prompt, linear rope scaling, head_dim wider
    // than hidden / heads, untied.
    s = DecoderSpec();
    s.label = "mistral";
    s.hf_class = "MistralForCausalLM";
    s.gguf_arch = "llama";
    s.head_dim = 12;
    s.sliding_window = 4;
    s.rope_scaling = {{"rope_type", "linear"}, {"factor", 2.0}};
    out.push_back(s);
    // Qwen2.5: q/k/v biases, tied.
    s = DecoderSpec();
    s.label = "qwen2";
    s.hf_class = "Qwen2ForCausalLM";
    s.gguf_arch = "qwen2";
    s.qkv_bias = s.tied = true;
    s.rope_theta = 1e6;
    out.push_back(s);
    // Qwen2 with its sliding window from layer max_window_layers on (HF only: llama.cpp's qwen2
    // has no window, and released Qwen2.5 configs have use_sliding_window false).
    s.label = "qwen2-window";
    s.gguf_arch = "";
    s.sliding_window = 3;
    s.sliding_layers = {1, 2};
    s.extra = {{"use_sliding_window", true}, {"max_window_layers", 1}};
    out.push_back(s);
    // Qwen3: q/k norms, head_dim independent of hidden / heads.
    s = DecoderSpec();
    s.label = "qwen3";
    s.hf_class = "Qwen3ForCausalLM";
    s.gguf_arch = "qwen3";
    s.head_dim = 16;
    s.tied = true;
    s.rope_theta = 1e6;
    out.push_back(s);
    // Gemma 3: four norms, (1 + w) gains, scaled embeddings, query_pre_attn_scalar, GeGLU,
    // sliding layers 0 and 1 with their own base and layer 2 global (pattern 3), soft-capping.
    s = DecoderSpec();
    s.label = "gemma3";
    s.hf_class = "Gemma3ForCausalLM";
    s.gguf_arch = "gemma3";
    s.head_dim = 16;
    s.kv_heads = 1;
    s.tied = true;
    s.rope_theta = 1e6;
    s.rope_local_theta = 10000.0;
    s.sliding_window = 3;
    s.sliding_layers = {0, 1};
    s.query_pre_attn_scalar = 16.0;  // head_dim, as in released Gemma 3 (llama.cpp assumes it)
    s.final_softcap = 30.0;
    s.extra = {{"sliding_window_pattern", 3}};
    out.push_back(s);
    // Hugging Face honours any query_pre_attn_scalar (Gemma 3 27B's is not its head_dim).
    s.label = "gemma3-query-scale";
    s.gguf_arch = "";
    s.query_pre_attn_scalar = 24.0;
    out.push_back(s);
    // Phi-3: fused qkv_proj and gate_up_proj, partial rotary.
    s = DecoderSpec();
    s.label = "phi3";
    s.hf_class = "Phi3ForCausalLM";
    s.gguf_arch = "phi3";
    s.partial_rotary = 0.5;
    out.push_back(s);
    return out;
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
                      const std::string& dtype, const std::string& tokenizer_json) {
    const int vocab = static_cast<int>(w.at("model.embed_tokens.weight").size() / size_t(s.dim));
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
    if (!tokenizer_json.empty()) {
        std::filesystem::copy_file(tokenizer_json, dir + "/tokenizer.json");
        return;
    }
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

}  // namespace ps::test
