// Interventions: changes to the activations of the forward pass at TransformerLens hook points
// (what TransformerLens's run_with_hooks and nnsight's edits do in Python), applied inside
// forward() in list order. "What happens if this head is silenced?" is one Intervention.
#pragma once

#include <Eigen/Core>
#include <memory>
#include <string>
#include <vector>

#include "core/model/model.h"
#include "core/tensor/activation.h"

namespace ps {

// Where an intervention acts, as TransformerLens names the hook of layer L.
enum class Hook {
    ResidPre,  // blocks.L.hook_resid_pre [T, dim]: the stream entering the layer
    AttnZ,     // blocks.L.attn.hook_z [T, heads * head_dim]: each head's output, before W_O
    AttnOut,   // blocks.L.hook_attn_out [T, dim]: what attention adds to the stream
    MlpPost,   // blocks.L.mlp.hook_post [T, hidden]: the neurons after the activation function
    MlpOut,    // blocks.L.hook_mlp_out [T, dim]: what the MLP adds to the stream
};
// "hook_resid_pre", "attn.hook_z", "hook_attn_out", "mlp.hook_post", "hook_mlp_out".
const char* hook_name(Hook h);

struct Intervention {
    enum class Action {
        Scale,       // the unit times `factor` (0 ablates, 2 amplifies)
        MeanAblate,  // the unit replaced by its mean over the prompt's positions
        Patch,       // the unit replaced by the source run's (`values`) at the same positions
        Steer,       // `factor` x `values` (one row) added at `position` and every later one
    };
    Action action = Action::Scale;
    Hook hook = Hook::AttnZ;
    int layer = 0;
    int unit = -1;        // the head (attn.hook_z) or neuron (mlp.hook_post); -1: every column
    int position = -1;    // the one position acted on; -1: every position (Steer: from 0 on)
    float factor = 0.0f;  // Scale's factor, Steer's alpha
    bool enabled = true;
    // Patch: the source run's activation at this hook, [source positions, unit width]; Steer:
    // the direction resid(plus) - resid(minus), [1, dim]. Set by the functions below.
    std::shared_ptr<const MatrixRM> values;
    std::string source;  // Patch and Steer: the prompts `values` came from, for display

    // The command-line form (parse_intervention reads it back, sources aside).
    std::string spec() const;
    // A short description for people: "head 1.6 ablated", "neuron 4.163 x2" ...
    std::string describe() const;
    // The first position whose activations it can change: the key/value cache before it stays
    // valid (MeanAblate: 0, its mean depends on every position).
    int first_position() const;
    // The columns it acts on at its hook: [first, first + count).
    int first_column(const Config& c) const;
    int column_count(const Config& c) const;
    bool same_as(const Intervention& other) const;  // the same change, values compared by value
};
using Interventions = std::vector<Intervention>;

// Reads one --intervene SPEC (README "Interventions"):
//   ablate:blocks.L.attn.hook_z:H[@P]   ablate:blocks.L.mlp.hook_post:N[@P]
//   mean-ablate:...                      scale:blocks.L.attn.hook_z:H=F   (also @P before =)
//   ablate:blocks.L.hook_attn_out[@P]    ablate:blocks.L.hook_mlp_out[@P]
//   patch:blocks.L.hook_resid_pre[@P]    (also hook_attn_out, hook_mlp_out, attn.hook_z:H)
//   steer:blocks.L.hook_resid_pre=ALPHA[@P]
// checked against `c`. Patch and Steer come back without values (set_patch_source,
// set_steering). Throws ps::Error naming the part that is wrong and what was expected.
Intervention parse_intervention(const std::string& spec, const Config& c);
// Whether `spec` is a weight edit ("weight:..."), which core/model/weight_edit.h reads.
bool is_weight_edit(const std::string& spec);

// Applies the enabled interventions of `list` at `hook` of `layer` to x, whose rows are the
// positions start .. start + rows - 1, in list order. MeanAblate needs start == 0 (forward()
// computes every position when the list has one).
void apply_interventions(const Interventions& list, Hook hook, int layer, int start,
                         Eigen::Ref<MatrixRM> x, const Config& c);
// Whether some enabled intervention acts at `hook` of `layer`.
bool acts_at(const Interventions& list, Hook hook, int layer);

// How many leading positions two runs with these lists compute identically, given the same
// tokens: up to the first position any intervention where the lists differ can change.
int positions_unaffected(const Interventions& a, const Interventions& b, int limit);

// Fills a Patch's values from a run of the model over `source_ids`.
void set_patch_source(const Model& model, Intervention& patch, const std::vector<int>& source_ids,
                      const std::string& label);
// Fills a Steer's direction: resid_pre at its layer, last position of `plus` minus `minus`'s.
void set_steering(const Model& model, Intervention& steer, const std::vector<int>& plus,
                  const std::vector<int>& minus, const std::string& label);

}  // namespace ps
