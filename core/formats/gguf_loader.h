// What the GGUF model loaders share (core/formats/gguf_model.cpp for the file and GPT-2,
// core/formats/gguf_decoders.cpp for llama, qwen2, qwen3, gemma3 and phi3): config keys and tensors
// taken by name with their expected dims, and the inventory of what was taken.
#pragma once

#include <cctype>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/formats/gguf.h"
#include "core/model/compact_weights.h"
#include "core/model/model.h"
#include "core/tensor/quant.h"

namespace ps::gguf {

inline std::string dims_text(const std::vector<int64_t>& ne) {
    std::string s = "[";
    for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
}

// "blk.12.attn_q.weight" -> 12; -1 outside the blocks.
inline int layer_of(const std::string& name) {
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
inline bool stays_compact(const GgufTensor& t, bool compact) {
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
                                " is not supported (supported: " + supported_ggml_types() + ")");
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
inline void take_embeddings(WeightLoader& w, Weights& W, Config& c) {
    const Stored e = w.take_stored("token_embd.weight", {c.dim, c.vocab_size});
    W.token_embedding = e.data;
    W.token_embedding_raw = e.raw;
    W.token_embedding_dtype = e.raw ? e.dtype : DType::F32;
}

inline void take_unembedding(WeightLoader& w, Weights& W, Config& c) {
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
inline int vocab_size(const GgufFile& f, WeightLoader& w, const std::string& arch) {
    if (f.find(arch + ".vocab_size")) return w.config_int(arch + ".vocab_size", 1, 1 << 22);
    if (!f.find("tokenizer.ggml.tokens"))
        fail(f.path(), "missing key '" + arch + ".vocab_size' (and no tokenizer.ggml.tokens)");
    const uint64_t n = f.array_size("tokenizer.ggml.tokens");
    if (n < 1 || n > (1u << 22))
        fail(f.path(), "key 'tokenizer.ggml.tokens': " + std::to_string(n) +
                           " tokens, expected 1.." + std::to_string(1u << 22));
    return static_cast<int>(n);
}

// The decoders of the Llama family: GGUF `llama`, `qwen2`, `qwen3`, `gemma3`, `phi3`
// (core/formats/gguf_decoders.cpp).
void load_decoder(const GgufFile& f, Model& m, WeightLoader& w, Arch arch, const std::string& key);

}  // namespace ps::gguf
