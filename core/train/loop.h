// Training a GPT-2 on a token stream: random batches of context-length windows, AdamW with weight
// decay on matrices only, global gradient-norm clipping, linear warm-up then cosine decay of the
// learning rate, and a validation loss on held-out tokens. Deterministic for a given seed and
// thread count: batches are a function of (seed, step) and every reduction has a fixed order.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/train/train_model.h"

namespace ps {

struct TrainSettings {
    Gpt2Shape shape;
    int steps = 1000;
    int batch = 16;             // sequences per step, each `context_length` tokens
    float lr = 1e-3f;           // peak learning rate
    float min_lr_ratio = 0.1f;  // the cosine ends at lr * min_lr_ratio
    int warmup = -1;            // warm-up steps; -1: steps / 10, at most 200
    float weight_decay = 0.1f;
    float beta1 = 0.9f, beta2 = 0.95f, adam_eps = 1e-8f;
    float clip = 1.0f;  // maximum global gradient norm (0 = no clipping)
    uint64_t seed = 1;
    int threads = 1;
    int eval_every = -1;    // validation period in steps; -1: steps / 20 (at least 1)
    int eval_windows = 32;  // validation windows (spread evenly over the held-out tokens)

    int warmup_steps() const;
    int eval_period() const;
    // Throws ps::Error naming the first setting out of range.
    void check() const;
};

nlohmann::json to_json(const TrainSettings& s);
// Every field must be present and valid (as written by to_json); errors name `source`.
TrainSettings settings_from_json(const nlohmann::json& j, const std::string& source);

struct StepStats {
    int step = 0;          // the update just made (1-based)
    float train_loss = 0;  // mean loss of the batch, before the update
    float lr = 0;          // learning rate of the update
    float grad_norm = 0;   // global norm before clipping
};

class Trainer {
  public:
    // Initializes the parameters as GPT-2 does, from settings.seed: N(0, 0.02) for embeddings
    // and weights, N(0, 0.02 / sqrt(2 * layers)) for the projections into the residual stream,
    // zero biases, unit LayerNorm gains. `train` and `val` each need context_length + 1 tokens.
    Trainer(const TrainSettings& settings, std::vector<int> train, std::vector<int> val);

    const TrainSettings& settings() const { return s_; }
    const Gpt2<float>& model() const { return model_; }
    int step() const { return step_; }
    const std::vector<float>& params() const { return params_; }

    float learning_rate(int step) const;  // for update `step` (1-based)
    StepStats train_step();               // makes update step() + 1
    float validation_loss() const;        // mean loss over the validation windows

    // The optimizer state, for checkpoints: replaces parameters, moments and the step count.
    const std::vector<float>& adam_m() const { return m_; }
    const std::vector<float>& adam_v() const { return v_; }
    void restore(int step, std::vector<float> params, std::vector<float> m, std::vector<float> v);

  private:
    void init_params();
    void sample_batch(int step, std::vector<int>& inputs, std::vector<int>& targets) const;
    float clip_gradients();  // returns the norm before clipping
    void adamw_update(float lr);

    TrainSettings s_;
    Gpt2<float> model_;
    std::vector<int> train_, val_;
    std::vector<float> params_, grads_, m_, v_;
    std::vector<uint8_t> decay_;  // per parameter: 1 if weight decay applies
    int step_ = 0;
};

}  // namespace ps
