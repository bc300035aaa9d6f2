#include "core/model/random_model.h"

#include <cmath>
#include <random>

#include "core/error.h"
#include "core/model/compact_weights.h"
#include "core/tensor/quantize.h"
#include "core/tokenizer/unicode.h"

namespace ps {

namespace {

// Llama-family shapes from their Hugging Face config.json.
Config decoder(Arch arch, int dim, int hidden, int layers, int heads, int kv_heads, int head_dim,
               int vocab, int context, float theta, float eps) {
    Config c;
    c.arch = arch;
    c.dim = dim;
    c.hidden_dim = hidden;
    c.n_layers = layers;
    c.n_heads = heads;
    c.n_kv_heads = kv_heads;
    c.head_size = head_dim;
    c.vocab_size = vocab;
    c.context_length = context;
    c.rope_theta = theta;
    c.norm_eps = eps;
    c.rope_style = RopeStyle::Half;
    c.tied_embeddings = true;  // all five tie their embeddings
    return c;
}

}  // namespace

Config random_model_config(const std::string& shape) {
    Config c;
    if (shape == "gpt2-124m" || shape == "gpt2-tiny") {
        const bool tiny = shape == "gpt2-tiny";
        c.arch = Arch::Gpt2;
        c.dim = tiny ? 128 : 768;
        c.n_layers = tiny ? 2 : 12;
        c.n_heads = c.n_kv_heads = tiny ? 4 : 12;
        c.hidden_dim = 4 * c.dim;
        c.vocab_size = tiny ? 4096 : 50257;
        c.context_length = tiny ? 256 : 1024;
        c.tied_embeddings = true;
    } else if (shape == "llama-15m" || shape == "llama-110m") {
        const bool small = shape == "llama-15m";
        c.arch = Arch::Llama;
        c.dim = small ? 288 : 768;
        c.hidden_dim = small ? 768 : 2048;
        c.n_layers = small ? 6 : 12;
        c.n_heads = c.n_kv_heads = small ? 6 : 12;
        c.vocab_size = 32000;
        c.context_length = small ? 256 : 1024;
        c.tied_embeddings = true;  // as llama2.c's stories models
    } else if (shape == "qwen2.5-0.5b") {
        c = decoder(Arch::Qwen2, 896, 4864, 24, 14, 2, 64, 151936, 32768, 1e6f, 1e-6f);
    } else if (shape == "qwen3-0.6b") {
        c = decoder(Arch::Qwen3, 1024, 3072, 28, 16, 8, 128, 151936, 40960, 1e6f, 1e-6f);
    } else if (shape == "llama3.2-1b") {
        c = decoder(Arch::Llama, 2048, 8192, 16, 32, 8, 64, 128256, 131072, 500000.0f, 1e-5f);
        c.rope_scaling = {RopeScaling::Type::Llama3, 32.0f, 1.0f, 4.0f, 8192};
    } else if (shape == "gemma3-270m") {
        c = decoder(Arch::Gemma3, 640, 2048, 18, 4, 1, 256, 262144, 32768, 1e6f, 1e-6f);
        c.rope_theta_sliding = 10000.0f;
        c.sliding_window = 512;
        for (int l = 0; l < c.n_layers; ++l) c.sliding_layers.push_back((l + 1) % 6 != 0);
        c.attn_scale = 1.0f / 16.0f;  // query_pre_attn_scalar 256
        c.norm_offset = 1.0f;
        c.embed_scale = std::sqrt(640.0f);
    } else if (shape == "smollm2-135m") {
        c = decoder(Arch::Llama, 576, 1536, 30, 9, 3, 64, 49152, 8192, 100000.0f, 1e-5f);
    } else {
        std::string known;
        for (const std::string& s : random_model_shapes()) known += (known.empty() ? "" : ", ") + s;
        throw Error("unknown model shape '" + shape + "' (known: " + known + ")");
    }
    return c;
}

std::vector<std::string> random_model_shapes() {
    return {"gpt2-124m",  "gpt2-tiny",   "llama-15m",   "llama-110m",  "qwen2.5-0.5b",
            "qwen3-0.6b", "llama3.2-1b", "gemma3-270m", "smollm2-135m"};
}

std::unique_ptr<Model> make_random_model(const std::string& shape, uint64_t seed, DType dtype) {
    auto model = std::make_unique<Model>();
    Config& c = model->config;
    c = random_model_config(shape);
    model->path = "random:" + shape;
    model->format = "random";
    model->name = shape + " (random weights)";
    if (dtype != DType::F32 && c.arch == Arch::Gpt2)
        throw Error("random model '" + shape + "': GPT-2 shapes are built in f32 only");

    std::mt19937_64 rng(seed);
    std::uniform_real_distribution<float> uniform(-0.035f, 0.035f);
    const bool gpt2 = c.arch == Arch::Gpt2;
    const bool qkv_bias = gpt2 || c.arch == Arch::Qwen2;
    const bool qk_norm = c.arch == Arch::Qwen3 || c.arch == Arch::Gemma3;
    // Gemma stores norm gains as w in (1 + w): 0 is a gain of 1.
    const float gain = c.norm_offset != 0.0f ? 0.0f : 1.0f;
    auto tensor = [&](const std::string& name, std::vector<int64_t> shape_, ParamKind kind,
                      int layer, float fill) -> const float* {
        int64_t count = 1;
        for (int64_t d : shape_) count *= d;
        std::vector<float> values(static_cast<size_t>(count), fill);
        if (kind == ParamKind::Weight || kind == ParamKind::Embedding)
            for (float& v : values) v = uniform(rng);
        const float* data = model->keep(std::move(values));
        model->tensors.push_back(
            {name, std::move(shape_), DType::F32, kind, layer, count, count * 4, data});
        return data;
    };
    // A matrix [rows, in]: f32, or encoded in `dtype` when its rows are whole blocks of it, else
    // in the next type whose blocks fit (Q8_0, then F16), as llama-quantize falls back.
    auto matrix = [&](const std::string& name, int rows, int in, ParamKind kind,
                      int layer) -> StoredMatrix {
        if (dtype == DType::F32) return {tensor(name, {rows, in}, kind, layer, 0.0f)};
        DType type = dtype;
        if (in % dtype_block_size(type) != 0) type = DType::Q8_0;
        if (in % dtype_block_size(type) != 0) type = DType::F16;
        const int64_t count = int64_t(rows) * in;
        std::vector<float> values(static_cast<size_t>(count));
        for (float& v : values) v = uniform(rng);
        const uint8_t* raw = model->keep_raw(quantize(type, values.data(), count));
        model->tensors.push_back(
            {name, {rows, in}, type, kind, layer, count, encoded_bytes(type, count), nullptr, raw});
        return {nullptr, raw, type};
    };
    auto linear = [&](const std::string& name, int in, int out, int layer, bool bias) {
        Linear l =
            linear_out_in(matrix(name + ".weight", out, in, ParamKind::Weight, layer), in, out);
        if (bias) l.b = tensor(name + ".bias", {out}, ParamKind::Bias, layer, 0.0f);
        return l;
    };
    auto norm_of = [&](const std::string& name, int layer, int width) {
        return tensor(name + ".weight", {width}, ParamKind::Norm, layer, gain);
    };
    auto norm = [&](const std::string& name, int layer, const float** g, const float** bias) {
        *g = norm_of(name, layer, c.dim);
        if (gpt2) *bias = tensor(name + ".bias", {c.dim}, ParamKind::Bias, layer, 0.0f);
    };

    Weights& w = model->weights;
    const StoredMatrix embedding =
        matrix("token_embd.weight", c.vocab_size, c.dim, ParamKind::Embedding, -1);
    w.token_embedding = embedding.data;
    w.token_embedding_raw = embedding.raw;
    w.token_embedding_dtype = embedding.raw ? embedding.dtype : DType::F32;
    if (gpt2)
        w.position_embedding = tensor("position_embd.weight", {c.context_length, c.dim},
                                      ParamKind::Embedding, -1, 0.0f);
    w.layers.resize(static_cast<size_t>(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights& L = w.layers[static_cast<size_t>(l)];
        const std::string p = "blk." + std::to_string(l) + ".";
        norm(p + "attn_norm", l, &L.attn_norm, &L.attn_norm_bias);
        if (gpt2) {
            // One fused tensor, as GPT-2 files store q, k and v (and as the engine then uses it).
            const Linear qkv = linear(p + "attn_qkv", c.dim, 3 * c.dim, l, true);
            L.wq = L.wk = L.wv = qkv;
            L.wq.out = L.wk.out = L.wv.out = c.dim;
            L.wk.w = qkv.w + static_cast<size_t>(c.dim) * c.dim;
            L.wv.w = qkv.w + 2 * static_cast<size_t>(c.dim) * c.dim;
            L.wk.b = qkv.b + c.dim;
            L.wv.b = qkv.b + 2 * c.dim;
        } else {
            L.wq = linear(p + "attn_q", c.dim, c.q_dim(), l, qkv_bias);
            L.wk = linear(p + "attn_k", c.dim, c.kv_dim(), l, qkv_bias);
            L.wv = linear(p + "attn_v", c.dim, c.kv_dim(), l, qkv_bias);
        }
        if (qk_norm) {
            L.q_norm = norm_of(p + "attn_q_norm", l, c.head_dim());
            L.k_norm = norm_of(p + "attn_k_norm", l, c.head_dim());
        }
        L.wo = linear(p + "attn_output", c.q_dim(), c.dim, l, gpt2);
        if (c.arch == Arch::Gemma3) L.post_attn_norm = norm_of(p + "post_attention_norm", l, c.dim);
        norm(p + "ffn_norm", l, &L.ffn_norm, &L.ffn_norm_bias);
        if (c.arch == Arch::Gemma3) L.post_ffn_norm = norm_of(p + "post_ffw_norm", l, c.dim);
        if (!gpt2) L.ffn_gate = linear(p + "ffn_gate", c.dim, c.hidden_dim, l, false);
        L.ffn_up = linear(p + "ffn_up", c.dim, c.hidden_dim, l, gpt2);
        L.ffn_down = linear(p + "ffn_down", c.hidden_dim, c.dim, l, gpt2);
    }
    norm("output_norm", -1, &w.final_norm, &w.final_norm_bias);
    w.unembed = linear_out_in(embedding, c.dim, c.vocab_size);

    // Byte-level tokenizer: the 256 byte symbols, then unused tokens up to the vocabulary size.
    BpeVocab vocab;
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {  // GPT-2's byte alphabet, as in tokenizer_bpe.cpp
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        vocab.pieces.push_back(unicode::encode(printable ? static_cast<char32_t>(b) : next++));
    }
    for (int i = static_cast<int>(vocab.pieces.size()); i < c.vocab_size; ++i)
        vocab.pieces.push_back("<|unused_" + std::to_string(i) + "|>");
    model->tokenizer = make_bpe_tokenizer(std::move(vocab), model->path);
    model->validate();
    return model;
}

}  // namespace ps
