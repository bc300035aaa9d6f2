// What the residual stream does on its way through the layers, computed from a Trace: the logit
// lens (what the model would predict if it stopped after each layer), a 2-D PCA of every
// token's path through the layers, norms and cosines of the residual and of what each sublayer
// adds, and the most active MLP neurons.
//
// The residual stream is looked at in L+1 places ("boundaries"): boundary 0 is the input
// embedding (token + position embedding = blocks.0.hook_resid_pre), boundary l+1 is
// blocks.l.hook_resid_post. The final norm + unembedding of boundary L is exactly the model's
// output, so the lens's last row reproduces trace.logits.
#pragma once

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "core/model/forward.h"
#include "core/model/model.h"

namespace ps {

// Number of residual boundaries in a trace of `n_layers` layers: n_layers + 1.
inline int boundary_count(int n_layers) {
    return n_layers + 1;
}
// "embed" for boundary 0, else "after layer l" style short name: "L0", "L1", ...
std::string boundary_name(int boundary);
// The residual stream [T, dim] at `boundary` (see above). Throws ps::Error if the trace has no
// residual stream (TraceOptions::residual off) or the boundary is out of range.
const Activation& residual_at(const Trace& trace, int boundary);

// --- logit lens ------------------------------------------------------------------------------

constexpr int kLensTop = 5;

struct LensCell {
    std::array<int, kLensTop> top_ids{};      // most probable tokens, best first
    std::array<float, kLensTop> top_probs{};  // softmax over the whole vocabulary
    int next_id = -1;        // the prompt's actual next token; -1 at the last position
    int next_rank = 0;       // its rank (1 = the top token); 0 without a next token
    float next_prob = 0.0f;  // its probability
};

struct LogitLensGrid {
    int rows = 0;                 // boundaries: n_layers + 1
    int positions = 0;            // T
    std::vector<LensCell> cells;  // row-major [rows, positions]
    const LensCell& at(int row, int position) const {
        return cells[static_cast<size_t>(row) * static_cast<size_t>(positions) +
                     static_cast<size_t>(position)];
    }
};

// Final norm + unembedding applied to every boundary of `trace`, one matrix product per
// boundary ([T, dim] x unembedding), then a full-vocabulary softmax per cell.
// `cancelled`, if set, is polled before each boundary: when it returns true the grid is
// abandoned with ps::Cancelled (core/error.h).
LogitLensGrid logit_lens_grid(const Model& model, const Trace& trace,
                              const std::function<bool()>& cancelled = {});

// --- PCA trajectories ------------------------------------------------------------------------

struct Pca2 {
    MatrixRM coords;  // [rows of the input, 2]: projections on the first two components
    std::array<float, 2> explained{};  // fraction of the total variance each component explains
    MatrixRM components;      // [2, dim], unit length; sign fixed so the largest |entry| is > 0
    Eigen::RowVectorXf mean;  // [dim]
};

// PCA of the rows of `points` [N, dim] (N >= 1), from the eigenvectors of their covariance.
Pca2 principal_components_2d(const MatrixRM& points);

struct Trajectories {
    int tokens = 0;
    int boundaries = 0;
    Pca2 pca;  // pca.coords row = token * boundaries + boundary
    float x(int token, int boundary) const { return pca.coords(row(token, boundary), 0); }
    float y(int token, int boundary) const { return pca.coords(row(token, boundary), 1); }
    Eigen::Index row(int token, int boundary) const {
        return static_cast<Eigen::Index>(token) * boundaries + boundary;
    }
};

// PCA over the residual stream of every token at every boundary: boundaries points per token.
Trajectories residual_trajectories(const Trace& trace);

// --- residual statistics ---------------------------------------------------------------------

struct ResidualStats {
    int tokens = 0;
    int layers = 0;
    MatrixRM norm;           // [boundaries, T]: |residual|
    MatrixRM cosine;         // [layers, T]: cos(boundary l, boundary l+1)
    MatrixRM attn_out_norm;  // [layers, T]: |hook_attn_out|; empty without sublayer outputs
    MatrixRM mlp_out_norm;   // [layers, T]: |hook_mlp_out|
};

ResidualStats residual_stats(const Trace& trace);

// --- neurons ---------------------------------------------------------------------------------

struct NeuronActivation {
    int neuron = 0;
    float activation = 0.0f;
};

// The k neurons of `layer`'s MLP (blocks.layer.mlp.hook_post) with the largest activation at
// `position`, largest first (by |activation| when `by_magnitude`); ties by lower index. Throws
// ps::Error without neuron activations in the trace or for an out-of-range layer/position.
std::vector<NeuronActivation> top_neurons(const Trace& trace, int layer, int position, int k,
                                          bool by_magnitude = false);
// Neuron `neuron` of `layer` at every position [T].
std::vector<float> neuron_activations(const Trace& trace, int layer, int neuron);
// The rank (1 = largest) of `neuron` among all of `layer`'s neurons at `position`.
int neuron_rank(const Trace& trace, int layer, int position, int neuron, bool by_magnitude = false);

// --- everything the layer views show, computed once per analysis -----------------------------

struct LayerAnalysis {
    std::vector<int> ids;  // the trace's tokens, to match the analysis with its trace
    LogitLensGrid lens;
    Trajectories trajectories;
    ResidualStats stats;
    double lens_ms = 0;  // time taken, for the status bar and the report
    double pca_ms = 0;
};

// Needs a trace with the residual stream (TraceOptions::residual); sublayer norms are left
// empty without TraceOptions::sublayer_out. Throws ps::Error otherwise, and ps::Cancelled when
// `cancelled` returns true (polled between the logit lens's boundaries and before the PCA): on
// GPT-2 124M the analysis takes seconds, and a keystroke must not wait for a stale one.
LayerAnalysis analyze_layers(const Model& model, const Trace& trace,
                             const std::function<bool()>& cancelled = {});

}  // namespace ps
