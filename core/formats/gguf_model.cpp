// GGUF models on top of GgufFile: `gpt2` here, the Llama family (`llama`, `qwen2`, `qwen3`,
// `gemma3`, `phi3`) in core/formats/gguf_decoders.cpp; the tokenizer is
// core/formats/gguf_vocab.cpp.
//
// Tensor names and metadata keys follow llama.cpp (gguf-py/gguf/constants.py). A GGUF matrix
// with ggml dims [in, out] is row-major [out, in]: a Linear{in, out} used in place, as f32 or
// (unless LoadOptions::f32_weights) compact in the file's encoding.
#include <cctype>
#include <filesystem>
#include <map>

#include "core/error.h"
#include "core/formats/gguf.h"
#include "core/formats/gguf_loader.h"
#include "core/formats/loader.h"
#include "core/model/compact_weights.h"
#include "core/tensor/memory_budget.h"
#include "core/tensor/quant.h"

namespace ps {

namespace {

using namespace gguf;

void load_gpt2(const GgufFile& f, Model& m, WeightLoader& w) {
    Config& c = m.config;
    c.arch = Arch::Gpt2;
    c.dim = w.config_int("gpt2.embedding_length", 1, 1 << 16);
    c.hidden_dim = w.config_int("gpt2.feed_forward_length", 1, 1 << 18);
    c.n_layers = w.config_int("gpt2.block_count", 1, 1024);
    c.n_heads = w.config_int("gpt2.attention.head_count", 1, 1024);
    c.n_kv_heads = c.n_heads;
    c.context_length = w.config_int("gpt2.context_length", 1, 1 << 22);
    c.vocab_size = vocab_size(f, w, "gpt2");
    c.norm_eps = f.get_f32("gpt2.attention.layer_norm_epsilon");
    if (c.dim % c.n_heads != 0)
        fail(f.path(), "embedding_length " + std::to_string(c.dim) +
                           " is not a multiple of head_count " + std::to_string(c.n_heads));

    const int dim = c.dim, hidden = c.hidden_dim;
    Weights& W = m.weights;
    take_embeddings(w, W, c);
    W.position_embedding = w.take("position_embd.weight", {dim, c.context_length});
    W.layers.resize(static_cast<size_t>(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights& L = W.layers[static_cast<size_t>(l)];
        const std::string p = "blk." + std::to_string(l) + ".";
        L.attn_norm = w.take(p + "attn_norm.weight", {dim});
        L.attn_norm_bias = w.take(p + "attn_norm.bias", {dim});
        // c_attn: one [3*dim, dim] matrix (rows q, then k, then v) and a [3*dim] bias; the
        // three projections point into it.
        Linear qkv = w.linear(p + "attn_qkv", dim, 3 * dim, true);
        for (int i = 0; i < 3; ++i) {
            Linear& part = i == 0 ? L.wq : i == 1 ? L.wk : L.wv;
            part = qkv;
            part.out = dim;
            part.b = qkv.b + i * dim;
            const int64_t first = int64_t(i) * dim * dim;  // rows i*dim .. of [3*dim, dim]
            if (qkv.compact())
                part.raw = qkv.raw + encoded_bytes(qkv.dtype, first);
            else
                part.w = qkv.w + first;
        }
        L.wo = w.linear(p + "attn_output", dim, dim, true);
        L.ffn_norm = w.take(p + "ffn_norm.weight", {dim});
        L.ffn_norm_bias = w.take(p + "ffn_norm.bias", {dim});
        L.ffn_up = w.linear(p + "ffn_up", dim, hidden, true);
        L.ffn_down = w.linear(p + "ffn_down", hidden, dim, true);
    }
    W.final_norm = w.take("output_norm.weight", {dim});
    W.final_norm_bias = w.take("output_norm.bias", {dim});
    take_unembedding(w, W, c);
}

// Tensors that can be used neither in place as f32 nor compact are dequantized to f32: refuse
// a file whose conversion would not fit in memory before allocating any of it.
void require_memory_for_f32(const GgufFile& f, bool compact) {
    uint64_t bytes = 0;
    int converted = 0;
    for (const GgufTensor& t : f.tensors()) {
        const bool in_place =
            t.type == ggml::F32 && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0;
        if (in_place || !dtype_from_ggml(t.type) ||
            (t.type != ggml::F32 && stays_compact(t, compact)))
            continue;
        bytes += static_cast<uint64_t>(t.count) * sizeof(float);  // count < file size * 8
        ++converted;
    }
    require_memory(f.path(), bytes, "converting " + std::to_string(converted) + " tensors to f32");
}

// Config, weights and inventory from `f`; the model still needs f's mapping.
std::unique_ptr<Model> build_model(const GgufFile& f, const LoadOptions& options) {
    require_memory_for_f32(f, !options.f32_weights);
    auto model = std::make_unique<Model>();
    model->path = f.path();
    model->format = "gguf";
    WeightLoader w(f, *model);
    w.compact_ = !options.f32_weights;
    const std::string arch = f.get_string("general.architecture");
    // Converters often leave general.name as the architecture ("llama"): the file name says more.
    model->name = f.opt_string("general.name").value_or("");
    if (model->name.empty() || model->name == arch)
        model->name = std::filesystem::path(f.path()).stem().string();
    static const std::pair<const char*, Arch> kDecoders[] = {{"llama", Arch::Llama},
                                                             {"qwen2", Arch::Qwen2},
                                                             {"qwen3", Arch::Qwen3},
                                                             {"gemma3", Arch::Gemma3},
                                                             {"phi3", Arch::Phi3}};
    bool known = arch == "gpt2";
    if (arch == "gpt2") load_gpt2(f, *model, w);
    for (const auto& [key, family] : kDecoders)
        if (arch == key) {
            load_decoder(f, *model, w, family, key);
            known = true;
        }
    if (!known)
        fail(f.path(),
             "key 'general.architecture': '" + arch +
                 "' is not supported (supported: gpt2, llama, qwen2, qwen3, gemma3, phi3)");
    w.fill_inventory();
    return model;
}

}  // namespace

std::unique_ptr<Model> load_gguf_weights(const std::string& path, const LoadOptions& options) {
    GgufFile f(path);
    std::unique_ptr<Model> model = build_model(f, options);
    model->files.push_back(f.release_mapping());
    return model;
}

std::unique_ptr<Model> load_gguf_model(const std::string& path, const LoadOptions& options) {
    GgufFile f(path);
    std::unique_ptr<Model> model = build_model(f, options);
    model->tokenizer = make_gguf_tokenizer(f);
    model->files.push_back(f.release_mapping());
    model->validate();
    return model;
}

}  // namespace ps
