// GGUF decoders of the Llama family, as llama.cpp loads them (src/llama-model.cpp and
// src/models/{llama,qwen2,qwen3,gemma3,phi3}.cpp) and its converter writes them
// (convert_hf_to_gguf.py):
//   llama    Llama 2/3, Mistral, SmolLM2, TinyLlama. q/k rows permuted by the converter for
//            interleaved RoPE; optional biases; Llama 3's rope scaling as rope_freqs.weight
//   qwen2    q/k/v biases; rotate-half ("NeoX") RoPE, rows as Hugging Face stores them
//   qwen3    attn_q_norm / attn_k_norm per head; key_length sets the head width; NeoX
//   gemma3   post_attention_norm, post_ffw_norm; norm gains stored as 1 + w (the converter
//            adds the 1); embeddings times sqrt(n_embd); sliding-window layers (every
//            sliding_window_pattern-th layer global) with rope.freq_base_swa; NeoX
//   phi3     attn_qkv fused; ffn_up holds the gate's rows then up's; partial rotary
//            (rope.dimension_count); NeoX
// Tensor names: token_embd, output_norm, output, rope_freqs, blk.N.{attn_norm, attn_q, attn_k,
// attn_v, attn_qkv, attn_output, attn_q_norm, attn_k_norm, post_attention_norm, ffn_norm,
// ffn_gate, ffn_up, ffn_down, post_ffw_norm}.
#include <cmath>

#include "core/formats/gguf_loader.h"

