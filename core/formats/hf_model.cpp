// Hugging Face model directories: config.json names the architecture and its sizes, the weights
// are in model.safetensors or in shards listed by model.safetensors.index.json, the tokenizer in
// tokenizer.json or vocab.json + merges.txt. Supported: GPT2LMHeadModel and LlamaForCausalLM.
//
// F32 weights are used in place from the mapping; F16 and BF16 matrices too, compact in their
// own encoding (core/model/compact_weights.h), unless LoadOptions::f32_weights asks to widen them.
// GPT-2's Conv1D weights are stored [in, out] and are used that way (Linear::stored_in_out); its
// fused c_attn [d, 3d] is split into three column blocks without a copy. HF Llama checkpoints store
// q/k rows permuted for rotate-half RoPE, so they are used as they are with RopeStyle::Half.
#include <cctype>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/formats/json_limits.h"
#include "core/formats/loader.h"
#include "core/formats/safetensors.h"
#include "core/formats/tokenizer_files.h"
#include "core/model/compact_weights.h"
#include "core/tensor/memory_budget.h"

namespace ps {

namespace fs = std::filesystem;

namespace {

using json = nlohmann::json;
using Shape = std::vector<int64_t>;

std::string shape_string(const Shape& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

// A JSON file, read whole (config.json and index files are small; refuse anything huge).
json read_json_file(const std::string& path) {
    std::error_code ec;
    auto size = fs::file_size(path, ec);
    if (ec) fail(path, "cannot read: " + ec.message());
    if (size > (64u << 20)) fail(path, "is " + std::to_string(size) + " bytes, too large for JSON");
    std::ifstream in(path, std::ios::binary);
    std::stringstream buffer;
    buffer << in.rdbuf();
    if (!in) fail(path, "cannot read");
    try {
        return json::parse(buffer.str(), json_depth_limit(path));
    } catch (const json::parse_error& e) {
        fail(path, "invalid JSON at byte " + std::to_string(e.byte) + ": " + e.what());
    } catch (const json::exception& e) {  // e.g. a number too large for a double: 1e999
        fail(path, std::string("invalid JSON: ") + e.what());
    }
}

// Typed access to config.json fields; every error names the file and the field.
struct ConfigReader {
    std::string path;
    const json& j;

    bool has(const char* field) const { return j.contains(field) && !j[field].is_null(); }

    int integer(const char* field, int lo, int hi) const {
        if (!has(field)) fail(path, std::string("missing field '") + field + "'");
        const json& v = j[field];
        if (!v.is_number_integer())
            fail(path, std::string("field '") + field + "' must be an integer, got " + v.dump());
        int64_t x = v.get<int64_t>();
        if (x < lo || x > hi)
            fail(path, std::string("field '") + field + "' is " + std::to_string(x) +
                           ", expected " + std::to_string(lo) + ".." + std::to_string(hi));
        return static_cast<int>(x);
    }
    int integer_or(const char* field, int fallback, int lo, int hi) const {
        return has(field) ? integer(field, lo, hi) : fallback;
    }
    float number_or(const char* field, double fallback, double lo, double hi) const {
        if (!has(field)) return static_cast<float>(fallback);
        const json& v = j[field];
        if (!v.is_number())
            fail(path, std::string("field '") + field + "' must be a number, got " + v.dump());
        double x = v.get<double>();
        if (!(x > lo && x <= hi))
            fail(path, std::string("field '") + field + "' is " + v.dump() +
                           ", expected a value in (" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "]");
        return static_cast<float>(x);
    }
    bool boolean_or(const char* field, bool fallback) const {
        if (!has(field)) return fallback;
        if (!j[field].is_boolean())
            fail(path, std::string("field '") + field + "' must be true or false, got " +
                           j[field].dump());
        return j[field].get<bool>();
    }
    std::string string_or(const char* field, const std::string& fallback) const {
        if (!has(field)) return fallback;
        if (!j[field].is_string())
            fail(path,
                 std::string("field '") + field + "' must be a string, got " + j[field].dump());
        return j[field].get<std::string>();
    }
    void unsupported_if(bool condition, const char* field) const {
        if (condition)
            fail(path,
                 std::string("field '") + field + "' = " + j[field].dump() + " is not supported");
    }
};

struct StoredTensor {
    const SafetensorsTensor* tensor;
    const SafetensorsFile* file;
};

// Every tensor of the directory by name, whichever shard it is in.
struct TensorStore {
    std::vector<std::unique_ptr<SafetensorsFile>> files;
    std::map<std::string, StoredTensor> by_name;
    std::string weights_path;  // model.safetensors or the index, for errors about absent tensors

    const StoredTensor* find(const std::string& name) const {
        auto it = by_name.find(name);
        return it == by_name.end() ? nullptr : &it->second;
    }
};

void open_single(TensorStore& store, const std::string& path) {
    store.weights_path = path;
    store.files.push_back(std::make_unique<SafetensorsFile>(path));
    const SafetensorsFile& f = *store.files.back();
    for (const SafetensorsTensor& t : f.tensors()) store.by_name[t.name] = {&t, &f};
}

// model.safetensors.index.json: {"weight_map": {"tensor name": "shard file name", ...}}.
void open_sharded(TensorStore& store, const fs::path& dir, const std::string& index_path) {
    store.weights_path = index_path;
    json index = read_json_file(index_path);
    if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
        fail(index_path, "missing field 'weight_map' (an object of tensor name -> shard file)");
    std::map<std::string, const SafetensorsFile*> shards;
    for (const auto& [name, shard] : index["weight_map"].items()) {
        if (!shard.is_string())
            fail(index_path, "weight_map: tensor '" + name + "' maps to " + shard.dump() +
                                 ", expected a file name");
        const std::string file = shard.get<std::string>();
        // Shards are plain file names inside the directory; never follow a path out of it.
        if (file.empty() || file.find('/') != std::string::npos ||
            file.find('\\') != std::string::npos || file == "." || file == "..")
            fail(index_path, "weight_map: tensor '" + name + "' maps to '" + file +
                                 "', expected a file name inside the directory");
        auto it = shards.find(file);
        if (it == shards.end()) {
            const fs::path shard_path = dir / file;
            std::error_code ec;
            if (!fs::exists(shard_path, ec))
                fail(index_path, "weight_map: tensor '" + name + "' is in shard '" + file +
                                     "', which does not exist");
            store.files.push_back(std::make_unique<SafetensorsFile>(shard_path.string()));
            it = shards.emplace(file, store.files.back().get()).first;
        }
        const SafetensorsTensor* t = it->second->find(name);
        if (!t)
            fail(it->second->path(), "tensor '" + name + "', listed in " +
                                         fs::path(index_path).filename().string() +
                                         ", is not in this shard");
        store.by_name[name] = {t, it->second};
    }
}

TensorStore open_weights(const fs::path& dir) {
    TensorStore store;
    std::error_code ec;
    const fs::path single = dir / "model.safetensors";
    const fs::path index = dir / "model.safetensors.index.json";
    // As transformers does: a single model.safetensors first, else the sharded index.
    if (fs::exists(single, ec))
        open_single(store, single.string());
    else if (fs::exists(index, ec))
        open_sharded(store, dir, index.string());
    else
        fail(dir.string(), "no model.safetensors or model.safetensors.index.json");
    return store;
}

// Matrices the model can use in the file's F16/BF16 encoding: every Linear and the token
// embedding. Vectors (norm gains, biases) and GPT-2's position embedding are small and always
// widened to f32.
bool stays_compact(const std::string& name, const SafetensorsTensor& t, bool compact) {
    const std::string wpe = "wpe.weight";
    const bool position_embedding =
        name.size() >= wpe.size() && name.compare(name.size() - wpe.size(), wpe.size(), wpe) == 0;
    return compact && (t.dtype == "F16" || t.dtype == "BF16") && t.shape.size() == 2 &&
           !position_embedding;
}

// F16/BF16 tensors that don't stay compact (and misaligned F32 ones) are converted to f32:
// refuse a directory whose conversion would not fit in memory before allocating any of it.
void require_memory_for_f32(const TensorStore& store, bool compact) {
    uint64_t bytes = 0;
    int converted = 0;
    for (const auto& [name, st] : store.by_name) {
        const SafetensorsTensor& t = *st.tensor;
        const bool in_place =
            t.dtype == "F32" && reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0;
        if (in_place || (t.dtype != "F32" && t.dtype != "F16" && t.dtype != "BF16") ||
            stays_compact(name, t, compact))
            continue;
        bytes += t.dtype == "F32" ? t.nbytes : t.nbytes * 2;  // nbytes <= the file's size
        ++converted;
    }
    require_memory(store.weights_path, bytes,
                   "converting " + std::to_string(converted) + " tensors to f32");
}

// A tensor as the model uses it: f32 values, or (compact) the file's bytes in `dtype`.
using Stored = StoredMatrix;

// Turns the directory's tensors into f32 pointers or compact matrices and records each in the
// inventory.
struct WeightReader {
    Model& model;
    const TensorStore& store;
    bool compact = true;

    bool has(const std::string& name) const { return store.find(name) != nullptr; }

    // The f32 values of a vector or of the position embedding.
    const float* get(const std::string& name, const Shape& expected, int layer) {
        return get_stored(name, expected, layer).data;
    }

    Stored get_stored(const std::string& name, const Shape& expected, int layer) {
        const StoredTensor* st = store.find(name);
        if (!st)
            fail(store.weights_path,
                 "missing tensor '" + name + "' (expected shape " + shape_string(expected) + ")");
        const SafetensorsTensor& t = *st->tensor;
        const std::string& file = st->file->path();
        if (t.shape != expected)
            fail(file, "tensor '" + name + "': expected shape " + shape_string(expected) +
                           " from config.json, got " + shape_string(t.shape));

        TensorInfo info;
        info.name = name;
        info.shape = t.shape;
        info.kind = classify_tensor(name, t.shape.size());
        info.layer = layer;
        info.count = 1;
        for (int64_t d : t.shape) info.count *= d;
        info.bytes = static_cast<int64_t>(t.nbytes);
        Stored stored;
        if (stays_compact(name, t, compact)) {
            // SafetensorsFile checked that the extent is inside the file and holds `count`
            // values of the type.
            info.dtype = stored.dtype = t.dtype == "F16" ? DType::F16 : DType::BF16;
            info.raw = stored.raw = t.data;
        } else {
            info.data = stored.data = to_f32(t, file, info.dtype);
        }
        model.tensors.push_back(info);
        return stored;
    }

    // F32 in place when aligned; F16 and BF16 widened into storage the model keeps.
    const float* to_f32(const SafetensorsTensor& t, const std::string& file, DType& dtype) {
        const size_t n = t.nbytes / (t.dtype == "F32" ? 4 : 2);
        if (t.dtype == "F32") {
            dtype = DType::F32;
            if (reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0)
                return reinterpret_cast<const float*>(t.data);
            std::vector<float> copy(n);
            std::memcpy(copy.data(), t.data, t.nbytes);
            return model.keep(std::move(copy));
        }
        if (t.dtype != "F16" && t.dtype != "BF16")
            fail(file, "unsupported dtype " + t.dtype + " for tensor '" + t.name +
                           "' (supported: F32, F16, BF16)");
        dtype = t.dtype == "F16" ? DType::F16 : DType::BF16;
        std::vector<float> values(n);
        // The conversion the forward pass uses on weights kept as stored: the same values.
        dequantize(dtype, t.data, values.data(), static_cast<int64_t>(n));
        return model.keep(std::move(values));
    }

    // Whether two stored tensors hold the same bytes (an untied-looking but tied lm_head).
    bool identical(const std::string& a, const std::string& b) const {
        const StoredTensor* x = store.find(a);
        const StoredTensor* y = store.find(b);
        return x && y && x->tensor->dtype == y->tensor->dtype &&
               x->tensor->shape == y->tensor->shape && x->tensor->nbytes == y->tensor->nbytes &&
               std::memcmp(x->tensor->data, y->tensor->data, x->tensor->nbytes) == 0;
    }
};

// A tensor named "<prefix><N>.<rest>" belongs to block N; blocks past n_layers mean the
// config and the weights disagree.
void check_layer_indices(const TensorStore& store, const std::string& prefix, int n_layers,
                         const std::string& config_path, const char* field) {
    for (const auto& [name, st] : store.by_name) {
        if (name.compare(0, prefix.size(), prefix) != 0) continue;
        size_t pos = prefix.size();
        long long layer = 0;
        size_t digits = 0;
        while (pos < name.size() && std::isdigit(static_cast<unsigned char>(name[pos])) &&
               digits < 9)
            layer = layer * 10 + (name[pos++] - '0'), ++digits;
        if (digits > 0 && layer >= n_layers)
            fail(st.file->path(), "tensor '" + name + "' belongs to layer " +
                                      std::to_string(layer) + ", but " + config_path + " has " +
                                      field + " = " + std::to_string(n_layers));
    }
}

// Linear in the [in, out] layout (GPT-2 Conv1D), optionally the column block that starts at
// column `first` of a wider matrix whose rows hold `ld` values.
Linear linear_in_out(const Stored& w, const float* b, int in, int out, int ld = 0, int first = 0) {
    Linear l = linear_out_in(w, in, out);
    if (l.compact())
        l.raw += encoded_bytes(l.dtype, first);  // F16 and BF16: any column starts a block
    else
        l.w += first;
    l.b = b;
    l.stored_in_out = true;
    l.ld = ld;
    return l;
}

// The unembedding as the token embedding (tied weights).
Linear tied_unembedding(const Weights& w, int dim, int vocab) {
    return linear_out_in(Stored{w.token_embedding, w.token_embedding_raw, w.token_embedding_dtype},
                         dim, vocab);
}

void set_token_embedding(Weights& w, const Stored& e) {
    w.token_embedding = e.data;
    w.token_embedding_raw = e.raw;
    w.token_embedding_dtype = e.raw ? e.dtype : DType::F32;
}

void load_gpt2(Model& m, const ConfigReader& cfg, WeightReader& r, const TensorStore& store) {
    Config& c = m.config;
    c.arch = Arch::Gpt2;
    c.dim = cfg.integer("n_embd", 1, 1 << 16);
    c.n_layers = cfg.integer("n_layer", 1, 1024);
    c.n_heads = cfg.integer("n_head", 1, 1024);
    c.n_kv_heads = c.n_heads;
    c.vocab_size = cfg.integer("vocab_size", 1, 1 << 22);
    if (!cfg.has("n_positions") && !cfg.has("n_ctx"))
        fail(cfg.path, "missing field 'n_positions' (or 'n_ctx')");
    c.context_length = cfg.has("n_positions") ? cfg.integer("n_positions", 1, 1 << 22)
                                              : cfg.integer("n_ctx", 1, 1 << 22);
    c.norm_eps = cfg.number_or("layer_norm_epsilon", 1e-5, 0.0, 0.5);
    // n_inner: null (the usual value) means 4 * n_embd.
    c.hidden_dim = cfg.has("n_inner") ? cfg.integer("n_inner", 1, 1 << 18) : 4 * c.dim;
    if (c.dim % c.n_heads != 0)
        fail(cfg.path, "field 'n_embd' (" + std::to_string(c.dim) +
                           ") is not a multiple of field 'n_head' (" + std::to_string(c.n_heads) +
                           ")");
    // gelu_new and gelu_pytorch_tanh are both the tanh approximation the engine computes.
    const std::string act = cfg.string_or("activation_function", "gelu_new");
    if (act != "gelu_new" && act != "gelu_pytorch_tanh")
        fail(cfg.path, "field 'activation_function' is '" + act +
                           "', only gelu_new (tanh approximation) is supported");
    cfg.unsupported_if(!cfg.boolean_or("scale_attn_weights", true), "scale_attn_weights");
    cfg.unsupported_if(cfg.boolean_or("scale_attn_by_inverse_layer_idx", false),
                       "scale_attn_by_inverse_layer_idx");
    cfg.unsupported_if(cfg.boolean_or("add_cross_attention", false), "add_cross_attention");

    // Checkpoints saved from GPT2LMHeadModel prefix names with "transformer.", older ones not.
    const std::string p = store.find("transformer.wte.weight") ? "transformer." : "";
    check_layer_indices(store, p + "h.", c.n_layers, cfg.path, "'n_layer'");
    const int64_t d = c.dim, hidden = c.hidden_dim;
    Weights& w = m.weights;
    set_token_embedding(w, r.get_stored(p + "wte.weight", {c.vocab_size, d}, -1));
    w.position_embedding = r.get(p + "wpe.weight", {c.context_length, d}, -1);
    for (int l = 0; l < c.n_layers; ++l) {
        const std::string h = p + "h." + std::to_string(l) + ".";
        LayerWeights L;
        L.attn_norm = r.get(h + "ln_1.weight", {d}, l);
        L.attn_norm_bias = r.get(h + "ln_1.bias", {d}, l);
        // c_attn maps x[d] to [q | k | v] (3d): q, k and v are column blocks of its [d, 3d].
        const Stored qkv = r.get_stored(h + "attn.c_attn.weight", {d, 3 * d}, l);
        const float* qkv_b = r.get(h + "attn.c_attn.bias", {3 * d}, l);
        L.wq = linear_in_out(qkv, qkv_b, c.dim, c.dim, 3 * c.dim);
        L.wk = linear_in_out(qkv, qkv_b + d, c.dim, c.dim, 3 * c.dim, c.dim);
        L.wv = linear_in_out(qkv, qkv_b + 2 * d, c.dim, c.dim, 3 * c.dim, 2 * c.dim);
        const Stored o = r.get_stored(h + "attn.c_proj.weight", {d, d}, l);
        L.wo = linear_in_out(o, r.get(h + "attn.c_proj.bias", {d}, l), c.dim, c.dim);
        L.ffn_norm = r.get(h + "ln_2.weight", {d}, l);
        L.ffn_norm_bias = r.get(h + "ln_2.bias", {d}, l);
        const Stored fc = r.get_stored(h + "mlp.c_fc.weight", {d, hidden}, l);
        L.ffn_up = linear_in_out(fc, r.get(h + "mlp.c_fc.bias", {hidden}, l), c.dim, c.hidden_dim);
        const Stored proj = r.get_stored(h + "mlp.c_proj.weight", {hidden, d}, l);
        L.ffn_down = linear_in_out(proj, r.get(h + "mlp.c_proj.bias", {d}, l), c.hidden_dim, c.dim);
        w.layers.push_back(L);
    }
    w.final_norm = r.get(p + "ln_f.weight", {d}, -1);
    w.final_norm_bias = r.get(p + "ln_f.bias", {d}, -1);

    // GPT-2 ties the unembedding to wte unless the config says otherwise; a stored lm_head
    // with the same bytes is the same tensor saved twice.
    const bool tie = cfg.boolean_or("tie_word_embeddings", true);
    c.tied_embeddings =
        tie || !r.has("lm_head.weight") || r.identical("lm_head.weight", p + "wte.weight");
    w.unembed = c.tied_embeddings
                    ? tied_unembedding(w, c.dim, c.vocab_size)
                    : linear_out_in(r.get_stored("lm_head.weight", {c.vocab_size, d}, -1), c.dim,
                                    c.vocab_size);
}

void load_llama(Model& m, const ConfigReader& cfg, WeightReader& r, const TensorStore& store) {
    Config& c = m.config;
    c.arch = Arch::Llama;
    c.dim = cfg.integer("hidden_size", 1, 1 << 16);
    c.hidden_dim = cfg.integer("intermediate_size", 1, 1 << 18);
    c.n_layers = cfg.integer("num_hidden_layers", 1, 1024);
    c.n_heads = cfg.integer("num_attention_heads", 1, 1024);
    c.n_kv_heads = cfg.integer_or("num_key_value_heads", c.n_heads, 1, 1024);
    c.vocab_size = cfg.integer("vocab_size", 1, 1 << 22);
    c.context_length = cfg.integer_or("max_position_embeddings", 2048, 1, 1 << 22);
    c.norm_eps = cfg.number_or("rms_norm_eps", 1e-6, 0.0, 0.5);
    c.rope_theta = cfg.number_or("rope_theta", 10000.0, 0.0, 1e12);
    c.rope_style = RopeStyle::Half;
    if (c.dim % c.n_heads != 0)
        fail(cfg.path, "field 'hidden_size' (" + std::to_string(c.dim) +
                           ") is not a multiple of field 'num_attention_heads' (" +
                           std::to_string(c.n_heads) + ")");
    if (c.n_heads % c.n_kv_heads != 0)
        fail(cfg.path, "field 'num_attention_heads' (" + std::to_string(c.n_heads) +
                           ") is not a multiple of field 'num_key_value_heads' (" +
                           std::to_string(c.n_kv_heads) + ")");
    if (cfg.has("head_dim") && cfg.integer("head_dim", 1, 1 << 16) != c.head_dim())
        fail(cfg.path, "field 'head_dim' differs from hidden_size / num_attention_heads (" +
                           std::to_string(c.head_dim()) + "), which is not supported");
    cfg.unsupported_if(cfg.has("rope_scaling"), "rope_scaling");
    cfg.unsupported_if(cfg.boolean_or("attention_bias", false), "attention_bias");
    cfg.unsupported_if(cfg.boolean_or("mlp_bias", false), "mlp_bias");
    const std::string act = cfg.string_or("hidden_act", "silu");
    if (act != "silu")
        fail(cfg.path, "field 'hidden_act' is '" + act + "', only silu (SwiGLU) is supported");

    check_layer_indices(store, "model.layers.", c.n_layers, cfg.path, "'num_hidden_layers'");
    const int64_t d = c.dim, kv = c.kv_dim(), hidden = c.hidden_dim;
    Weights& w = m.weights;
    set_token_embedding(w, r.get_stored("model.embed_tokens.weight", {c.vocab_size, d}, -1));
    for (int l = 0; l < c.n_layers; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        LayerWeights L;
        L.attn_norm = r.get(p + "input_layernorm.weight", {d}, l);
        L.wq = linear_out_in(r.get_stored(p + "self_attn.q_proj.weight", {d, d}, l), c.dim, c.dim);
        L.wk = linear_out_in(r.get_stored(p + "self_attn.k_proj.weight", {kv, d}, l), c.dim,
                             c.kv_dim());
        L.wv = linear_out_in(r.get_stored(p + "self_attn.v_proj.weight", {kv, d}, l), c.dim,
                             c.kv_dim());
        L.wo = linear_out_in(r.get_stored(p + "self_attn.o_proj.weight", {d, d}, l), c.dim, c.dim);
        L.ffn_norm = r.get(p + "post_attention_layernorm.weight", {d}, l);
        L.ffn_gate = linear_out_in(r.get_stored(p + "mlp.gate_proj.weight", {hidden, d}, l), c.dim,
                                   c.hidden_dim);
        L.ffn_up = linear_out_in(r.get_stored(p + "mlp.up_proj.weight", {hidden, d}, l), c.dim,
                                 c.hidden_dim);
        L.ffn_down = linear_out_in(r.get_stored(p + "mlp.down_proj.weight", {d, hidden}, l),
                                   c.hidden_dim, c.dim);
        w.layers.push_back(L);
    }
    w.final_norm = r.get("model.norm.weight", {d}, -1);

    // Without lm_head.weight the unembedding is the embedding; with tie_word_embeddings the
    // model uses the embedding whatever lm_head holds (as transformers does).
    const bool tie = cfg.boolean_or("tie_word_embeddings", false);
    c.tied_embeddings = tie || !r.has("lm_head.weight") ||
                        r.identical("lm_head.weight", "model.embed_tokens.weight");
    w.unembed = c.tied_embeddings
                    ? tied_unembedding(w, c.dim, c.vocab_size)
                    : linear_out_in(r.get_stored("lm_head.weight", {c.vocab_size, d}, -1), c.dim,
                                    c.vocab_size);
}

std::string display_name(const fs::path& dir, const json& config) {
    fs::path p = dir.lexically_normal();
    if (p.filename().empty()) p = p.parent_path();
    std::string name = p.filename().string();
    if ((name.empty() || name == "." || name == "..") && config.contains("_name_or_path") &&
        config["_name_or_path"].is_string())
        name = fs::path(config["_name_or_path"].get<std::string>()).filename().string();
    return name.empty() ? "model" : name;
}

}  // namespace

std::unique_ptr<Model> load_hf_directory(const std::string& dir_string,
                                         const LoadOptions& options) {
    const fs::path dir(dir_string);
    const std::string config_path = (dir / "config.json").string();
    std::error_code ec;
    if (!fs::exists(config_path, ec))
        fail(dir_string, "not a Hugging Face model directory: no config.json");
    const json config = read_json_file(config_path);
    if (!config.is_object()) fail(config_path, "is not a JSON object");
    ConfigReader cfg{config_path, config};

    // The architecture: architectures[0], or model_type when a config has no architectures.
    std::string arch;
    const char* arch_field = "architectures";
    if (cfg.has("architectures")) {
        const json& a = config["architectures"];
        if (!a.is_array() || a.empty() || !a[0].is_string())
            fail(config_path,
                 "field 'architectures' must be a non-empty list of names, got " + a.dump());
        arch = a[0].get<std::string>();
    } else if (cfg.has("model_type")) {
        const std::string type = cfg.string_or("model_type", "");
        arch_field = "model_type";
        arch = type == "gpt2" ? "GPT2LMHeadModel" : type == "llama" ? "LlamaForCausalLM" : type;
    } else {
        fail(config_path, "missing field 'architectures'");
    }
    if (arch != "GPT2LMHeadModel" && arch != "LlamaForCausalLM")
        fail(config_path, std::string("field '") + arch_field + "': unsupported architecture '" +
                              arch + "' (supported: GPT2LMHeadModel, LlamaForCausalLM)");

    auto model = std::make_unique<Model>();
    model->path = dir_string;
    model->format = "hf";
    model->name = display_name(dir, config);

    TensorStore store = open_weights(dir);
    require_memory_for_f32(store, !options.f32_weights);
    WeightReader reader{*model, store, !options.f32_weights};
    if (arch == "GPT2LMHeadModel")
        load_gpt2(*model, cfg, reader, store);
    else
        load_llama(*model, cfg, reader, store);

    for (auto& file : store.files) model->files.push_back(file->release_mapping());
    model->tokenizer = load_hf_tokenizer(dir_string);
    model->validate();
    return model;
}

}  // namespace ps
