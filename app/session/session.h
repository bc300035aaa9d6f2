// The one object that owns what the user is looking at: the model, the prompt and its tokens,
// the latest analysis (a Trace), the selected position, the sampling settings and the
// distribution they give. Views read it and react to its signals; they never talk to each other.
// Every slow step (loading, forward passes, generation) goes through AnalysisRunner.
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>
#include <memory>
#include <vector>

#include "app/session/analysis_runner.h"
#include "app/session/session_file.h"
#include "core/analysis/importance.h"
#include "core/analysis/layer_analysis.h"
#include "core/analysis/sweep.h"
#include "core/model/forward.h"
#include "core/model/intervention.h"
#include "core/model/model.h"
#include "core/model/weight_edit.h"
#include "core/sampling/sampling.h"

namespace ps {

class Session : public QObject {
    Q_OBJECT
  public:
    explicit Session(QObject* parent = nullptr);
    ~Session() override;

    // --- model -------------------------------------------------------------------------------
    // Loads off the GUI thread; modelChanged on success, modelLoadFailed (current model kept) on
    // failure.
    void openModel(const QString& path);
    // Models opened from now on widen F16/BF16/quantized matrices to f32 at load (four bytes per
    // parameter) instead of keeping them as stored (`--f32-weights`).
    void setF32Weights(bool on) { f32_weights_ = on; }
    bool f32Weights() const { return f32_weights_; }
    // Shows a model that is already in memory (a random or freshly trained one) as if opened.
    void setModel(std::shared_ptr<const Model> model);
    const std::shared_ptr<const Model>& model() const { return model_; }
    bool loading() const { return loader_.busy(); }

    // --- prompt ------------------------------------------------------------------------------
    // Re-tokenizes at once (tokensChanged) and re-analyzes after a short debounce.
    void setPrompt(const QString& text);
    const QString& prompt() const { return prompt_; }
    // The prompt's token ids, BOS first when the tokenizer adds one.
    const std::vector<int>& tokens() const { return tokens_; }
    // Appends the tokens' text to the prompt and analyzes at once.
    void appendTokens(const std::vector<int>& ids);
    // How long typing must pause before an analysis starts; by default it follows the last
    // analysis's time (0 to 150 ms), setDebounceMs fixes it.
    void setDebounceMs(int ms) {
        adaptive_debounce_ = false;
        debounce_.setInterval(ms);
    }
    int debounceMs() const { return debounce_.interval(); }
    // Starts the pending analysis now instead of after the debounce.
    void analyzeNow();
    // The model's context window (0 without a model). A prompt longer than it is not analyzed
    // (the views keep no trace) until the user shortens it: never truncated silently.
    int contextLength() const { return model_ ? model_->config.context_length : 0; }
    bool promptTooLong() const {
        return model_ && static_cast<int>(tokens_.size()) > contextLength();
    }
    // Stops the running analysis or generation: its result is dropped, the last finished trace
    // stays.
    void cancelAnalysis();

    // --- chat --------------------------------------------------------------------------------
    // Chat mode wraps the prompt as a user message in the model's chat template (the assistant's
    // turn opened) and appends sampled tokens to the reply instead of the prompt, so an
    // instruct model is looked at as it is used. Off by default, and meaningless (off) for a
    // model without a template.
    bool chatAvailable() const;
    void setChatMode(bool on);
    bool chatMode() const { return chat_mode_ && chatAvailable(); }
    // The text tokens() encode: the prompt, or in chat mode the rendered template + reply.
    QString modelText() const;
    const std::string& reply() const { return reply_; }
    // Why the template could not wrap the prompt (its raise_exception message...), else "".
    const QString& chatError() const { return chat_error_; }

    // --- analysis ----------------------------------------------------------------------------
    // The latest finished analysis; while a new one runs it may lag behind tokens().
    const std::shared_ptr<const Trace>& trace() const { return trace_; }
    // The logit lens, PCA trajectories and residual statistics of trace(), computed on the
    // worker after it (layerAnalysisReady); null until then, and when the trace has no
    // residual stream.
    const std::shared_ptr<const LayerAnalysis>& layerAnalysis() const { return layer_analysis_; }
    double lastForwardMs() const { return last_forward_ms_; }
    bool analyzing() const { return runner_.busy() || debounce_.isActive(); }
    void setTraceOptions(const TraceOptions& options) { trace_options_ = options; }
    AnalysisRunner& runner() { return runner_; }

