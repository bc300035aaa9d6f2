// The steps of the guided walk through one forward pass ("Follow the prompt"): tokens, the
// embedding lookup, each layer's attention and MLP, the final norm, the logits, temperature,
// top-k, top-p, min-p, the chosen token, and a dial turned: the head that matters most silenced.
// Each step names the view it is about, the part of that view to frame, its explanation topic, and
// says what the model computed for the current prompt with the real numbers of the session's trace
// and distribution.
#pragma once

#include <QString>
#include <vector>

#include "core/model/model.h"

namespace ps {

class Session;

enum class WalkStepKind {
    Tokens,
    Embeddings,
    Attention,
    Mlp,
    FinalNorm,
    Logits,
    Temperature,
    TopK,
    TopP,
    MinP,
    Chosen,
    LayersPath,  // the lesson: "the other layers do the same"
    Sampling,    // the lesson: temperature, top-k and top-p moved by the step itself
    TurnDial     // the most important head silenced by the step itself (GuidedWalk)
};

struct WalkStep {
    WalkStepKind kind = WalkStepKind::Tokens;
    int layer = -1;  // Attention and Mlp steps; -1 there: the lesson picks (lesson_steps.h)
    QString title;   // "Layer 2 · attention"
    QString view;    // the view to raise, by MainWindow::view name
    QString target;  // objectName of the part of the view to frame; empty: the whole view
    QString topic;   // explanation topic (views/walk/explanations.h)
};

// The step that silences the head the prediction needs most (the walk's and the lesson's last).
WalkStep turn_dial_step();

// The steps for a model with this configuration: an attention and an MLP step per layer.
std::vector<WalkStep> walk_steps(const Config& config);

// Points the session's selection where the step looks: the step's layer (keeping the head;
// the last layer for the final norm), and for an MLP step the neuron with the largest
// activation at the selected position.
void select_for_step(const WalkStep& step, Session& session);

// What the step computed for the current prompt at the selected position, as rich text with
// the trace's numbers; empty without an up-to-date analysis.
QString step_numbers(const WalkStep& step, const Session& session);

}  // namespace ps
