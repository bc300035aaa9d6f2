#include "core/analysis/layer_analysis.h"

#include <Eigen/Eigenvalues>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace ps {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

void check_layer(const Trace& trace, int layer) {
    if (layer < 0 || layer >= static_cast<int>(trace.layers.size()))
        throw Error("layer " + std::to_string(layer) + " is out of range (the trace has " +
                    std::to_string(trace.layers.size()) + " layers)");
}

const Activation& neurons_of(const Trace& trace, int layer) {
    check_layer(trace, layer);
    const Activation& post = trace.layers[static_cast<size_t>(layer)].mlp_post;
    if (post.size() == 0)
        throw Error("the trace has no MLP neuron activations (blocks." + std::to_string(layer) +
                    ".mlp.hook_post; TraceOptions::neurons is off)");
    return post;
}

// One logit-lens cell from a logits row: full-vocabulary softmax, the top kLensTop tokens (ties
// to the lower id, as a stable sort would rank them) and the rank of the actual next token.
LensCell lens_cell(const float* logits, int vocab, int next_id) {
    LensCell cell;
    cell.top_ids.fill(-1);
    const float max_logit = *std::max_element(logits, logits + vocab);
    double sum = 0;
    for (int i = 0; i < vocab; i++) sum += std::exp(double(logits[i]) - max_logit);
    auto prob = [&](int id) {
        return static_cast<float>(std::exp(double(logits[id]) - max_logit) / sum);
    };
    // Insertion into a short sorted list: one pass over the vocabulary.
    int n = 0;
    for (int i = 0; i < vocab; i++) {
        if (n == kLensTop && logits[i] <= logits[cell.top_ids[kLensTop - 1]]) continue;
        int j = std::min(n, kLensTop - 1);
        while (j > 0 && logits[cell.top_ids[static_cast<size_t>(j - 1)]] < logits[i]) {
            cell.top_ids[static_cast<size_t>(j)] = cell.top_ids[static_cast<size_t>(j - 1)];
            j--;
        }
        cell.top_ids[static_cast<size_t>(j)] = i;
        n = std::min(n + 1, kLensTop);
    }
    for (int r = 0; r < kLensTop; r++)
        cell.top_probs[static_cast<size_t>(r)] =
            r < n ? prob(cell.top_ids[static_cast<size_t>(r)]) : 0.0f;
    if (next_id >= 0) {
        const float l = logits[next_id];
        int ahead = 0;
        for (int i = 0; i < vocab; i++) ahead += logits[i] > l || (logits[i] == l && i < next_id);
        cell.next_id = next_id;
        cell.next_rank = ahead + 1;
        cell.next_prob = prob(next_id);
    }
    return cell;
}

float cosine(const Eigen::Ref<const Eigen::RowVectorXf>& a,
             const Eigen::Ref<const Eigen::RowVectorXf>& b) {
    const float na = a.norm(), nb = b.norm();
    return na > 0 && nb > 0 ? a.dot(b) / (na * nb) : 0.0f;
}

}  // namespace

std::string boundary_name(int boundary) {
    return boundary == 0 ? "embed" : "L" + std::to_string(boundary - 1);
}

const Activation& residual_at(const Trace& trace, int boundary) {
    const int layers = static_cast<int>(trace.layers.size());
    if (boundary < 0 || boundary > layers)
        throw Error("residual boundary " + std::to_string(boundary) + " is out of range (0.." +
                    std::to_string(layers) + ")");
    const Activation& r = boundary == 0
                              ? trace.layers[0].resid_pre
                              : trace.layers[static_cast<size_t>(boundary - 1)].resid_post;
    if (r.size() == 0)
        throw Error(
            "the trace has no residual stream (blocks.*.hook_resid_pre/post; "
            "TraceOptions::residual is off)");
    return r;
}

