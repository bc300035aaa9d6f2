// What a training run writes: a Hugging Face GPT-2 directory (config.json + model.safetensors,
// loadable by core/formats/hf_model.cpp and by transformers), f16 parameter snapshots, and a
// resumable checkpoint (parameters and AdamW moments in f32, so a resumed run continues
// bit-exactly).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/train/train_model.h"

namespace ps {

// config.json (GPT2LMHeadModel, gelu_new, tied embeddings; bos/eos = `eot_id`).
nlohmann::json gpt2_hf_config(const Gpt2Shape& shape, int eot_id);

// Writes dir/config.json and dir/model.safetensors (F32, Hugging Face tensor names).
void write_gpt2_hf(const std::string& dir, const Gpt2<float>& model,
                   const std::vector<float>& params, int eot_id);

// Writes the parameters as F16 safetensors with Hugging Face names; metadata names the step.
void write_param_snapshot(const std::string& path, const Gpt2<float>& model,
                          const std::vector<float>& params, int step);

// Everything needed to continue a run exactly.
struct Checkpoint {
    int step = 0;
    nlohmann::json settings;  // to_json(TrainSettings)
    nlohmann::json corpus;    // how the token stream was made, and its hash
    std::vector<float> params, adam_m, adam_v;
};

void save_checkpoint(const std::string& path, const Checkpoint& c);
// Throws ps::Error naming `path` if it is not a checkpoint or is inconsistent.
Checkpoint load_checkpoint(const std::string& path);

// FNV-1a over the token ids, to check that a resumed run sees the same token stream.
uint64_t token_hash(const std::vector<int>& train, const std::vector<int>& val);

}  // namespace ps
