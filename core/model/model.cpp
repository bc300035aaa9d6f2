#include "core/model/model.h"

#include <cmath>
#include <cstring>
#include <string>
#include <utility>

#include "core/error.h"
#include "core/model/compact_weights.h"

namespace ps {

const char* arch_name(Arch a) {
    switch (a) {
        case Arch::Llama:
            return "llama";
        case Arch::Gpt2:
            return "gpt2";
        case Arch::Mistral:
            return "mistral";
        case Arch::Qwen2:
            return "qwen2";
        case Arch::Qwen3:
            return "qwen3";
        case Arch::Gemma3:
            return "gemma3";
        case Arch::Phi3:
            return "phi3";
    }
    return "?";
}

const char* kind_name(ParamKind k) {
    switch (k) {
        case ParamKind::Embedding:
            return "embedding";
        case ParamKind::Weight:
            return "weight";
        case ParamKind::Bias:
            return "bias";
        case ParamKind::Norm:
            return "norm";
    }
    return "?";
}

const float* Model::keep(std::vector<float> values) {
    owned.push_back(std::move(values));
    return owned.back().data();
}

const uint8_t* Model::keep_raw(std::vector<uint8_t> bytes) {
    owned_raw.push_back(std::move(bytes));
    return owned_raw.back().data();
}

int64_t Model::owned_bytes() const {
    int64_t bytes = 0;
    for (const std::vector<float>& values : owned)
        bytes += static_cast<int64_t>(values.size() * sizeof(float));
    for (const std::vector<uint8_t>& raw : owned_raw) bytes += static_cast<int64_t>(raw.size());
    return bytes;
}

bool Model::has_compact_tensors() const {
    for (const TensorInfo& t : tensors)
        if (t.raw) return true;
    return false;
}

static void add(KindTotals& t, ParamKind k, int64_t n) {
    switch (k) {
        case ParamKind::Embedding:
            t.embedding += n;
            break;
        case ParamKind::Weight:
            t.weight += n;
            break;
        case ParamKind::Bias:
            t.bias += n;
            break;
        case ParamKind::Norm:
            t.norm += n;
            break;
    }
}

KindTotals Model::totals() const {
    KindTotals t;
    for (const TensorInfo& info : tensors) add(t, info.kind, info.count);
    return t;
}

std::vector<KindTotals> Model::totals_per_layer() const {
    std::vector<KindTotals> per_layer(static_cast<size_t>(config.n_layers));
    for (const TensorInfo& info : tensors)
        if (info.layer >= 0 && info.layer < config.n_layers)
            add(per_layer[static_cast<size_t>(info.layer)], info.kind, info.count);
    return per_layer;
}

static bool ends_with(const std::string& s, const std::string& suffix) {
    return s.size() >= suffix.size() &&
           s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

ParamKind classify_tensor(const std::string& name, size_t rank) {
    auto has = [&](const char* part) { return name.find(part) != std::string::npos; };
    if (has("norm") || has("ln_") || has("rms_")) return ParamKind::Norm;
    if (ends_with(name, ".bias") || ends_with(name, "_b")) return ParamKind::Bias;
    if (has("embd") || has("embed") || has("wte") || has("wpe")) return ParamKind::Embedding;
    return rank == 1 ? ParamKind::Bias : ParamKind::Weight;
}

// The number of NaN and of infinite values among n floats. The common case, none, is one pass
// over the exponent bits (all ones for both), which vectorizes.
static std::pair<int64_t, int64_t> count_non_finite(const float* x, int64_t n) {
    int64_t special = 0;
    for (int64_t i = 0; i < n; ++i) {
        uint32_t bits;
        std::memcpy(&bits, x + i, sizeof bits);
        special += (bits & 0x7F800000u) == 0x7F800000u;
    }
    if (special == 0) return {0, 0};
    int64_t nan = 0;
    for (int64_t i = 0; i < n; ++i) nan += std::isnan(x[i]);
    return {nan, special - nan};
}

void note_non_finite_weights(Model& model) {
    constexpr int kMaxListed = 8;
    int bad_tensors = 0;
    for (TensorInfo& t : model.tensors) {
        int64_t nan = 0, inf = 0;
        for_each_chunk(t.data, t.raw, t.dtype, t.count, [&](const float* values, int64_t n) {
            const auto [chunk_nan, chunk_inf] = count_non_finite(values, n);
            nan += chunk_nan;
            inf += chunk_inf;
        });
        t.non_finite = nan + inf;
        if (nan + inf == 0) continue;
        if (++bad_tensors <= kMaxListed)
            model.warnings.push_back("tensor '" + t.name + "' has " + std::to_string(nan) +
                                     " NaN and " + std::to_string(inf) +
                                     " infinite values; what is computed from it will be NaN or "
                                     "infinite");
    }
    if (bad_tensors > kMaxListed)
        model.warnings.push_back(std::to_string(bad_tensors - kMaxListed) +
                                 " more tensors hold NaN or infinite values");
}

static void check_linear(const std::string& path, const Linear& l, int in, int out,
                         const std::string& what) {
    if (!l.w && !l.raw) fail(path, "missing tensor for " + what);
    if (l.compact()) {
        // Blocks run along the stored rows: a row, and a column block, must be whole blocks.
        const int64_t block = dtype_block_size(l.dtype);
        if (l.row_stride() % block != 0 || (l.stored_in_out ? l.out : l.in) % block != 0 ||
            (l.stored_in_out && block > 1))
            fail(path, what + ": rows of " + std::to_string(l.stored_in_out ? l.out : l.in) +
                           " values are not whole " + dtype_name(l.dtype) + " blocks of " +
                           std::to_string(block));
    }
    if (l.in != in || l.out != out)
        fail(path, what + ": expected shape in=" + std::to_string(in) +
                       " out=" + std::to_string(out) + ", got in=" + std::to_string(l.in) +
                       " out=" + std::to_string(l.out));
}

void Model::validate() const {
    const Config& c = config;
    auto positive = [&](int v, const char* field, int limit) {
        if (v <= 0 || v > limit)
            fail(path, std::string("config field '") + field + "' is " + std::to_string(v) +
                           ", expected 1.." + std::to_string(limit));
    };
    positive(c.dim, "dim", 1 << 16);
    positive(c.hidden_dim, "hidden_dim", 1 << 18);
    positive(c.n_layers, "n_layers", 1024);
    positive(c.n_heads, "n_heads", 1024);
    positive(c.n_kv_heads, "n_kv_heads", 1024);
    positive(c.vocab_size, "vocab_size", 1 << 22);
    positive(c.context_length, "context_length", 1 << 22);
    if (c.head_size == 0 && c.dim % c.n_heads != 0)
        fail(path, "dim " + std::to_string(c.dim) + " is not a multiple of n_heads " +
                       std::to_string(c.n_heads));
    positive(c.head_dim(), "head_dim", 1 << 16);
    if (c.n_heads % c.n_kv_heads != 0)
        fail(path, "n_heads " + std::to_string(c.n_heads) + " is not a multiple of n_kv_heads " +
                       std::to_string(c.n_kv_heads));
    if (c.rotary() && (c.rotary_dims() % 2 != 0 || c.rotary_dims() > c.head_dim()))
        fail(path, "RoPE rotates " + std::to_string(c.rotary_dims()) + " of " +
                       std::to_string(c.head_dim()) +
                       " head dimensions: expected an even number, at most the head dimension");
    if (!c.sliding_layers.empty() && static_cast<int>(c.sliding_layers.size()) != c.n_layers)
        fail(path, "the sliding-window layer list has " + std::to_string(c.sliding_layers.size()) +
                       " entries for " + std::to_string(c.n_layers) + " layers");
    if (c.sliding_window < 0) fail(path, "the sliding window must not be negative");
    if (!(c.norm_eps > 0.0f && c.norm_eps < 1.0f)) fail(path, "norm epsilon must be in (0, 1)");

    const Weights& w = weights;
    if (!w.token_embedding && !w.token_embedding_raw) fail(path, "missing token embedding tensor");
    if (c.arch == Arch::Gpt2 && !w.position_embedding)
        fail(path, "missing position embedding tensor");
    if (static_cast<int>(w.layers.size()) != c.n_layers)
        fail(path, "expected " + std::to_string(c.n_layers) + " layers of weights, got " +
                       std::to_string(w.layers.size()));
    for (int l = 0; l < c.n_layers; ++l) {
        const LayerWeights& L = w.layers[static_cast<size_t>(l)];
        std::string p = "layer " + std::to_string(l) + " ";
        if (!L.attn_norm) fail(path, "missing tensor for " + p + "attention norm");
        if (!L.ffn_norm) fail(path, "missing tensor for " + p + "MLP norm");
        check_linear(path, L.wq, c.dim, c.q_dim(), p + "query projection");
        check_linear(path, L.wk, c.dim, c.kv_dim(), p + "key projection");
        check_linear(path, L.wv, c.dim, c.kv_dim(), p + "value projection");
        check_linear(path, L.wo, c.q_dim(), c.dim, p + "attention output projection");
        if (!L.q_norm != !L.k_norm)
            fail(path, "layer " + std::to_string(l) + " has a " + (L.q_norm ? "query" : "key") +
                           " norm but no " + (L.q_norm ? "key" : "query") + " norm");
        if (c.arch == Arch::Gemma3 && (!L.post_attn_norm || !L.post_ffn_norm))
            fail(path, "missing tensor for " + p + "post-attention or post-feedforward norm");
        if (c.gated_mlp()) check_linear(path, L.ffn_gate, c.dim, c.hidden_dim, p + "MLP gate");
        check_linear(path, L.ffn_up, c.dim, c.hidden_dim, p + "MLP up projection");
        check_linear(path, L.ffn_down, c.hidden_dim, c.dim, p + "MLP down projection");
        if (c.arch == Arch::Gpt2 && (!L.attn_norm_bias || !L.ffn_norm_bias))
            fail(path, "missing tensor for " + p + "LayerNorm bias");
    }
    if (!w.final_norm) fail(path, "missing final norm tensor");
    if (c.arch == Arch::Gpt2 && !w.final_norm_bias) fail(path, "missing final LayerNorm bias");
    check_linear(path, w.unembed, c.dim, c.vocab_size, "unembedding");
    if (!tokenizer) fail(path, "no tokenizer");
    if (tokenizer->vocab_size() != c.vocab_size)
        fail(path, "tokenizer has " + std::to_string(tokenizer->vocab_size()) +
                       " tokens but the model's vocabulary is " + std::to_string(c.vocab_size));
}

}  // namespace ps
