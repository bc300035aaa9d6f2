#include "app/session/session.h"

#include "core/tokenizer/prompt.h"

#include <algorithm>
#include <chrono>
#include <exception>

#include "app/session/exception_text.h"
#include "core/error.h"
#include "core/formats/loader.h"
#include "core/sampling/generate.h"

namespace ps {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

Session::Session(QObject* parent) : QObject(parent) {
    debounce_.setSingleShot(true);
    debounce_.setInterval(150);
    connect(&debounce_, &QTimer::timeout, this, &Session::startAnalysis);
    auto busy = [this] { emit busyChanged(runner_.busy() || loader_.busy()); };
    connect(&runner_, &AnalysisRunner::busyChanged, this, busy);
    connect(&loader_, &AnalysisRunner::busyChanged, this, busy);
    // A cancelled experiment's worker stops a moment after the click: the views learn it here.
    connect(&importance_runner_, &AnalysisRunner::busyChanged, this, [this](bool running) {
        if (!running) emit importanceReady();
    });
    connect(&sweep_runner_, &AnalysisRunner::busyChanged, this, [this](bool running) {
        if (!running) emit sweepReady();
    });
}

Session::~Session() = default;

// ---------------------------------------------------------------------------------------------
// Model

void Session::openModel(const QString& path) {
    emit modelLoading(path);
    LoadOptions options;
    options.f32_weights = f32_weights_;
    loader_.submit([this, path, options](const std::atomic<bool>&) -> AnalysisRunner::Continuation {
        try {
            std::shared_ptr<const Model> m = load_model(path.toStdString(), options);
            if (!m->tokenizer) throw std::runtime_error("the model has no tokenizer");
            return [this, m] { setModel(m); };
        } catch (...) {
            const QString msg = what_of(std::current_exception());
            return [this, path, msg] { emit modelLoadFailed(path, msg); };
        }
    });
}

void Session::setModel(std::shared_ptr<const Model> model) {
    runner_.invalidate();  // results for the old model are stale
    model_ = std::move(model);
    trace_.reset();
    baseline_.reset();
    interventions_.clear();  // they name layers and units of the old model
    weight_edits_.clear();   // and tensors of it
    edited_model_.reset();
    edit_runner_.invalidate();
    importance_runner_.invalidate();
    importance_.reset();
    sweep_runner_.invalidate();
    source_runner_.invalidate();
    sweep_.reset();
    sweep_component_.reset();
    layer_analysis_.reset();
    distribution_.reset();
    position_ = -1;
    neuron_chosen_ = false;
    reply_.clear();
    tokenize();
    emit modelChanged();
    emit chatChanged();
    emit promptChanged();
    emit distributionChanged();
    emit interventionsChanged();
    emit importanceReady();
    emit sweepReady();
    analyzeNow();
}

// ---------------------------------------------------------------------------------------------
// Prompt

void Session::tokenize() {
    dropExperiments();  // a sweep of other tokens no longer applies, even before the analysis
    tokens_.clear();
    chat_error_.clear();
    if (!model_) return;
    const Tokenizer& tok = *model_->tokenizer;
    try {
        tokens_ = prompt_tokens(tok, {prompt_.toStdString(), chatMode(), reply_});
    } catch (...) {
        // A template that fails (raise_exception, unsupported construct) is shown where the
        // chat switch is, not as a modal error on every keystroke.
        const QString message = what_of(std::current_exception());
        if (chatMode())
            chat_error_ = message;
        else
            emit error(message);
    }
}

bool Session::chatAvailable() const {
    return model_ && !model_->tokenizer->chat_template.empty();
}

void Session::setChatMode(bool on) {
    if (on == chat_mode_) return;
    chat_mode_ = on;
    reply_.clear();
    tokenize();
    emit chatChanged();
    emit promptChanged();
    if (model_) analyzeNow();
}

QString Session::modelText() const {
    if (!model_) return prompt_;
    try {
        return QString::fromStdString(
            model_text(*model_->tokenizer, {prompt_.toStdString(), chatMode(), reply_}));
    } catch (...) {
        return {};
    }
}

void Session::setPrompt(const QString& text) {
    if (text == prompt_) return;
    prompt_ = text;
    if (!reply_.empty()) {  // a new question: the reply to the old one is gone
        reply_.clear();
        emit chatChanged();
    }
    tokenize();
    emit promptChanged();
    if (model_) debounce_.start();
}

void Session::appendTokens(const std::vector<int>& ids) {
    if (!model_ || ids.empty()) return;
    const Tokenizer& tok = *model_->tokenizer;
    std::string bytes;
    if (prompt_.isEmpty() && !chatMode()) {
        bytes = tok.decode(ids);  // drops SentencePiece's leading dummy space
    } else {
        for (int id : ids) bytes += tok.token_bytes(id);
    }
    if (chatMode()) {
        // The model's answer belongs to its own turn, after the template's, not to the user's
        // message.
        reply_ += bytes;
        emit chatChanged();
    } else {
        prompt_ += QString::fromUtf8(bytes);
    }
    tokenize();
    emit promptChanged();
    analyzeNow();
}

// The logit lens, PCA trajectories and residual statistics: a job of their own after the
// forward pass, so the distribution shows first (on GPT-2 124M the lens alone is ~13 unembedding
// products, seconds of work, where the pass takes a fraction of one).
void Session::startLayerAnalysis(std::shared_ptr<const Model> model,
                                 std::shared_ptr<const Trace> trace) {
    runner_.submit(
        [this, model, trace](const std::atomic<bool>& cancelled) -> AnalysisRunner::Continuation {
            try {
                auto layers = std::make_shared<const LayerAnalysis>(
                    analyze_layers(*model, *trace, [&cancelled] { return cancelled.load(); }));
                return [this, trace, layers] {
                    if (trace != trace_) return;
                    layer_analysis_ = layers;
                    emit layerAnalysisReady();
                };
            } catch (const Cancelled&) {
                return [] {};  // a newer analysis was asked for: nothing to show
            } catch (...) {
                const QString msg = what_of(std::current_exception());
                return [this, msg] { emit error(msg); };
            }
        });
}

void Session::analyzeNow() {
    debounce_.stop();
    startAnalysis();
}

// ---------------------------------------------------------------------------------------------
// Analysis

void Session::cancelAnalysis() {
    debounce_.stop();
    runner_.invalidate();
}

void Session::startAnalysis() {
    if (!model_) return;
    // Nothing to run: an empty prompt without BOS, or one beyond the context window (the
    // prompt area asks the user whether to keep its last tokens).
    if (tokens_.empty() || promptTooLong()) {
        runner_.invalidate();
        trace_.reset();
        layer_analysis_.reset();
        recomputeDistribution();
        emit analysisReady();
        return;
    }
    // The previous trace lends the positions the new prompt shares with it (the key/value
    // cache): typing at the end of the prompt recomputes only the last word's tokens.
    // An importance sweep or a scale sweep of the previous prompt or interventions no longer
    // applies.
    dropExperiments();
    // The run uses the weight edits; the plain baseline beside it uses the file's weights.
    auto run =
        [this, model = runModel(), plain_model = model_, ids = tokens_, options = trace_options_,
         reuse = trace_, list = interventions_, baseline_reuse = baseline_,
         with_baseline = intervened()](const std::atomic<bool>&) -> AnalysisRunner::Continuation {
        try {
            const auto t0 = std::chrono::steady_clock::now();
            auto trace =
                std::make_shared<const Trace>(forward(*model, ids, options, reuse.get(), list));
            const double ms = ms_since(t0);
            // The plain run beside it, logits and cache only, for the before/after comparison.
            std::shared_ptr<const Trace> baseline;
            if (with_baseline) {
                TraceOptions plain = TraceOptions::none();
                plain.all_logits = plain.keys_values = true;
                baseline = std::make_shared<const Trace>(
                    forward(*plain_model, ids, plain, baseline_reuse.get()));
            }
            return [this, model, trace, baseline, ms] {
                trace_ = trace;
                baseline_ = baseline;
                layer_analysis_.reset();
                last_forward_ms_ = ms;
                // Wait for typing to pause only as long as an analysis takes: on a small model
                // every keystroke is analyzed at once.
                if (adaptive_debounce_) debounce_.setInterval(std::clamp(int(ms), 0, 150));
                recomputeDistribution();
                if (!neuron_chosen_) followMostActiveNeuron();
                emit analysisReady();
                if (trace->options.residual) startLayerAnalysis(model, trace);
            };
        } catch (...) {
            const QString msg = what_of(std::current_exception());
            return [this, msg] { emit error(msg); };
        }
    };
    runner_.submit(run);
    emit analysisStarted();
}

// ---------------------------------------------------------------------------------------------
// Selection and sampling

int Session::position() const {
    if (!trace_ || trace_->ids.empty()) return -1;
    const int last = static_cast<int>(trace_->ids.size()) - 1;
    return (position_ < 0 || position_ > last) ? last : position_;
}

void Session::selectPosition(int position) {
    position_ = position;
    recomputeDistribution();
    emit selectionChanged();
}

int Session::layer() const {
    if (!model_) return 0;
    return std::clamp(layer_, 0, std::max(0, model_->config.n_layers - 1));
}

int Session::head() const {
    if (!model_) return 0;
    return std::clamp(head_, 0, std::max(0, model_->config.n_heads - 1));
}

int Session::neuron() const {
    if (!model_) return 0;
    return std::clamp(neuron_, 0, std::max(0, model_->config.hidden_dim - 1));
}

void Session::selectLayer(int layer) {
    layer_ = layer;
    emit selectionChanged();
}

void Session::selectHead(int layer, int head) {
    layer_ = layer;
    head_ = head;
    emit selectionChanged();
}

void Session::selectNeuron(int layer, int neuron) {
    layer_ = layer;
    neuron_ = neuron;
    neuron_chosen_ = true;
    emit selectionChanged();
}

void Session::followMostActiveNeuron() {
    const int p = position(), l = layer();
    if (!trace_ || p < 0 || size_t(l) >= trace_->layers.size()) return;
    const Activation& post = trace_->layers[size_t(l)].mlp_post;
    if (post.rows() <= p || post.cols() == 0) return;
    Eigen::Index top = 0;
    post.row(p).maxCoeff(&top);
    // No selectionChanged: analysisReady follows, and the views read the new trace with it.
    neuron_ = static_cast<int>(top);
}

const float* Session::logitsAt(int position) const {
    if (!trace_ || position < 0 || position >= static_cast<int>(trace_->ids.size())) return nullptr;
    const auto& logits = trace_->logits;
    const int last = static_cast<int>(trace_->ids.size()) - 1;
    if (logits.rows() == last + 1) return logits.data() + int64_t(position) * logits.cols();
    if (logits.rows() == 1 && position == last) return logits.data();
    return nullptr;
}

void Session::setSampling(const SamplingSettings& s) {
    sampling_ = s;
    emit samplingChanged();
    recomputeDistribution();
}

void Session::recomputeDistribution() {
    distribution_.reset();
    distribution_error_.clear();
    if (const float* logits = logitsAt(position())) {
        try {
            distribution_ = apply_sampling(logits, model_->config.vocab_size, sampling_);
        } catch (...) {
            distribution_error_ = what_of(std::current_exception());
            emit error(distribution_error_);
        }
    }
    emit distributionChanged();
}

void Session::setSeed(uint64_t seed) {
    seed_ = seed;
    sampler_ = Sampler(seed);
    emit seedChanged();
}

void Session::sampleNext() {
    appendDrawn(false);
}
void Session::greedyNext() {
    appendDrawn(true);
}

// One token from the last position of the current analysis, if it is up to date.
void Session::appendDrawn(bool greedy) {
    if (!model_ || !trace_ || trace_->ids != tokens_ || analyzing()) return;
    const int last = static_cast<int>(tokens_.size()) - 1;
    if (last + 1 >= model_->config.context_length) {
        emit error(QStringLiteral("the prompt fills the model's context (%1 tokens)")
                       .arg(model_->config.context_length));
        return;
    }
    const float* logits = logitsAt(last);
    if (!logits) return;
    int id;
    if (greedy) {
        SamplingSettings s;
        s.temperature = 0;
        id = apply_sampling(logits, model_->config.vocab_size, s).ranked[0];
    } else if (position() == last && distribution_) {
        id = sampler_.sample(*distribution_);
    } else {
        id = sampler_.sample(apply_sampling(logits, model_->config.vocab_size, sampling_));
    }
    if (is_stop_token(*model_->tokenizer, id)) {
        emit error(QStringLiteral("the model ended the text (token %1)").arg(id));
        return;
    }
    appendTokens({id});
}

void Session::generate(int n) {
    if (!model_ || tokens_.empty() || n <= 0) return;
    debounce_.stop();
    auto work = [this, model = runModel(), ids = tokens_, settings = sampling_, sampler = sampler_,
                 list = interventions_,
                 n](const std::atomic<bool>& cancelled) mutable -> AnalysisRunner::Continuation {
        try {
            GenerateOptions options;
            options.steps = n;
            options.top_n = 0;
            options.cancelled = [&cancelled] { return cancelled.load(); };
            options.interventions = list;
            const std::vector<int> added =
                generate_tokens(*model, ids, settings, sampler, options).continuation();
            return [this, added, sampler] {
                sampler_ = sampler;
                appendTokens(added);
                if (added.empty()) analyzeNow();
            };
        } catch (...) {
            const QString msg = what_of(std::current_exception());
            return [this, msg] { emit error(msg); };
        }
    };
    runner_.submit(work);
    emit analysisStarted();
}

}  // namespace ps
