// Hugging Face model directories: config.json names the architecture and its sizes, the weights
// are in model.safetensors or in shards listed by model.safetensors.index.json, the tokenizer in
// tokenizer.json or vocab.json + merges.txt. Supported: GPT2LMHeadModel here, and the decoders of
// core/formats/hf_decoders.cpp (Llama, Mistral, Qwen2, Qwen3, Gemma 3 text, Phi-3).
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
#include "core/formats/hf_reader.h"
#include "core/formats/json_limits.h"
#include "core/formats/loader.h"
#include "core/formats/safetensors.h"
#include "core/formats/tokenizer_files.h"
#include "core/model/compact_weights.h"
#include "core/tensor/memory_budget.h"

namespace ps {

namespace fs = std::filesystem;

namespace hf {

std::string shape_string(const Shape& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
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

// The unembedding as the token embedding (tied weights).
Linear tied_unembedding(const Weights& w, int dim, int vocab) {
    return linear_out_in(Stored{w.token_embedding, w.token_embedding_raw, w.token_embedding_dtype},
                         dim, vocab);
}

void set_token_embedding(Weights& w, const StoredMatrix& e) {
    w.token_embedding = e.data;
    w.token_embedding_raw = e.raw;
    w.token_embedding_dtype = e.raw ? e.dtype : DType::F32;
}

}  // namespace hf

namespace {

using namespace hf;

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

// Linear in the [in, out] layout (GPT-2 Conv1D), optionally the column block that starts at
// column `first` of a wider matrix whose rows hold `ld` values.
Linear linear_in_out(const StoredMatrix& w, const float* b, int in, int out, int ld = 0,
                     int first = 0) {
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
        const StoredMatrix qkv = r.get_stored(h + "attn.c_attn.weight", {d, 3 * d}, l);
        const float* qkv_b = r.get(h + "attn.c_attn.bias", {3 * d}, l);
        L.wq = linear_in_out(qkv, qkv_b, c.dim, c.dim, 3 * c.dim);
        L.wk = linear_in_out(qkv, qkv_b + d, c.dim, c.dim, 3 * c.dim, c.dim);
        L.wv = linear_in_out(qkv, qkv_b + 2 * d, c.dim, c.dim, 3 * c.dim, 2 * c.dim);
        const StoredMatrix o = r.get_stored(h + "attn.c_proj.weight", {d, d}, l);
        L.wo = linear_in_out(o, r.get(h + "attn.c_proj.bias", {d}, l), c.dim, c.dim);
        L.ffn_norm = r.get(h + "ln_2.weight", {d}, l);
        L.ffn_norm_bias = r.get(h + "ln_2.bias", {d}, l);
        const StoredMatrix fc = r.get_stored(h + "mlp.c_fc.weight", {d, hidden}, l);
        L.ffn_up = linear_in_out(fc, r.get(h + "mlp.c_fc.bias", {hidden}, l), c.dim, c.hidden_dim);
        const StoredMatrix proj = r.get_stored(h + "mlp.c_proj.weight", {hidden, d}, l);
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

// config.json's `architectures` class names (or `model_type`s) ParamScope opens.
struct SupportedArchitecture {
    const char* class_name;
    const char* model_type;
    Arch arch;
};
constexpr SupportedArchitecture kArchitectures[] = {
    {"GPT2LMHeadModel", "gpt2", Arch::Gpt2},
    {"LlamaForCausalLM", "llama", Arch::Llama},
    {"MistralForCausalLM", "mistral", Arch::Mistral},
    {"Qwen2ForCausalLM", "qwen2", Arch::Qwen2},
    {"Qwen3ForCausalLM", "qwen3", Arch::Qwen3},
    {"Gemma3ForCausalLM", "gemma3_text", Arch::Gemma3},
    {"Phi3ForCausalLM", "phi3", Arch::Phi3},
};

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
    std::string name;
    const char* arch_field = "architectures";
    if (cfg.has("architectures")) {
        const json& a = config["architectures"];
        if (!a.is_array() || a.empty() || !a[0].is_string())
            fail(config_path,
                 "field 'architectures' must be a non-empty list of names, got " + a.dump());
        name = a[0].get<std::string>();
    } else if (cfg.has("model_type")) {
        name = cfg.string_or("model_type", "");
        arch_field = "model_type";
    } else {
        fail(config_path, "missing field 'architectures'");
    }
    const SupportedArchitecture* arch = nullptr;
    for (const SupportedArchitecture& a : kArchitectures)
        if (name == a.class_name || name == a.model_type) arch = &a;
    if (!arch) {
        std::string supported;
        for (const SupportedArchitecture& a : kArchitectures)
            supported += std::string(supported.empty() ? "" : ", ") + a.class_name;
        fail(config_path, std::string("field '") + arch_field + "': unsupported architecture '" +
                              name + "' (supported: " + supported + ")");
    }

    auto model = std::make_unique<Model>();
    model->path = dir_string;
    model->format = "hf";
    model->name = display_name(dir, config);

    TensorStore store = open_weights(dir);
    require_memory_for_f32(store, !options.f32_weights);
    WeightReader reader{*model, store, !options.f32_weights};
    if (arch->arch == Arch::Gpt2)
        load_gpt2(*model, cfg, reader, store);
    else
        load_decoder(*model, arch->arch, cfg, reader, store);

    for (auto& file : store.files) model->files.push_back(file->release_mapping());
    model->tokenizer = load_hf_tokenizer(dir_string);
    model->validate();
    return model;
}

}  // namespace ps