    // --- interventions -----------------------------------------------------------------------
    // The activation changes every analysis and generation runs with, in order
    // (core/model/intervention.h); cleared with the model. Each change re-analyzes at once; the
    // positions before the first one a change can affect come from the last trace.
    const Interventions& interventions() const { return interventions_; }
    bool intervened() const;  // some intervention is on
    // Adds `iv`, or replaces the one acting on the same hook, layer, unit and position.
    void addIntervention(const Intervention& iv);
    void setInterventionEnabled(int index, bool on);
    void removeIntervention(int index);
    void clearInterventions();
    void setInterventions(const Interventions& list);
    // The intervention on this hook, layer and unit at every position, or -1.
    int findIntervention(Hook hook, int layer, int unit) const;
    // Parameter edits (core/model/weight_edit.h), listed with the interventions and saved with
    // them: every run uses runModel(), the loaded model with the enabled edits applied (built
    // on the worker, interventionsChanged when it is in use). clearInterventions() clears them.
    const std::vector<WeightEdit>& weightEdits() const { return weight_edits_; }
    void addWeightEdit(const WeightEdit& edit);  // replaces an edit of the same part
    void setWeightEditEnabled(int index, bool on);
    void removeWeightEdit(int index);
    void setWeightEdits(const std::vector<WeightEdit>& list);
    const std::shared_ptr<const Model>& runModel() const;
    // Replaces the interventions and weight edits with those of a session file (their specs,
    // read against the current model); what does not read is left out and named in the
    // returned messages ("interventions[2]: ...").
    QStringList restoreInterventions(const std::vector<SavedIntervention>& saved);
    // The logits row of `position` without the interventions, while some are on and the trace
    // is current; else null. What the Interventions dock compares the distribution with.
    const float* baselineLogitsAt(int position) const;

    // Which heads matter for the next token at the last position (core/analysis/importance.h),
    // on the worker with progress (importanceProgress) and cancel (cancelImportance); the
    // result (importanceReady) is dropped when the prompt, model or interventions change.
    // target -1: the model's top token.
    void computeImportance(int target = -1);
    void cancelImportance();
    const std::optional<HeadImportance>& importance() const { return importance_; }
    bool importanceRunning() const { return importance_runner_.busy(); }

    // A dose-response sweep (core/analysis/sweep.h): `component` scaled by `steps` factors from
    // 0 to 2, following `targets` (empty: the three most likely next tokens) at the last
    // position, on the worker with progress (sweepProgress) and cancel (cancelSweep). Dropped,
    // like importance(), when the prompt, model or interventions change.
    void computeSweep(const Intervention& component, const std::vector<int>& targets = {},
                      int steps = 9);
    void cancelSweep();
    const std::optional<ScaleSweep>& sweep() const { return sweep_; }
    // The unit of the latest sweep asked for (its action and factor unused).
    const std::optional<Intervention>& sweepComponent() const { return sweep_component_; }
    bool sweepRunning() const { return sweep_runner_.busy(); }

    // Adds a Patch whose values come from a run of `source` (tokenized as a prompt), or a Steer
    // along resid(plus) - resid(minus): the source runs go to the worker and the intervention
    // joins the list when they are done (interventionsChanged), or error() says why not.
    void addPatch(const Intervention& patch, const QString& source);
    void addSteering(const Intervention& steer, const QString& plus, const QString& minus);
    bool preparingIntervention() const { return source_runner_.busy(); }

    // --- selection ---------------------------------------------------------------------------
    // The selected position in trace(): by default (and after selectPosition(-1)) the last one.
    int position() const;
    void selectPosition(int position);
    int selectedPosition() const { return position_; }  // as selected: -1 follows the last
    // The selected layer, head and MLP neuron, shared by the layer views (clicking a head in the
    // overview focuses the heatmap, and so on). Clamped to the model; the neuron follows the most
    // active one until one is chosen.
    int layer() const;
    int head() const;
    int neuron() const;
    void selectLayer(int layer);
    void selectHead(int layer, int head);
    void selectNeuron(int layer, int neuron);

