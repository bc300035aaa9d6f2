// The training loop's pieces, in order of one step: sample a batch, forward + backward, clip
// the gradient norm, AdamW update with the scheduled learning rate. As in llm.c's
// train_gpt2.c, with the optimizer state in flat vectors parallel to the parameters.
#include "core/train/loop.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/train/rng.h"

namespace ps {

using nlohmann::json;

int TrainSettings::warmup_steps() const {
    return warmup >= 0 ? warmup : std::min(200, steps / 10);
}

int TrainSettings::eval_period() const {
    return eval_every > 0 ? eval_every : std::max(1, steps / 20);
}

void TrainSettings::check() const {
    check_shape(shape);
    auto need = [](bool ok, const std::string& what) {
        if (!ok) throw Error("training settings: " + what);
    };
    need(steps >= 1 && steps <= 10000000, "steps must be in 1..10000000");
    need(batch >= 1 && batch <= 4096, "batch must be in 1..4096");
    need(lr > 0.0f && lr < 10.0f, "lr must be in (0, 10)");
    need(min_lr_ratio >= 0.0f && min_lr_ratio <= 1.0f, "min_lr_ratio must be in [0, 1]");
    need(warmup >= -1 && warmup <= steps, "warmup must be in 0..steps (or -1 for automatic)");
    need(weight_decay >= 0.0f && weight_decay < 1.0f, "weight decay must be in [0, 1)");
    need(beta1 >= 0.0f && beta1 < 1.0f && beta2 >= 0.0f && beta2 < 1.0f,
         "Adam betas must be in [0, 1)");
    need(adam_eps > 0.0f, "Adam epsilon must be positive");
    need(clip >= 0.0f, "clip must be >= 0");
    need(threads >= 1 && threads <= 1024, "threads must be in 1..1024");
    need(eval_every == -1 || eval_every >= 1, "eval_every must be >= 1 (or -1 for automatic)");
    need(eval_windows >= 1 && eval_windows <= 100000, "eval_windows must be in 1..100000");
}

json to_json(const TrainSettings& s) {
    return json{{"vocab_size", s.shape.vocab_size},
                {"context_length", s.shape.context_length},
                {"dim", s.shape.dim},
                {"n_layers", s.shape.n_layers},
                {"n_heads", s.shape.n_heads},
                {"steps", s.steps},
                {"batch", s.batch},
                {"lr", s.lr},
                {"min_lr_ratio", s.min_lr_ratio},
                {"warmup", s.warmup},
                {"weight_decay", s.weight_decay},
                {"beta1", s.beta1},
                {"beta2", s.beta2},
                {"adam_eps", s.adam_eps},
                {"clip", s.clip},
                {"seed", std::to_string(s.seed)},  // as a string: JSON numbers lose 64-bit ints
                {"threads", s.threads},
                {"eval_every", s.eval_every},
                {"eval_windows", s.eval_windows}};
}

TrainSettings settings_from_json(const json& j, const std::string& source) {
    auto field = [&](const char* name) -> const json& {
        if (!j.is_object() || !j.contains(name))
            fail(source, std::string("missing '") + name + "'");
        return j[name];
    };
    auto integer = [&](const char* name) {
        const json& v = field(name);
        if (!v.is_number_integer() || v.get<int64_t>() < -1 || v.get<int64_t>() > (1 << 30))
            fail(source, std::string("'") + name + "' must be an integer, got " + v.dump());
        return static_cast<int>(v.get<int64_t>());
    };
    auto number = [&](const char* name) {
        const json& v = field(name);
        if (!v.is_number()) fail(source, std::string("'") + name + "' must be a number");
        return v.get<float>();
    };
    TrainSettings s;
    s.shape.vocab_size = integer("vocab_size");
    s.shape.context_length = integer("context_length");
    s.shape.dim = integer("dim");
    s.shape.n_layers = integer("n_layers");
    s.shape.n_heads = integer("n_heads");
    s.steps = integer("steps");
    s.batch = integer("batch");
    s.lr = number("lr");
    s.min_lr_ratio = number("min_lr_ratio");
    s.warmup = integer("warmup");
    s.weight_decay = number("weight_decay");
    s.beta1 = number("beta1");
    s.beta2 = number("beta2");
    s.adam_eps = number("adam_eps");
    s.clip = number("clip");
    const json& seed = field("seed");
    if (!seed.is_string()) fail(source, "'seed' must be a decimal string");
    try {
        size_t used = 0;
        s.seed = std::stoull(seed.get<std::string>(), &used);
        if (used != seed.get<std::string>().size()) throw std::invalid_argument("trailing");
    } catch (const std::exception&) {
        fail(source, "'seed' must be a decimal string, got " + seed.dump());
    }
    s.threads = integer("threads");
    s.eval_every = integer("eval_every");
    s.eval_windows = integer("eval_windows");
    try {
        s.check();
    } catch (const Error& e) {
        fail(source, e.what());
    }
    return s;
}

Trainer::Trainer(const TrainSettings& settings, std::vector<int> train, std::vector<int> val)
    : s_(settings), model_(settings.shape), train_(std::move(train)), val_(std::move(val)) {
    s_.check();
    const size_t need = static_cast<size_t>(s_.shape.context_length) + 1;
    if (train_.size() < need || val_.size() < need)
        throw Error("corpus too small: " + std::to_string(train_.size()) + " training and " +
                    std::to_string(val_.size()) + " validation tokens, each needs at least " +
                    std::to_string(need) + " (context + 1)");
    const size_t n = model_.param_count();
    params_.assign(n, 0.0f);
    grads_.assign(n, 0.0f);
    m_.assign(n, 0.0f);
    v_.assign(n, 0.0f);
    decay_.assign(n, 0);
    for (const ParamTensor& t : model_.layout())
        if (t.decay)
            std::fill_n(decay_.begin() + static_cast<std::ptrdiff_t>(t.offset), t.count, 1);
    init_params();
}

void Trainer::init_params() {
    Rng rng(s_.seed, 1);
    const float std_dev = 0.02f;
    const float resid_std = std_dev / std::sqrt(2.0f * static_cast<float>(s_.shape.n_layers));
    for (const ParamTensor& t : model_.layout()) {
        float* p = params_.data() + t.offset;
        const bool gain = t.name.find("ln_") != std::string::npos && t.name.ends_with(".weight");
        if (gain) {
            std::fill_n(p, t.count, 1.0f);
        } else if (t.shape.size() == 2) {
            // The projections writing into the residual stream are scaled down so that the
            // stream's variance doesn't grow with depth (GPT-2 paper, section 2.3).
            const bool resid = t.name.ends_with("c_proj.weight");
            const float sd = resid ? resid_std : std_dev;
            for (size_t i = 0; i < t.count; ++i) p[i] = static_cast<float>(rng.normal()) * sd;
        }  // biases stay zero
    }
}

// Linear warm-up from lr/warmup to lr, then cosine decay to lr * min_lr_ratio at the last step.
float Trainer::learning_rate(int step) const {
    const int warmup = s_.warmup_steps();
    if (step <= warmup) return s_.lr * static_cast<float>(step) / static_cast<float>(warmup);
    const int decay_steps = s_.steps - warmup;
    if (decay_steps <= 0) return s_.lr;
    const double progress =
        std::min(1.0, static_cast<double>(step - warmup) / static_cast<double>(decay_steps));
    const double min_lr = static_cast<double>(s_.lr) * s_.min_lr_ratio;
    return static_cast<float>(min_lr + 0.5 * (s_.lr - min_lr) * (1.0 + std::cos(M_PI * progress)));
}

// `batch` windows of context + 1 tokens at random offsets: inputs are the first context
// tokens, targets the same shifted by one. The offsets depend on (seed, step) only, so a
// resumed run sees the same batches as an uninterrupted one.
void Trainer::sample_batch(int step, std::vector<int>& inputs, std::vector<int>& targets) const {
    const int B = s_.batch, T = s_.shape.context_length;
    Rng rng(s_.seed, 1000 + static_cast<uint64_t>(step));
    const size_t starts = train_.size() - static_cast<size_t>(T);  // valid offsets: [0, starts)
    inputs.resize(static_cast<size_t>(B) * T);
    targets.resize(inputs.size());
    for (int b = 0; b < B; ++b) {
        const size_t start = static_cast<size_t>(rng.uniform() * static_cast<double>(starts));
        for (int t = 0; t < T; ++t) {
            inputs[static_cast<size_t>(b) * T + t] = train_[start + t];
            targets[static_cast<size_t>(b) * T + t] = train_[start + t + 1];
        }
    }
}

// Scales the gradient to norm <= clip. The norm is summed serially in double: a parallel
// reduction's order would depend on the thread count.
float Trainer::clip_gradients() {
    double sum = 0.0;
    for (float g : grads_) sum += static_cast<double>(g) * g;
    const float norm = static_cast<float>(std::sqrt(sum));
    if (s_.clip > 0.0f && norm > s_.clip) {
        const float scale = s_.clip / norm;
        for (float& g : grads_) g *= scale;
    }
    return norm;
}

// AdamW (Loshchilov & Hutter): bias-corrected moments, and weight decay applied to the
// parameter directly (decoupled from the gradient), to matrices only.
void Trainer::adamw_update(float lr) {
    const float b1 = s_.beta1, b2 = s_.beta2;
    const float t = static_cast<float>(step_ + 1);
    const float correction1 = 1.0f - std::pow(b1, t);
    const float correction2 = 1.0f - std::pow(b2, t);
    const std::ptrdiff_t n = static_cast<std::ptrdiff_t>(params_.size());
#pragma omp parallel for schedule(static) num_threads(s_.threads)
    for (std::ptrdiff_t i = 0; i < n; ++i) {
        const float g = grads_[i];
        m_[i] = b1 * m_[i] + (1.0f - b1) * g;
        v_[i] = b2 * v_[i] + (1.0f - b2) * g * g;
        const float m_hat = m_[i] / correction1;
        const float v_hat = v_[i] / correction2;
        const float decay = decay_[i] ? s_.weight_decay * params_[i] : 0.0f;
        params_[i] -= lr * (m_hat / (std::sqrt(v_hat) + s_.adam_eps) + decay);
    }
}

StepStats Trainer::train_step() {
    StepStats stats;
    stats.step = step_ + 1;
    std::vector<int> inputs, targets;
    sample_batch(stats.step, inputs, targets);
    stats.train_loss = model_.loss(params_.data(), inputs.data(), targets.data(), s_.batch,
                                   s_.shape.context_length, grads_.data(), s_.threads);
    stats.grad_norm = clip_gradients();
    stats.lr = learning_rate(stats.step);
    adamw_update(stats.lr);
    step_ = stats.step;
    return stats;
}

// Windows of context + 1 tokens spread evenly over the validation tokens (overlapping only
// when there are more windows than fit), evaluated `batch` at a time.
float Trainer::validation_loss() const {
    const int T = s_.shape.context_length;
    const size_t starts = val_.size() - static_cast<size_t>(T);  // valid offsets: [0, starts)
    const int windows = static_cast<int>(
        std::min<size_t>(static_cast<size_t>(s_.eval_windows), std::max<size_t>(1, starts / T)));
    double total = 0.0;
    std::vector<int> inputs, targets;
    for (int w0 = 0; w0 < windows; w0 += s_.batch) {
        const int B = std::min(s_.batch, windows - w0);
        inputs.resize(static_cast<size_t>(B) * T);
        targets.resize(inputs.size());
        for (int b = 0; b < B; ++b) {
            const size_t start =
                static_cast<size_t>(w0 + b) * starts / static_cast<size_t>(windows);
            for (int t = 0; t < T; ++t) {
                inputs[static_cast<size_t>(b) * T + t] = val_[start + t];
                targets[static_cast<size_t>(b) * T + t] = val_[start + t + 1];
            }
        }
        total += static_cast<double>(model_.loss(params_.data(), inputs.data(), targets.data(), B,
                                                 T, nullptr, s_.threads)) *
                 B;
    }
    return static_cast<float>(total / windows);
}

void Trainer::restore(int step, std::vector<float> params, std::vector<float> m,
                      std::vector<float> v) {
    const size_t n = model_.param_count();
    if (params.size() != n || m.size() != n || v.size() != n)
        throw Error("checkpoint state has " + std::to_string(params.size()) +
                    " parameters, the model has " + std::to_string(n));
    if (step < 0 || step > s_.steps)
        throw Error("checkpoint step " + std::to_string(step) + " is outside 0.." +
                    std::to_string(s_.steps));
    step_ = step;
    params_ = std::move(params);
    m_ = std::move(m);
    v_ = std::move(v);
}

}  // namespace ps