namespace ps::gguf {

namespace {

// RoPE: base, rotated dimensions, linear scaling; refuses what would change the computation.
void read_rope(const GgufFile& f, Config& c, Arch arch, const std::string& key) {
    c.rope_theta = f.opt_f32(key + ".rope.freq_base").value_or(10000.0f);
    if (!(c.rope_theta > 0.0f)) fail(f.path(), "key '" + key + ".rope.freq_base' must be positive");
    if (auto rot = f.opt_int(key + ".rope.dimension_count"); rot && *rot != c.head_dim()) {
        // llama.cpp refuses partial rotary for `llama`; Phi-3 and others may rotate fewer.
        if (arch == Arch::Llama || *rot <= 0 || *rot > c.head_dim() || *rot % 2 != 0)
            fail(f.path(), "key '" + key + ".rope.dimension_count': " + std::to_string(*rot) +
                               " rotated dimensions of " + std::to_string(c.head_dim()) +
                               " is not supported for " + key);
        c.rope_dims = static_cast<int>(*rot);
    }
    const std::string type = f.opt_string(key + ".rope.scaling.type").value_or("none");
    std::optional<float> factor = f.opt_f32(key + ".rope.scaling.factor");
    if (!factor) factor = f.opt_f32(key + ".rope.scale_linear");  // the old key
    if (type == "linear" && factor && *factor != 1.0f && *factor != 0.0f) {
        if (!(*factor > 0.0f))
            fail(f.path(), "key '" + key + ".rope.scaling.factor' must be positive");
        c.rope_scaling.type = RopeScaling::Type::Linear;
        c.rope_scaling.factor = *factor;
    } else if (type != "none" && type != "linear") {
        fail(f.path(), "key '" + key + ".rope.scaling.type': RoPE scaling '" + type +
                           "' is not supported (supported: none, linear; Llama 3's comes as "
                           "rope_freqs.weight)");
    }
    c.rope_style = arch == Arch::Llama ? RopeStyle::Interleaved : RopeStyle::Half;
}

// Which layers see only a window of keys: gemma3's pattern, or every layer.
void read_sliding_window(const GgufFile& f, Config& c, Arch arch, const std::string& key) {
    const std::optional<int64_t> window = f.opt_int(key + ".attention.sliding_window");
    if (!window || *window <= 0) return;
    if (*window > (1 << 24))
        fail(f.path(), "key '" + key + ".attention.sliding_window': " + std::to_string(*window) +
                           " is out of range");
    c.sliding_window = static_cast<int>(*window);
    if (arch != Arch::Gemma3) return;
    const int64_t period = f.opt_int(key + ".attention.sliding_window_pattern").value_or(6);
    if (period < 1 || period > 1024)
        fail(f.path(), "key '" + key + ".attention.sliding_window_pattern': " +
                           std::to_string(period) + " is out of range, expected 1..1024");
    // llama.cpp's set_swa_pattern: layer il is local unless il % period == period - 1.
    c.sliding_layers.assign(static_cast<size_t>(c.n_layers), 0);
    for (int l = 0; l < c.n_layers; ++l)
        c.sliding_layers[static_cast<size_t>(l)] = l % period < period - 1;
    c.rope_theta_sliding = f.opt_f32(key + ".rope.freq_base_swa").value_or(10000.0f);
}

}  // namespace

void load_decoder(const GgufFile& f, Model& m, WeightLoader& w, Arch arch, const std::string& key) {
    Config& c = m.config;
    c.arch = arch;
    c.dim = w.config_int(key + ".embedding_length", 1, 1 << 16);
    c.hidden_dim = w.config_int(key + ".feed_forward_length", 1, 1 << 18);
    c.n_layers = w.config_int(key + ".block_count", 1, 1024);
    c.n_heads = w.config_int(key + ".attention.head_count", 1, 1024);
    c.n_kv_heads = w.config_int(key + ".attention.head_count_kv", 1, 1024, c.n_heads);
    c.context_length = w.config_int(key + ".context_length", 1, 1 << 22);
    c.vocab_size = vocab_size(f, w, key);
    c.norm_eps = f.get_f32(key + ".attention.layer_norm_rms_epsilon");
    if (f.find(key + ".attention.key_length")) {
        c.head_size = w.config_int(key + ".attention.key_length", 1, 1 << 16);
        if (w.config_int(key + ".attention.value_length", 1, 1 << 16, c.head_size) != c.head_size)
            fail(f.path(), "key '" + key +
                               ".attention.value_length' differs from key_length, which is not "
                               "supported");
    } else if (c.dim % c.n_heads != 0) {
        fail(f.path(), "embedding_length " + std::to_string(c.dim) +
                           " is not a multiple of head_count " + std::to_string(c.n_heads) +
                           " and there is no attention.key_length");
    }
    if (c.n_heads % c.n_kv_heads != 0)
        fail(f.path(), "head_count " + std::to_string(c.n_heads) +
                           " is not a multiple of head_count_kv " + std::to_string(c.n_kv_heads));
    read_rope(f, c, arch, key);
    read_sliding_window(f, c, arch, key);
    if (arch == Arch::Gemma3) {
        c.embed_scale = std::sqrt(static_cast<float>(c.dim));
        // llama.cpp: 1/sqrt(head width), but 1/sqrt(n_embd / n_head) for the 27B (62 layers),
        // as Gemma's query_pre_attn_scalar is.
        c.attn_scale = 1.0f / std::sqrt(static_cast<float>(c.n_layers == 62 ? c.dim / c.n_heads
                                                                            : c.head_dim()));
        c.final_softcap = f.opt_f32(key + ".final_logit_softcapping").value_or(0.0f);
        if (c.final_softcap < 0.0f)
            fail(f.path(), "key '" + key + ".final_logit_softcapping' must not be negative");
    }

    const int dim = c.dim, q = c.q_dim(), kv = c.kv_dim(), hidden = c.hidden_dim, hd = c.head_dim();
    Weights& W = m.weights;
    take_embeddings(w, W, c);
    W.rope_freq_factors = w.take("rope_freqs.weight", {c.rotary_dims() / 2}, false);
    W.layers.resize(static_cast<size_t>(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights& L = W.layers[static_cast<size_t>(l)];
        const std::string p = "blk." + std::to_string(l) + ".";
        L.attn_norm = w.take(p + "attn_norm.weight", {dim});
        if (arch == Arch::Phi3 && f.find_tensor(p + "attn_qkv.weight")) {
            const Linear qkv = w.linear(p + "attn_qkv", dim, q + 2 * kv);
            L.wq = linear_rows(qkv, 0, q, qkv.b);
            L.wk = linear_rows(qkv, q, kv, qkv.b);
            L.wv = linear_rows(qkv, q + kv, kv, qkv.b);
        } else {
            const bool bias = arch == Arch::Qwen2;  // llama.cpp requires qwen2's q/k/v biases
            L.wq = w.linear(p + "attn_q", dim, q, bias);
            L.wk = w.linear(p + "attn_k", dim, kv, bias);
            L.wv = w.linear(p + "attn_v", dim, kv, bias);
        }
        L.wo = w.linear(p + "attn_output", q, dim);
        if (arch == Arch::Qwen3 || arch == Arch::Gemma3) {
            L.q_norm = w.take(p + "attn_q_norm.weight", {hd});
            L.k_norm = w.take(p + "attn_k_norm.weight", {hd});
        }
        if (arch == Arch::Gemma3)
            L.post_attn_norm = w.take(p + "post_attention_norm.weight", {dim});
        L.ffn_norm = w.take(p + "ffn_norm.weight", {dim});
        if (arch == Arch::Gemma3) L.post_ffn_norm = w.take(p + "post_ffw_norm.weight", {dim});
        if (arch == Arch::Phi3) {  // ffn_up [2 * n_ff, n_embd]: the gate's rows, then up's
            const Linear gate_up = w.linear(p + "ffn_up", dim, 2 * hidden);
            L.ffn_gate = linear_rows(gate_up, 0, hidden, gate_up.b);
            L.ffn_up = linear_rows(gate_up, hidden, hidden, gate_up.b);
        } else {
            L.ffn_gate = w.linear(p + "ffn_gate", dim, hidden);
            L.ffn_up = w.linear(p + "ffn_up", dim, hidden);
        }
        L.ffn_down = w.linear(p + "ffn_down", hidden, dim);
    }
    W.final_norm = w.take("output_norm.weight", {dim});
    take_unembedding(w, W, c);
}

}  // namespace ps::gguf