    // --- sampling ----------------------------------------------------------------------------
    const SamplingSettings& sampling() const { return sampling_; }
    void setSampling(const SamplingSettings& s);
    // apply_sampling at position(): null without an analysis.
    const Distribution* distribution() const { return distribution_ ? &*distribution_ : nullptr; }
    // Why there is no distribution at a position that has logits (e.g. a NaN logit), else "".
    const QString& distributionError() const { return distribution_error_; }
    // The logits row of `position` in trace(), or null.
    const float* logitsAt(int position) const;

    uint64_t seed() const { return seed_; }
    // Restarts the random sequence: the same seed and the same clicks give the same tokens.
    void setSeed(uint64_t seed);
    // Append one token drawn from the last position's distribution / its argmax.
    void sampleNext();
    void greedyNext();
    // Continues the prompt by up to n tokens on the worker (the same loop as `paramscope
    // generate`), stopping at end-of-text or the context length.
    void generate(int n);

  signals:
    void modelLoading(const QString& path);
    void modelChanged();
    void modelLoadFailed(const QString& path, const QString& message);  // current model kept
    void promptChanged();                                               // text and tokens
    void chatChanged();  // chat mode, its availability or the reply
    void analysisStarted();
    void analysisReady();
    void layerAnalysisReady();  // layerAnalysis() of the current trace()
    void selectionChanged();
    void samplingChanged();
    void distributionChanged();
    void seedChanged();
    void busyChanged(bool busy);
    void interventionsChanged();
    void importanceProgress(int done, int total);
    void importanceReady();  // importance() is set, or reset when it failed or went stale
    void sweepProgress(int done, int total);
    void sweepReady();  // sweep() is set, or reset when it failed or went stale
    void error(const QString& message);

  private:
    void tokenize();
    void startAnalysis();
    void startLayerAnalysis(std::shared_ptr<const Model> model, std::shared_ptr<const Trace> trace);
    void recomputeDistribution();
    void followMostActiveNeuron();
    void appendDrawn(bool greedy);
    void interventionsEdited();
    void dropExperiments();
    void weightEditsEdited();  // importance() and sweep(), which no longer apply

    AnalysisRunner loader_;
    AnalysisRunner runner_;
    QTimer debounce_;
    std::shared_ptr<const Model> model_;
    QString prompt_;
    bool chat_mode_ = false;
    std::string reply_;
    QString chat_error_;
    std::vector<int> tokens_;
    std::shared_ptr<const Trace> trace_;
    // The same tokens without the interventions (logits only), while some are on.
    std::shared_ptr<const Trace> baseline_;
    Interventions interventions_;
    AnalysisRunner importance_runner_;
    std::optional<HeadImportance> importance_;
    AnalysisRunner sweep_runner_;
    std::optional<ScaleSweep> sweep_;
    std::optional<Intervention> sweep_component_;
    AnalysisRunner source_runner_;  // patch sources and steering directions
    std::vector<WeightEdit> weight_edits_;
    std::shared_ptr<const Model> edited_model_;  // model_ with the enabled edits, or null
    AnalysisRunner edit_runner_;
    std::shared_ptr<const LayerAnalysis> layer_analysis_;
    TraceOptions trace_options_;
    double last_forward_ms_ = 0;
    bool adaptive_debounce_ = true;
    bool f32_weights_ = false;
    int position_ = -1;  // -1: follow the last position
    int layer_ = 0;
    int head_ = 0;
    int neuron_ = 0;
    // Until the user picks a neuron, the selection follows the most active one (at the
    // selected position, in the selected layer) of each new trace.
    bool neuron_chosen_ = false;
    SamplingSettings sampling_;
    std::optional<Distribution> distribution_;
    QString distribution_error_;
    uint64_t seed_ = 42;
    Sampler sampler_{42};
};

}  // namespace ps
