// GGUF models (architectures `llama` and `gpt2`), on top of GgufFile; the tokenizer is
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
#include "core/formats/loader.h"
#include "core/model/compact_weights.h"
#include "core/tensor/memory_budget.h"
#include "core/tensor/quant.h"

namespace ps {

namespace {

std::string dims_text(const std::vector<int64_t>& ne) {
    std::string s = "[";
    for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
}

// "blk.12.attn_q.weight" -> 12; -1 outside the blocks.
int layer_of(const std::string& name) {
    if (name.rfind("blk.", 0) != 0) return -1;
    size_t i = 4;
    int layer = 0;
    while (i < name.size() && std::isdigit(static_cast<unsigned char>(name[i])) && layer < 100000)
        layer = layer * 10 + (name[i++] - '0');
    return i > 4 && i < name.size() && name[i] == '.' ? layer : -1;
}

// A tensor as the model uses it: f32 values, or (compact) the file's bytes in `dtype`.
using Stored = StoredMatrix;

// Matrices the model can use in the file's encoding: every Linear and the token embedding.
// Vectors (norm gains, biases) and GPT-2's position embedding are small and always widened.
bool stays_compact(const GgufTensor& t, bool compact) {
    return compact && t.ne.size() == 2 && t.name != "position_embd.weight";
}

// Builds a Model's weights from a GgufFile, taking each tensor by name with its expected
// ggml dims, and records which tensors were used.
class WeightLoader {
  public:
    WeightLoader(const GgufFile& f, Model& m) : f_(f), m_(m) {}

    // Config integer `key`, required unless `fallback` is given, within [lo, hi].
    int config_int(const std::string& key, int64_t lo, int64_t hi,
                   std::optional<int64_t> fallback = std::nullopt) {
        std::optional<int64_t> v = f_.opt_int(key);
        if (!v && !fallback) fail(f_.path(), "missing key '" + key + "'");
        const int64_t x = v ? *v : *fallback;
        if (x < lo || x > hi)
            fail(f_.path(), "key '" + key + "': " + std::to_string(x) +
                                " is out of range, expected " + std::to_string(lo) + ".." +
                                std::to_string(hi));
        return static_cast<int>(x);
    }

    // Tensor `name` with ggml dims `ne`, all null if absent and not required: a matrix the
    // model may keep compact (stays_compact) as the file's bytes, anything else as f32 values.
    Stored take_stored(const std::string& name, const std::vector<int64_t>& ne,
                       bool required = true) {
        const GgufTensor* t = f_.find_tensor(name);
        if (!t) {
            if (required) fail(f_.path(), "missing tensor '" + name + "'");
            return {};
        }
        if (t->ne != ne)
            fail(f_.path(), "tensor '" + name + "': expected dims " + dims_text(ne) +
                                " (ggml order), got " + dims_text(t->ne));
        std::optional<DType> dtype = dtype_from_ggml(t->type);
        if (!dtype)
            fail(f_.path(), "tensor '" + name + "': type " + ggml_type_info(t->type)->name +
                                " is not supported (supported: F32, F16, BF16, Q8_0, Q4_0, Q4_K, "
                                "Q6_K)");
        Stored stored;
        stored.dtype = *dtype;
        if (*dtype == DType::F32 && reinterpret_cast<uintptr_t>(t->data) % alignof(float) == 0) {
            stored.data = reinterpret_cast<const float*>(t->data);  // in place from the mapping
        } else if (*dtype != DType::F32 && stays_compact(*t, compact_)) {
            stored.raw = t->data;  // GgufFile checked the extent, and that rows are whole blocks
        } else {
            std::vector<float> values(static_cast<size_t>(t->count));
            dequantize(*dtype, t->data, values.data(), t->count);
            stored.data = m_.keep(std::move(values));
        }
        taken_[name] = stored;
        return stored;
    }

    // The f32 values of tensor `name` (a vector, or the position embedding).
    const float* take(const std::string& name, const std::vector<int64_t>& ne,
                      bool required = true) {
        return take_stored(name, ne, required).data;
    }

    // A Linear stored as ggml [in, out] (row-major [out, in]), with an optional bias [out].
    Linear linear(const std::string& prefix, int in, int out, bool bias_required = false) {
        Linear l = linear_out_in(take_stored(prefix + ".weight", {in, out}), in, out);
        l.b = take(prefix + ".bias", {out}, bias_required);
        return l;
    }

    // The inventory in file order; a tensor the architecture doesn't use is an error (it
    // would change the computation, e.g. Llama 3's rope_freqs or a mixture of experts).
    void fill_inventory() {
        for (const GgufTensor& t : f_.tensors()) {
            auto it = taken_.find(t.name);
            if (it == taken_.end())
                fail(f_.path(), "tensor '" + t.name + "' is not part of the " +
                                    arch_name(m_.config.arch) +
                                    " architecture as ParamScope implements it");
            std::vector<int64_t> shape = t.shape();
            ParamKind kind = classify_tensor(t.name, shape.size());
            m_.tensors.push_back({t.name, std::move(shape), it->second.dtype, kind,
                                  layer_of(t.name), t.count, static_cast<int64_t>(t.nbytes),
                                  it->second.data, it->second.raw});
        }
    }

    bool compact_ = true;

