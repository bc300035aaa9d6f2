#include "tests/support/gguf_tiny.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/tensor/half.h"
#include "core/tensor/quant.h"
#include "tests/support/quant_ref.h"

namespace ps::test {

float tiny_value(const std::string& name, int64_t i) {
    uint64_t h = 1469598103934665603ull;  // FNV-1a of the name, then the index
    for (char c : name) h = (h ^ static_cast<uint8_t>(c)) * 1099511628211ull;
    h ^= static_cast<uint64_t>(i) * 0x9E3779B97F4A7C15ull;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    return static_cast<float>(static_cast<int64_t>(h >> 40) - (1 << 23)) / (1 << 23);
}

std::vector<float> tiny_values(const std::string& name, int64_t count) {
    std::vector<float> v(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) v[static_cast<size_t>(i)] = tiny_value(name, i);
    return v;
}

std::vector<uint8_t> quantize_q8_0(const std::vector<float>& values) {
    constexpr size_t qk = 32;
    std::vector<uint8_t> out;
    for (size_t b = 0; b + qk <= values.size(); b += qk) {
        float amax = 0.0f;
        for (size_t j = 0; j < qk; ++j) amax = std::max(amax, std::fabs(values[b + j]));
        const float d = amax / ((1 << 7) - 1);
        const float id = d != 0.0f ? 1.0f / d : 0.0f;
        const uint16_t h = f32_to_f16(d);
        out.push_back(static_cast<uint8_t>(h & 0xFF));
        out.push_back(static_cast<uint8_t>(h >> 8));
        for (size_t j = 0; j < qk; ++j)
            out.push_back(
                static_cast<uint8_t>(static_cast<int8_t>(std::round(values[b + j] * id))));
    }
    return out;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> TinyModel::tensors() const {
    const int64_t d = dim, h = hidden, kv = dim / heads * kv_heads;
    const bool gpt2 = arch == "gpt2";
    std::vector<std::pair<std::string, std::vector<int64_t>>> t;
    t.push_back({"token_embd.weight", {d, vocab}});
    if (gpt2) t.push_back({"position_embd.weight", {d, context}});
    for (int l = 0; l < layers; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        t.push_back({p + "attn_norm.weight", {d}});
        if (gpt2) {
            t.push_back({p + "attn_norm.bias", {d}});
            t.push_back({p + "attn_qkv.weight", {d, 3 * d}});
            t.push_back({p + "attn_qkv.bias", {3 * d}});
            t.push_back({p + "attn_output.weight", {d, d}});
            t.push_back({p + "attn_output.bias", {d}});
            t.push_back({p + "ffn_norm.weight", {d}});
            t.push_back({p + "ffn_norm.bias", {d}});
            t.push_back({p + "ffn_up.weight", {d, h}});
            t.push_back({p + "ffn_up.bias", {h}});
            t.push_back({p + "ffn_down.weight", {h, d}});
            t.push_back({p + "ffn_down.bias", {d}});
        } else {
            t.push_back({p + "attn_q.weight", {d, d}});
            t.push_back({p + "attn_k.weight", {d, kv}});
            t.push_back({p + "attn_v.weight", {d, kv}});
            t.push_back({p + "attn_output.weight", {d, d}});
            t.push_back({p + "ffn_norm.weight", {d}});
            t.push_back({p + "ffn_gate.weight", {d, h}});
            t.push_back({p + "ffn_up.weight", {d, h}});
            t.push_back({p + "ffn_down.weight", {h, d}});
        }
    }
    t.push_back({"output_norm.weight", {d}});
    if (gpt2) t.push_back({"output_norm.bias", {d}});
    if (with_output) t.push_back({"output.weight", {d, vocab}});
    return t;
}

GgufWriter TinyModel::writer() const {
    GgufWriter w;
    const std::string a = arch;
    auto u32_key = [&](const std::string& key, uint32_t v) {
        auto it = u32.find(key);
        w.set_u32(key, it != u32.end() ? it->second : v);
    };
    if (!description.empty()) w.set_string("general.description", description);
    w.set_string("general.architecture", a);
    w.set_string("general.name", "tiny-" + a);
    u32_key(a + ".context_length", static_cast<uint32_t>(context));
    u32_key(a + ".embedding_length", static_cast<uint32_t>(dim));
    u32_key(a + ".feed_forward_length", static_cast<uint32_t>(hidden));
    u32_key(a + ".block_count", static_cast<uint32_t>(layers));
    u32_key(a + ".attention.head_count", static_cast<uint32_t>(heads));
    if (a == "llama") {
        u32_key(a + ".attention.head_count_kv", static_cast<uint32_t>(kv_heads));
        w.set_f32(a + ".attention.layer_norm_rms_epsilon", 1e-5f);
        w.set_f32(a + ".rope.freq_base", 10000.0f);
    } else {
        w.set_f32(a + ".attention.layer_norm_epsilon", 1e-5f);
    }

    // Vocabulary: <unk> <s> </s>, then single letters.
    std::vector<std::string> tokens = {"<unk>", "<s>", "</s>"};
    for (int i = 3; i < vocab; ++i)
        tokens.push_back(std::string(1, static_cast<char>('a' + i % 26)) + std::to_string(i));
    std::vector<float> scores(static_cast<size_t>(vocab));
    std::vector<int32_t> types(static_cast<size_t>(vocab), 1);
    for (int i = 0; i < vocab; ++i) scores[static_cast<size_t>(i)] = -static_cast<float>(i);
    types[0] = 2;
    if (vocab > 2) types[1] = types[2] = 3;
    w.set_string("tokenizer.ggml.model", a == "llama" ? "llama" : "gpt2");
    if (a != "llama") w.set_string("tokenizer.ggml.pre", "gpt-2");
    w.set_string_array("tokenizer.ggml.tokens", tokens);
    w.set_i32_array("tokenizer.ggml.token_type", types);
    if (a == "llama") {
        w.set_f32_array("tokenizer.ggml.scores", scores);
        w.set_u32("tokenizer.ggml.bos_token_id", 1);
        w.set_u32("tokenizer.ggml.eos_token_id", 2);
        w.set_u32("tokenizer.ggml.unknown_token_id", 0);
    } else {
        w.set_string_array("tokenizer.ggml.merges", {});
        w.set_u32("tokenizer.ggml.bos_token_id", 2);
        w.set_u32("tokenizer.ggml.eos_token_id", 2);
    }

    for (auto [name, ne] : tensors()) {
        if (name == skip_tensor) continue;
        if (auto it = dims.find(name); it != dims.end()) ne = it->second;
        int64_t n = 1;
        for (int64_t x : ne) n *= x;
        const std::vector<float> v = tiny_values(name, n);
        if (matrix_type != ggml::F32 && ne.size() == 2)
            w.add_tensor_raw(name, ne, matrix_type, quantize_ggml(matrix_type, v).bytes);
        else if (q8_0 && ne.size() == 2)
            w.add_tensor_raw(name, ne, ggml::Q8_0, quantize_q8_0(v));
        else if (f16 && ne.size() == 2)
            w.add_tensor_f16(name, ne, v.data());
        else
            w.add_tensor_f32(name, ne, v.data());
    }
    return w;
}

}  // namespace ps::test