LogitLensGrid logit_lens_grid(const Model& model, const Trace& trace,
                              const std::function<bool()>& cancelled) {
    const int T = static_cast<int>(trace.ids.size());
    const int vocab = model.config.vocab_size;
    LogitLensGrid grid;
    grid.rows = boundary_count(static_cast<int>(trace.layers.size()));
    grid.positions = T;
    grid.cells.resize(static_cast<size_t>(grid.rows) * static_cast<size_t>(T));
    for (int b = 0; b < grid.rows; b++) {
        if (cancelled && cancelled()) throw Cancelled();
        const MatrixRM logits = logit_lens(model, residual_at(trace, b));  // [T, vocab]
        const bool parallel = double(T) * vocab > (1 << 20);
#pragma omp parallel for schedule(static) if (parallel)
        for (int t = 0; t < T; t++) {
            const int next = t + 1 < T ? trace.ids[static_cast<size_t>(t + 1)] : -1;
            grid.cells[static_cast<size_t>(b) * static_cast<size_t>(T) + static_cast<size_t>(t)] =
                lens_cell(logits.data() + static_cast<Eigen::Index>(t) * vocab, vocab, next);
        }
    }
    return grid;
}

Pca2 principal_components_2d(const MatrixRM& points) {
    if (points.rows() < 1 || points.cols() < 1) throw Error("PCA needs at least one point");
    const Eigen::Index n = points.rows(), dim = points.cols();
    Pca2 pca;
    pca.mean = points.colwise().mean();
    const MatrixRM centered = points.rowwise() - pca.mean;
    // Covariance in double: the residual stream's scale grows through the layers, and small
    // components must not drown in float rounding.
    const Eigen::MatrixXd cov = (centered.transpose() * centered).cast<double>() /
                                static_cast<double>(std::max<Eigen::Index>(n - 1, 1));
    const Eigen::SelfAdjointEigenSolver<Eigen::MatrixXd> solver(cov);
    if (solver.info() != Eigen::Success) throw Error("PCA: the eigen solver did not converge");
    const double total = std::max(0.0, cov.trace());
    pca.components.setZero(2, dim);
    for (int c = 0; c < 2 && c < dim; c++) {
        const Eigen::Index k = dim - 1 - c;  // eigenvalues ascend
        Eigen::VectorXd v = solver.eigenvectors().col(k);
        Eigen::Index largest;
        v.cwiseAbs().maxCoeff(&largest);
        if (v(largest) < 0) v = -v;
        pca.components.row(c) = v.transpose().cast<float>();
        pca.explained[static_cast<size_t>(c)] =
            total > 0 ? static_cast<float>(std::max(0.0, solver.eigenvalues()(k)) / total) : 0.0f;
    }
    pca.coords = centered * pca.components.transpose();
    return pca;
}

Trajectories residual_trajectories(const Trace& trace) {
    Trajectories tr;
    tr.tokens = static_cast<int>(trace.ids.size());
    tr.boundaries = boundary_count(static_cast<int>(trace.layers.size()));
    const Eigen::Index dim = residual_at(trace, 0).cols();
    MatrixRM points(static_cast<Eigen::Index>(tr.tokens) * tr.boundaries, dim);
    for (int b = 0; b < tr.boundaries; b++) {
        const Activation& r = residual_at(trace, b);
        for (int t = 0; t < tr.tokens; t++) points.row(tr.row(t, b)) = r.row(t);
    }
    tr.pca = principal_components_2d(points);
    return tr;
}