  private:
    const GgufFile& f_;
    Model& m_;
    std::map<std::string, Stored> taken_;
};

// The token embedding and, when the file has none, the unembedding that shares it.
void take_embeddings(WeightLoader& w, Weights& W, Config& c) {
    const Stored e = w.take_stored("token_embd.weight", {c.dim, c.vocab_size});
    W.token_embedding = e.data;
    W.token_embedding_raw = e.raw;
    W.token_embedding_dtype = e.raw ? e.dtype : DType::F32;
}

void take_unembedding(WeightLoader& w, Weights& W, Config& c) {
    const Stored out = w.take_stored("output.weight", {c.dim, c.vocab_size}, false);
    c.tied_embeddings = !out.data && !out.raw;
    if (c.tied_embeddings) {
        W.unembed = Linear{W.token_embedding, nullptr, c.dim, c.vocab_size, false, 0};
        W.unembed.raw = W.token_embedding_raw;
        W.unembed.dtype = W.token_embedding_dtype;
    } else {
        W.unembed = linear_out_in(out, c.dim, c.vocab_size);
    }
}

// The vocabulary size: {arch}.vocab_size, else the tokenizer's token count.
int vocab_size(const GgufFile& f, WeightLoader& w, const std::string& arch) {
    if (f.find(arch + ".vocab_size")) return w.config_int(arch + ".vocab_size", 1, 1 << 22);
    if (!f.find("tokenizer.ggml.tokens"))
        fail(f.path(), "missing key '" + arch + ".vocab_size' (and no tokenizer.ggml.tokens)");
    const uint64_t n = f.array_size("tokenizer.ggml.tokens");
    if (n < 1 || n > (1u << 22))
        fail(f.path(), "key 'tokenizer.ggml.tokens': " + std::to_string(n) +
                           " tokens, expected 1.." + std::to_string(1u << 22));
    return static_cast<int>(n);
}

void load_llama(const GgufFile& f, Model& m, WeightLoader& w) {
    Config& c = m.config;
    c.arch = Arch::Llama;
    c.dim = w.config_int("llama.embedding_length", 1, 1 << 16);
    c.hidden_dim = w.config_int("llama.feed_forward_length", 1, 1 << 18);
    c.n_layers = w.config_int("llama.block_count", 1, 1024);
    c.n_heads = w.config_int("llama.attention.head_count", 1, 1024);
    c.n_kv_heads = w.config_int("llama.attention.head_count_kv", 1, 1024, c.n_heads);
    c.context_length = w.config_int("llama.context_length", 1, 1 << 22);
    c.vocab_size = vocab_size(f, w, "llama");
    c.norm_eps = f.get_f32("llama.attention.layer_norm_rms_epsilon");
    c.rope_theta = f.opt_f32("llama.rope.freq_base").value_or(10000.0f);
    c.rope_style = RopeStyle::Interleaved;  // GGUF keeps Meta's (2i, 2i+1) q/k layout
    if (c.dim % c.n_heads != 0 || c.n_heads % c.n_kv_heads != 0)
        fail(f.path(), "embedding_length " + std::to_string(c.dim) + ", head_count " +
                           std::to_string(c.n_heads) + " and head_count_kv " +
                           std::to_string(c.n_kv_heads) + " don't divide evenly");
    if (!(c.rope_theta > 0.0f)) fail(f.path(), "key 'llama.rope.freq_base' must be positive");
    if (auto rot = f.opt_int("llama.rope.dimension_count"); rot && *rot != c.head_dim())
        fail(f.path(), "key 'llama.rope.dimension_count': partial rotary embedding (" +
                           std::to_string(*rot) + " of " + std::to_string(c.head_dim()) +
                           " head dimensions) is not supported");
    if (auto scaling = f.opt_string("llama.rope.scaling.type"); scaling && *scaling != "none")
        fail(f.path(),
             "key 'llama.rope.scaling.type': RoPE scaling '" + *scaling + "' is not supported");

    const int dim = c.dim, kv_dim = c.kv_dim(), hidden = c.hidden_dim;
    Weights& W = m.weights;
    take_embeddings(w, W, c);
    W.layers.resize(static_cast<size_t>(c.n_layers));
    for (int l = 0; l < c.n_layers; ++l) {
        LayerWeights& L = W.layers[static_cast<size_t>(l)];
        const std::string p = "blk." + std::to_string(l) + ".";
        L.attn_norm = w.take(p + "attn_norm.weight", {dim});
        L.wq = w.linear(p + "attn_q", dim, dim);
        L.wk = w.linear(p + "attn_k", dim, kv_dim);
        L.wv = w.linear(p + "attn_v", dim, kv_dim);
        L.wo = w.linear(p + "attn_output", dim, dim);
        L.ffn_norm = w.take(p + "ffn_norm.weight", {dim});
        L.ffn_gate = w.linear(p + "ffn_gate", dim, hidden);
        L.ffn_up = w.linear(p + "ffn_up", dim, hidden);
        L.ffn_down = w.linear(p + "ffn_down", hidden, dim);
    }
    W.final_norm = w.take("output_norm.weight", {dim});
    take_unembedding(w, W, c);
}

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
    if (arch == "llama")
        load_llama(f, *model, w);
    else if (arch == "gpt2")
        load_gpt2(f, *model, w);
    else
        fail(f.path(), "key 'general.architecture': '" + arch +
                           "' is not supported (expected 'llama' or 'gpt2')");
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
