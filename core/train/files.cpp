// Writing the trained model, its snapshots and checkpoints (see core/train/files.h).
#include "core/train/files.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/formats/json_limits.h"
#include "core/formats/safetensors.h"
#include "core/tensor/half.h"

namespace ps {

using nlohmann::json;

json gpt2_hf_config(const Gpt2Shape& s, int eot_id) {
    return json{{"architectures", {"GPT2LMHeadModel"}},
                {"model_type", "gpt2"},
                {"vocab_size", s.vocab_size},
                {"n_positions", s.context_length},
                {"n_ctx", s.context_length},
                {"n_embd", s.dim},
                {"n_layer", s.n_layers},
                {"n_head", s.n_heads},
                {"n_inner", nullptr},
                {"activation_function", "gelu_new"},
                {"layer_norm_epsilon", 1e-5},
                {"resid_pdrop", 0.0},
                {"embd_pdrop", 0.0},
                {"attn_pdrop", 0.0},
                {"initializer_range", 0.02},
                {"scale_attn_weights", true},
                {"tie_word_embeddings", true},
                {"bos_token_id", eot_id},
                {"eos_token_id", eot_id},
                {"torch_dtype", "float32"},
                {"trained_by", "paramscope train"}};
}

void write_gpt2_hf(const std::string& dir, const Gpt2<float>& model,
                   const std::vector<float>& params, int eot_id) {
    std::filesystem::create_directories(dir);
    const std::string config_path = (std::filesystem::path(dir) / "config.json").string();
    {
        std::ofstream out(config_path, std::ios::binary | std::ios::trunc);
        out << gpt2_hf_config(model.shape(), eot_id).dump(2) << "\n";
        if (!out) fail(config_path, "cannot write");
    }
    std::vector<TensorToWrite> tensors;
    for (const ParamTensor& t : model.layout())
        tensors.push_back(
            {t.name, "F32", t.shape, params.data() + t.offset, t.count * sizeof(float)});
    write_safetensors((std::filesystem::path(dir) / "model.safetensors").string(), tensors,
                      {{"format", "pt"}});
}

void write_param_snapshot(const std::string& path, const Gpt2<float>& model,
                          const std::vector<float>& params, int step) {
    std::vector<uint16_t> halves(params.size());
    for (size_t i = 0; i < params.size(); ++i) halves[i] = f32_to_f16(params[i]);
    std::vector<TensorToWrite> tensors;
    for (const ParamTensor& t : model.layout())
        tensors.push_back(
            {t.name, "F16", t.shape, halves.data() + t.offset, t.count * sizeof(uint16_t)});
    write_safetensors(path, tensors, {{"format", "pt"}, {"step", std::to_string(step)}});
}

void save_checkpoint(const std::string& path, const Checkpoint& c) {
    const uint64_t bytes = c.params.size() * sizeof(float);
    const int64_t n = static_cast<int64_t>(c.params.size());
    write_safetensors(path,
                      {{"params", "F32", {n}, c.params.data(), bytes},
                       {"adam_m", "F32", {n}, c.adam_m.data(), bytes},
                       {"adam_v", "F32", {n}, c.adam_v.data(), bytes}},
                      {{"step", std::to_string(c.step)},
                       {"settings", c.settings.dump()},
                       {"corpus", c.corpus.dump()}});
}

Checkpoint load_checkpoint(const std::string& path) {
    SafetensorsFile file(path);
    Checkpoint c;
    auto meta = [&](const char* key) -> const std::string& {
        auto it = file.metadata().find(key);
        if (it == file.metadata().end())
            fail(path, std::string("not a training checkpoint: no '") + key + "' in __metadata__");
        return it->second;
    };
    try {
        size_t used = 0;
        c.step = std::stoi(meta("step"), &used);
        if (used != meta("step").size() || c.step < 0) throw std::invalid_argument("step");
        c.settings = json::parse(meta("settings"), json_depth_limit(path));
        c.corpus = json::parse(meta("corpus"), json_depth_limit(path));
    } catch (const Error&) {
        throw;
    } catch (const std::exception& e) {
        fail(path, std::string("malformed checkpoint metadata: ") + e.what());
    }
    auto tensor = [&](const char* name) {
        const SafetensorsTensor* t = file.find(name);
        if (!t || t->dtype != "F32" || t->shape.size() != 1)
            fail(path, std::string("checkpoint tensor '") + name + "' missing or not 1-D F32");
        std::vector<float> values(static_cast<size_t>(t->shape[0]));
        std::memcpy(values.data(), t->data, t->nbytes);
        return values;
    };
    c.params = tensor("params");
    c.adam_m = tensor("adam_m");
    c.adam_v = tensor("adam_v");
    if (c.adam_m.size() != c.params.size() || c.adam_v.size() != c.params.size())
        fail(path, "checkpoint tensors 'params', 'adam_m' and 'adam_v' differ in length");
    return c;
}

uint64_t token_hash(const std::vector<int>& train, const std::vector<int>& val) {
    uint64_t h = 0xcbf29ce484222325ull;
    auto add = [&](const std::vector<int>& ids) {
        for (int id : ids) {
            for (int k = 0; k < 4; ++k) {
                h ^= (static_cast<uint32_t>(id) >> (8 * k)) & 0xffu;
                h *= 0x100000001b3ull;
            }
        }
        h ^= 0xff;  // separator, so moving the split point changes the hash
        h *= 0x100000001b3ull;
    };
    add(train);
    add(val);
    return h;
}

}  // namespace ps