ResidualStats residual_stats(const Trace& trace) {
    ResidualStats s;
    s.tokens = static_cast<int>(trace.ids.size());
    s.layers = static_cast<int>(trace.layers.size());
    const int boundaries = boundary_count(s.layers);
    s.norm.resize(boundaries, s.tokens);
    for (int b = 0; b < boundaries; b++) s.norm.row(b) = residual_at(trace, b).rowwise().norm();
    s.cosine.resize(s.layers, s.tokens);
    for (int l = 0; l < s.layers; l++) {
        const Activation &a = residual_at(trace, l), &b = residual_at(trace, l + 1);
        for (int t = 0; t < s.tokens; t++) s.cosine(l, t) = cosine(a.row(t), b.row(t));
    }
    if (trace.layers[0].attn_out.size() > 0 && trace.layers[0].mlp_out.size() > 0) {
        s.attn_out_norm.resize(s.layers, s.tokens);
        s.mlp_out_norm.resize(s.layers, s.tokens);
        for (int l = 0; l < s.layers; l++) {
            const LayerTrace& lt = trace.layers[static_cast<size_t>(l)];
            s.attn_out_norm.row(l) = lt.attn_out.rowwise().norm();
            s.mlp_out_norm.row(l) = lt.mlp_out.rowwise().norm();
        }
    }
    return s;
}

std::vector<NeuronActivation> top_neurons(const Trace& trace, int layer, int position, int k,
                                          bool by_magnitude) {
    const Activation& post = neurons_of(trace, layer);
    if (position < 0 || position >= post.rows())
        throw Error("position " + std::to_string(position) + " is out of range (0.." +
                    std::to_string(post.rows() - 1) + ")");
    const int hidden = static_cast<int>(post.cols());
    k = std::clamp(k, 0, hidden);
    const float* row = post.data() + static_cast<Eigen::Index>(position) * hidden;
    // NaN (from NaN weights) ranks last: sorting needs an order in which every pair compares.
    auto key = [&](int i) {
        const float v = by_magnitude ? std::abs(row[i]) : row[i];
        return std::isnan(v) ? -std::numeric_limits<float>::infinity() : v;
    };
    std::vector<int> order(static_cast<size_t>(hidden));
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + k, order.end(),
                      [&](int a, int b) { return key(a) > key(b) || (key(a) == key(b) && a < b); });
    std::vector<NeuronActivation> top;
    for (int r = 0; r < k; r++) {
        const int i = order[static_cast<size_t>(r)];
        top.push_back({i, row[i]});
    }
    return top;
}

std::vector<float> neuron_activations(const Trace& trace, int layer, int neuron) {
    const Activation& post = neurons_of(trace, layer);
    if (neuron < 0 || neuron >= post.cols())
        throw Error("neuron " + std::to_string(neuron) + " is out of range (0.." +
                    std::to_string(post.cols() - 1) + ")");
    std::vector<float> out(static_cast<size_t>(post.rows()));
    for (Eigen::Index t = 0; t < post.rows(); t++) out[static_cast<size_t>(t)] = post(t, neuron);
    return out;
}

int neuron_rank(const Trace& trace, int layer, int position, int neuron, bool by_magnitude) {
    const Activation& post = neurons_of(trace, layer);
    if (position < 0 || position >= post.rows() || neuron < 0 || neuron >= post.cols())
        throw Error("neuron " + std::to_string(neuron) + " at position " +
                    std::to_string(position) + " is out of range");
    auto key = [&](Eigen::Index i) {
        return by_magnitude ? std::abs(post(position, i)) : post(position, i);
    };
    const float mine = key(neuron);
    int ahead = 0;
    for (Eigen::Index i = 0; i < post.cols(); i++)
        ahead += key(i) > mine || (key(i) == mine && i < neuron);
    return ahead + 1;
}

LayerAnalysis analyze_layers(const Model& model, const Trace& trace,
                             const std::function<bool()>& cancelled) {
    LayerAnalysis a;
    a.ids = trace.ids;
    auto t0 = std::chrono::steady_clock::now();
    a.lens = logit_lens_grid(model, trace, cancelled);
    a.lens_ms = ms_since(t0);
    if (cancelled && cancelled()) throw Cancelled();
    t0 = std::chrono::steady_clock::now();
    a.trajectories = residual_trajectories(trace);
    a.pca_ms = ms_since(t0);
    a.stats = residual_stats(trace);
    return a;
}

}  // namespace ps
