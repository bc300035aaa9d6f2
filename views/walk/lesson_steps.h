// The lesson ("View > Lesson", --lesson): a ten-minute path through one forward pass for a
// class, in eight steps — tokens, one embedding row, one attention head that visibly does
// something, one neuron, the other layers, the logits, and the sampling dials moved by the
// step itself, and one dial turned: the most important head silenced. The lesson picks what to show
// from the trace's numbers: the head with the highest previous-token or induction score, and the
// most active neuron at the followed token.
#pragma once

#include <QString>
#include <vector>

#include "core/sampling/sampling.h"
#include "views/walk/walk_steps.h"

namespace ps {

class Session;
struct Trace;

std::vector<WalkStep> lesson_steps(const Config& config);

// The head a class should see: the largest previous-token or induction score over every head
// of every layer (attention_stats of the trace); `score` is that score and `induction` says
// which it was. {-1, -1} without attention patterns.
struct PickedHead {
    int layer = -1, head = -1;
    double score = 0;
    bool induction = false;
};
PickedHead pick_head(const Trace& trace);

// The neuron with the largest activation (blocks.l.mlp.hook_post) at `position`, over every
// layer. {-1, -1} without MLP activations.
struct PickedNeuron {
    int layer = -1, neuron = -1;
    float activation = 0;
};
PickedNeuron pick_neuron(const Trace& trace, int position);

// The sampling settings the sampling step shows, one after the other: temperatures from cold
// to hot, then top-k, then top-p, each with the others off.
std::vector<SamplingSettings> lesson_sampling_sequence();

// The text of the lesson's own steps (LayersPath, Sampling) and of the picked head and neuron
// (Attention and Mlp steps with layer -1), with the trace's numbers; empty otherwise.
QString lesson_numbers(const WalkStep& step, const Session& session);

}  // namespace ps
