// Hugging Face decoder-only models of the Llama family: LlamaForCausalLM (Llama 2/3, SmolLM2,
// TinyLlama), MistralForCausalLM, Qwen2ForCausalLM, Qwen3ForCausalLM, Gemma3ForCausalLM (text) and
// Phi3ForCausalLM. Each config field is read as the architecture's modeling file in transformers
// reads it (the defaults of its configuration class), and the weights named as it names them:
//   model.embed_tokens, model.layers.N.{input_layernorm, self_attn.{q,k,v,o}_proj,
//   post_attention_layernorm, mlp.{gate,up,down}_proj}, model.norm, lm_head
// with these differences:
//   Qwen2        q/k/v biases (always)
//   Qwen3        self_attn.{q,k}_norm (RMSNorm per head, before RoPE); head_dim 128 by default
//   Gemma 3      pre_feedforward_layernorm and post_feedforward_layernorm; post_attention_layernorm
//                is on the attention output; q/k norms; RMSNorm gains are (1 + w); embeddings
//                times sqrt(hidden_size); GeGLU; sliding-window layers with their own RoPE base
//   Phi-3        self_attn.qkv_proj and mlp.gate_up_proj fused; partial_rotary_factor
// HF checkpoints store q/k rows for rotate-half RoPE: they are used as stored (RopeStyle::Half).
#include <cmath>

#include "core/formats/hf_reader.h"

namespace ps::hf {

namespace {

struct Defaults {
    double rope_theta;
    bool tie;
    int head_dim;  // 0: hidden_size / num_attention_heads
};

Defaults defaults_of(Arch arch) {
    switch (arch) {
        case Arch::Gemma3:
            return {1e6, true, 256};
        case Arch::Qwen3:
            return {10000.0, false, 128};
        default:
            return {10000.0, false, 0};
    }
}

// rope_scaling (or transformers 5's rope_parameters): "default", "linear" or "llama3".
RopeScaling read_rope_scaling(const ConfigReader& cfg, const json& j, const std::string& field) {
    const ConfigReader r{cfg.path + " (" + field + ")", j};
    std::string type = r.string_or("rope_type", r.string_or("type", "default"));
    RopeScaling s;
    if (type == "default") return s;
    if (type == "linear") {
        s.type = RopeScaling::Type::Linear;
        s.factor = r.number_or("factor", 0.0, 0.0, 1e6);
        if (!r.has("factor")) fail(r.path, "missing field 'factor'");
        return s;
    }
    if (type == "llama3") {
        s.type = RopeScaling::Type::Llama3;
        if (!r.has("factor")) fail(r.path, "missing field 'factor'");
        s.factor = r.number_or("factor", 8.0, 0.0, 1e6);
        s.low_freq_factor = r.number_or("low_freq_factor", 1.0, 0.0, 1e6);
        s.high_freq_factor = r.number_or("high_freq_factor", 4.0, 0.0, 1e6);
        s.original_context = r.integer_or("original_max_position_embeddings", 8192, 1, 1 << 24);
        if (!(s.high_freq_factor > s.low_freq_factor))
            fail(r.path, "field 'high_freq_factor' must be larger than 'low_freq_factor'");
        return s;
    }
    fail(r.path,
         "RoPE scaling type '" + type + "' is not supported (supported: default, linear, llama3)");
}

// RoPE: the base and scaling of the global layers, and Gemma 3's base for its sliding layers.
void read_rope(Config& c, const ConfigReader& cfg, Arch arch) {
    c.rope_theta = cfg.number_or("rope_theta", defaults_of(arch).rope_theta, 0.0, 1e12);
    if (arch == Arch::Gemma3)
        c.rope_theta_sliding = cfg.number_or("rope_local_base_freq", 10000.0, 0.0, 1e12);
    if (cfg.has("rope_scaling")) {
        if (!cfg.j["rope_scaling"].is_object())
            fail(cfg.path,
                 "field 'rope_scaling' must be an object, got " + cfg.j["rope_scaling"].dump());
        c.rope_scaling = read_rope_scaling(cfg, cfg.j["rope_scaling"], "rope_scaling");
    }
    if (cfg.has("rope_parameters")) {  // transformers 5: per layer type, or one for all
        const json& p = cfg.j["rope_parameters"];
        if (!p.is_object()) fail(cfg.path, "field 'rope_parameters' must be an object");
        const json& full = p.contains("full_attention") ? p["full_attention"] : p;
        const ConfigReader r{cfg.path + " (rope_parameters)", full};
        c.rope_theta = r.number_or("rope_theta", c.rope_theta, 0.0, 1e12);
        c.rope_scaling = read_rope_scaling(cfg, full, "rope_parameters");
        if (p.contains("sliding_attention") && arch == Arch::Gemma3) {
            const ConfigReader local{cfg.path + " (rope_parameters)", p["sliding_attention"]};
            c.rope_theta_sliding = local.number_or("rope_theta", c.rope_theta_sliding, 0.0, 1e12);
        }
    }
    if (cfg.has("partial_rotary_factor")) {
        const float f = cfg.number_or("partial_rotary_factor", 1.0, 0.0, 1.0);
        c.rope_dims = static_cast<int>(static_cast<float>(c.head_dim()) * f);
    }
}

// Which layers attend through a sliding window, as each configuration class derives it.
void read_sliding_window(Config& c, const ConfigReader& cfg, Arch arch) {
    if (!cfg.has("sliding_window") || arch == Arch::Llama) return;
    // Qwen2Config and Qwen3Config drop the window unless use_sliding_window, whatever the
    // saved layer_types say.
    if ((arch == Arch::Qwen2 || arch == Arch::Qwen3) &&
        !cfg.boolean_or("use_sliding_window", false))
        return;
    const int window = cfg.integer("sliding_window", 1, 1 << 24);
    std::vector<uint8_t> sliding(static_cast<size_t>(c.n_layers), 1);
    if (cfg.has("layer_types")) {
        const json& types = cfg.j["layer_types"];
        if (!types.is_array() || types.size() != static_cast<size_t>(c.n_layers))
            fail(cfg.path, "field 'layer_types' must list one type per layer (" +
                               std::to_string(c.n_layers) + ")");
        for (size_t l = 0; l < types.size(); ++l) {
            const std::string t = types[l].is_string() ? types[l].get<std::string>() : "";
            if (t != "sliding_attention" && t != "full_attention")
                fail(cfg.path, "field 'layer_types': layer " + std::to_string(l) + " is " +
                                   types[l].dump() +
                                   ", expected \"sliding_attention\" or \"full_attention\"");
            sliding[l] = t == "sliding_attention";
        }
    } else if (arch == Arch::Qwen2 || arch == Arch::Qwen3) {
        // Only from layer max_window_layers on.
        const int first = cfg.integer_or("max_window_layers", c.n_layers, 0, 1 << 20);
        for (int l = 0; l < c.n_layers; ++l) sliding[static_cast<size_t>(l)] = l >= first;
    } else if (arch == Arch::Gemma3) {
        // Every sliding_window_pattern-th layer is global, the others local.
        const int pattern = cfg.integer_or("sliding_window_pattern", 6, 1, 1 << 20);
        for (int l = 0; l < c.n_layers; ++l)
            sliding[static_cast<size_t>(l)] = (l + 1) % pattern != 0;
    }
    c.sliding_window = window;
    c.sliding_layers = std::move(sliding);
}

// The fields every decoder shares.
void read_sizes(Config& c, const ConfigReader& cfg, Arch arch) {
    c.arch = arch;
    c.dim = cfg.integer("hidden_size", 1, 1 << 16);
    c.hidden_dim = cfg.integer("intermediate_size", 1, 1 << 18);
    c.n_layers = cfg.integer("num_hidden_layers", 1, 1024);
    c.n_heads = cfg.integer("num_attention_heads", 1, 1024);
    c.n_kv_heads = cfg.integer_or("num_key_value_heads", c.n_heads, 1, 1024);
    c.vocab_size = cfg.integer("vocab_size", 1, 1 << 22);
    c.context_length = cfg.integer_or("max_position_embeddings", 2048, 1, 1 << 22);
    c.norm_eps = cfg.number_or("rms_norm_eps", 1e-6, 0.0, 0.5);
    c.rope_style = RopeStyle::Half;
    const int default_head_dim = defaults_of(arch).head_dim;
    if (cfg.has("head_dim") || default_head_dim > 0)
        c.head_size = cfg.integer_or("head_dim", default_head_dim, 1, 1 << 16);
    else if (c.dim % c.n_heads != 0)
        fail(cfg.path, "field 'hidden_size' (" + std::to_string(c.dim) +
                           ") is not a multiple of field 'num_attention_heads' (" +
                           std::to_string(c.n_heads) + ") and there is no 'head_dim'");
    if (c.n_heads % c.n_kv_heads != 0)
        fail(cfg.path, "field 'num_attention_heads' (" + std::to_string(c.n_heads) +
                           ") is not a multiple of field 'num_key_value_heads' (" +
                           std::to_string(c.n_kv_heads) + ")");
    const char* act_field = arch == Arch::Gemma3 ? "hidden_activation" : "hidden_act";
    const std::string act =
        cfg.string_or(act_field, arch == Arch::Gemma3 ? "gelu_pytorch_tanh" : "silu");
    const std::string expected = arch == Arch::Gemma3 ? "gelu_pytorch_tanh" : "silu";
    if (act != expected)
        fail(cfg.path, std::string("field '") + act_field + "' is '" + act + "', only " + expected +
                           " is supported for " + arch_name(arch));
}

void read_gemma3(Config& c, const ConfigReader& cfg) {
    c.norm_offset = 1.0f;  // Gemma3RMSNorm: x_normed * (1 + w)
    c.embed_scale = std::sqrt(static_cast<float>(c.dim));
    c.attn_scale = 1.0f / std::sqrt(cfg.number_or("query_pre_attn_scalar", 256.0, 0.0, 1e9));
    c.attn_softcap = cfg.number_or("attn_logit_softcapping", 0.0, -1.0, 1e9);
    c.final_softcap = cfg.number_or("final_logit_softcapping", 0.0, -1.0, 1e9);
}

}  // namespace

void load_decoder(Model& m, Arch arch, const ConfigReader& cfg, WeightReader& r,
                  const TensorStore& store) {
    Config& c = m.config;
    read_sizes(c, cfg, arch);
    read_rope(c, cfg, arch);
    read_sliding_window(c, cfg, arch);
    if (arch == Arch::Gemma3) read_gemma3(c, cfg);
    if (arch == Arch::Phi3 && c.rope_scaling.type != RopeScaling::Type::None)
        fail(cfg.path, "field 'rope_scaling': Phi-3's long-context RoPE is not supported");
    // Which projections have biases: Qwen2 q/k/v always; attention_bias adds q/k/v/o, mlp_bias
    // (Llama) the MLP's.
    const bool attention_bias = cfg.boolean_or("attention_bias", false);
    const bool qkv_bias = arch == Arch::Qwen2 || attention_bias;
    const bool o_bias = attention_bias && arch != Arch::Qwen2;
    const bool mlp_bias = arch == Arch::Llama && cfg.boolean_or("mlp_bias", false);
    if (arch == Arch::Mistral || arch == Arch::Phi3)
        cfg.unsupported_if(attention_bias, "attention_bias");

    check_layer_indices(store, "model.layers.", c.n_layers, cfg.path, "'num_hidden_layers'");
    const int64_t d = c.dim, q = c.q_dim(), kv = c.kv_dim(), hidden = c.hidden_dim,
                  hd = c.head_dim();
    auto linear = [&](const std::string& name, int64_t in, int64_t out, bool bias, int layer) {
        Linear l = linear_out_in(r.get_stored(name + ".weight", {out, in}, layer),
                                 static_cast<int>(in), static_cast<int>(out));
        if (bias) l.b = r.get(name + ".bias", {out}, layer);
        return l;
    };
    Weights& w = m.weights;
    set_token_embedding(w, r.get_stored("model.embed_tokens.weight", {c.vocab_size, d}, -1));
    for (int l = 0; l < c.n_layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        LayerWeights L;
        L.attn_norm = r.get(p + "input_layernorm.weight", {d}, l);
        if (arch == Arch::Phi3) {
            const Linear qkv = linear(p + "self_attn.qkv_proj", d, q + 2 * kv, false, l);
            L.wq = linear_rows(qkv, 0, static_cast<int>(q), nullptr);
            L.wk = linear_rows(qkv, static_cast<int>(q), static_cast<int>(kv), nullptr);
            L.wv = linear_rows(qkv, static_cast<int>(q + kv), static_cast<int>(kv), nullptr);
        } else {
            L.wq = linear(p + "self_attn.q_proj", d, q, qkv_bias, l);
            L.wk = linear(p + "self_attn.k_proj", d, kv, qkv_bias, l);
            L.wv = linear(p + "self_attn.v_proj", d, kv, qkv_bias, l);
        }
        L.wo = linear(p + "self_attn.o_proj", q, d, o_bias, l);
        if (arch == Arch::Qwen3 || arch == Arch::Gemma3) {
            L.q_norm = r.get(p + "self_attn.q_norm.weight", {hd}, l);
            L.k_norm = r.get(p + "self_attn.k_norm.weight", {hd}, l);
        }
        if (arch == Arch::Gemma3) {
            L.post_attn_norm = r.get(p + "post_attention_layernorm.weight", {d}, l);
            L.ffn_norm = r.get(p + "pre_feedforward_layernorm.weight", {d}, l);
            L.post_ffn_norm = r.get(p + "post_feedforward_layernorm.weight", {d}, l);
        } else {
            L.ffn_norm = r.get(p + "post_attention_layernorm.weight", {d}, l);
        }
        if (arch == Arch::Phi3) {  // gate_up_proj: the gate's rows, then up's
            const Linear gate_up = linear(p + "mlp.gate_up_proj", d, 2 * hidden, false, l);
            L.ffn_gate = linear_rows(gate_up, 0, c.hidden_dim, nullptr);
            L.ffn_up = linear_rows(gate_up, c.hidden_dim, c.hidden_dim, nullptr);
        } else {
            L.ffn_gate = linear(p + "mlp.gate_proj", d, hidden, mlp_bias, l);
            L.ffn_up = linear(p + "mlp.up_proj", d, hidden, mlp_bias, l);
        }
        L.ffn_down = linear(p + "mlp.down_proj", hidden, d, mlp_bias, l);
        w.layers.push_back(L);
    }
    w.final_norm = r.get("model.norm.weight", {d}, -1);

    // Without lm_head.weight the unembedding is the embedding; with tie_word_embeddings the
    // model uses the embedding whatever lm_head holds (as transformers does).
    const bool tie = cfg.boolean_or("tie_word_embeddings", defaults_of(arch).tie);
    c.tied_embeddings = tie || !r.has("lm_head.weight") ||
                        r.identical("lm_head.weight", "model.embed_tokens.weight");
    w.unembed = c.tied_embeddings
                    ? tied_unembedding(w, c.dim, c.vocab_size)
                    : linear_out_in(r.get_stored("lm_head.weight", {c.vocab_size, d}, -1), c.dim,
                                    c.vocab_size);
}

}  // namespace ps::hf
