// core/layer_analysis against naive loops on random GPT-2 and Llama shaped models: the logit
// lens (final norm + unembedding written out by hand, full softmax, full sort), the PCA (a
// covariance built with loops, its eigen-equation and power iteration), the residual
// statistics and the top neurons.
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include "tests/support/suite.h"

#include "core/analysis/layer_analysis.h"
#include "core/error.h"
#include "core/model/forward.h"
#include "core/model/random_model.h"

using namespace ps;

namespace {

std::vector<int> random_ids(const Model& m, int n, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int> id(0, m.config.vocab_size - 1);
    std::vector<int> ids(static_cast<size_t>(n));
    for (int& i : ids) i = id(rng);
    return ids;
}

// Weight (out, in) of a Linear, whatever its storage.
double weight(const Linear& l, int out, int in) {
    return l.stored_in_out ? l.w[size_t(in) * size_t(l.row_stride()) + size_t(out)]
                           : l.w[size_t(out) * size_t(l.row_stride()) + size_t(in)];
}

// Final norm + unembedding of one residual vector, in double, with plain loops.
std::vector<double> naive_lens(const Model& m, const float* x) {
    const Config& c = m.config;
    const Weights& w = m.weights;
    std::vector<double> xb(static_cast<size_t>(c.dim));
    double mean = 0, var = 0;
    if (c.arch == Arch::Gpt2)
        for (int i = 0; i < c.dim; i++) mean += x[i] / double(c.dim);
    for (int i = 0; i < c.dim; i++) var += (x[i] - mean) * (x[i] - mean) / c.dim;
    for (int i = 0; i < c.dim; i++) {
        xb[size_t(i)] = (x[i] - mean) / std::sqrt(var + c.norm_eps) * w.final_norm[i];
        if (w.final_norm_bias) xb[size_t(i)] += w.final_norm_bias[i];
    }
    std::vector<double> logits(static_cast<size_t>(c.vocab_size));
    for (int v = 0; v < c.vocab_size; v++) {
        double s = w.unembed.b ? w.unembed.b[v] : 0.0;
        for (int i = 0; i < c.dim; i++) s += xb[size_t(i)] * weight(w.unembed, v, i);
        logits[size_t(v)] = s;
    }
    return logits;
}

// Ids by logit, largest first, ties to the lower id.
std::vector<int> ranked(const std::vector<double>& logits) {
    std::vector<int> order(logits.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return logits[size_t(a)] > logits[size_t(b)]; });
    return order;
}

std::vector<double> softmax(const std::vector<double>& logits) {
    const double max = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    for (double l : logits) sum += std::exp(l - max);
    std::vector<double> p;
    for (double l : logits) p.push_back(std::exp(l - max) / sum);
    return p;
}

void check_lens(const std::string& shape) {
    auto model = make_random_model(shape, 7);
    const std::vector<int> ids = random_ids(*model, 9, 3);
    const Trace trace = forward(*model, ids);
    const LogitLensGrid grid = logit_lens_grid(*model, trace);
    const int L = model->config.n_layers;
    QCOMPARE(grid.rows, L + 1);
    QCOMPARE(grid.positions, 9);
    int near_ties = 0;
    for (int b = 0; b <= L; b++) {
        for (int t = 0; t < 9; t++) {
            const float* x = residual_at(trace, b).data() + size_t(t) * size_t(model->config.dim);
            const std::vector<double> logits = naive_lens(*model, x);
            const std::vector<double> p = softmax(logits);
            const std::vector<int> order = ranked(logits);
            const LensCell& cell = grid.at(b, t);
            for (int r = 0; r < kLensTop; r++) {
                const int id = cell.top_ids[size_t(r)];
                // The float product may swap two tokens whose logits agree to ~1e-5.
                if (id != order[size_t(r)]) {
                    QVERIFY(std::abs(logits[size_t(id)] - logits[size_t(order[size_t(r)])]) < 1e-4);
                    near_ties++;
                }
                QVERIFY(std::abs(cell.top_probs[size_t(r)] - p[size_t(id)]) <
                        1e-5 * p[size_t(id)] + 1e-9);
            }
            if (t + 1 < 9) {
                const int next = ids[size_t(t + 1)];
                QCOMPARE(cell.next_id, next);
                const int rank = int(std::find(order.begin(), order.end(), next) - order.begin());
                QVERIFY(std::abs(cell.next_rank - (rank + 1)) <= 1);
                near_ties += cell.next_rank != rank + 1;
                QVERIFY(std::abs(cell.next_prob - p[size_t(next)]) < 1e-5 * p[size_t(next)]);
            } else {
                QCOMPARE(cell.next_id, -1);
                QCOMPARE(cell.next_rank, 0);
            }
        }
    }
    QVERIFY2(near_ties <= 2, qPrintable(QString("%1 near ties").arg(near_ties)));

    // The last row is the model's output: the same top token as trace.logits at every position.
    for (int t = 0; t < 9; t++) {
        Eigen::Index argmax;
        trace.logits.row(t).maxCoeff(&argmax);
        QCOMPARE(grid.at(L, t).top_ids[0], static_cast<int>(argmax));
    }
}

// Covariance of the rows of `x` with loops, in double.
Eigen::MatrixXd naive_covariance(const MatrixRM& x) {
    const Eigen::Index n = x.rows(), d = x.cols();
    std::vector<double> mean(size_t(d), 0.0);
    for (Eigen::Index i = 0; i < n; i++)
        for (Eigen::Index j = 0; j < d; j++) mean[size_t(j)] += x(i, j) / double(n);
    Eigen::MatrixXd cov = Eigen::MatrixXd::Zero(d, d);
    for (Eigen::Index i = 0; i < n; i++)
        for (Eigen::Index a = 0; a < d; a++)
            for (Eigen::Index b = 0; b < d; b++)
                cov(a, b) += (x(i, a) - mean[size_t(a)]) * (x(i, b) - mean[size_t(b)]) / (n - 1);
    return cov;
}

}  // namespace

class TestLayerAnalysis : public QObject {
    Q_OBJECT
  private slots:
    void lens_matches_naive_gpt2() { check_lens("gpt2-tiny"); }
    void lens_matches_naive_llama() { check_lens("llama-15m"); }

    void pca_of_a_known_cloud() {
        // Variance 6 along x, 2/3 along y, none along z.
        MatrixRM x(6, 3);
        x << 3, 0, 0, -3, 0, 0, 0, 1, 0, 0, -1, 0, 0, 0, 0, 0, 0, 0;
        x.rowwise() += Eigen::RowVector3f(5, -2, 1);  // the mean does not matter
        const Pca2 pca = principal_components_2d(x);
        QVERIFY(std::abs(pca.explained[0] - 6.0 / (6.0 + 2.0 / 3)) < 1e-6);
        QVERIFY(std::abs(pca.explained[1] - (2.0 / 3) / (6.0 + 2.0 / 3)) < 1e-6);
        QVERIFY((pca.components.row(0) - Eigen::RowVector3f(1, 0, 0)).norm() < 1e-6);
        QVERIFY((pca.components.row(1) - Eigen::RowVector3f(0, 1, 0)).norm() < 1e-6);
        QVERIFY(std::abs(pca.coords(0, 0) - 3) < 1e-5 && std::abs(pca.coords(1, 0) + 3) < 1e-5);
        QVERIFY(std::abs(pca.coords(2, 1) - 1) < 1e-5 && std::abs(pca.coords(2, 0)) < 1e-5);

        // One point: nothing to explain, no NaN.
        const Pca2 one = principal_components_2d(x.topRows(1));
        QCOMPARE(one.explained[0], 0.0f);
        QVERIFY(one.coords.allFinite());
        QVERIFY_THROWS_EXCEPTION(Error, principal_components_2d(MatrixRM(0, 3)));
    }

    void trajectories_match_naive_pca() {
        auto model = make_random_model("gpt2-tiny", 11);
        const std::vector<int> ids = random_ids(*model, 12, 5);
        const Trace trace = forward(*model, ids);
        const Trajectories tr = residual_trajectories(trace);
        const int L = model->config.n_layers, dim = model->config.dim;
        QCOMPARE(tr.boundaries, L + 1);
        QCOMPARE(tr.tokens, 12);
        QCOMPARE(static_cast<int>(tr.pca.coords.rows()), 12 * (L + 1));

        MatrixRM points(12 * (L + 1), dim);
        for (int t = 0; t < 12; t++)
            for (int b = 0; b <= L; b++)
                points.row(t * (L + 1) + b) = b == 0 ? trace.layers[0].resid_pre.row(t)
                                                     : trace.layers[b - 1].resid_post.row(t);
        const Eigen::MatrixXd cov = naive_covariance(points);
        const double total = cov.trace();
        double lambda[2];
        for (int c = 0; c < 2; c++) {
            const Eigen::VectorXd v = tr.pca.components.row(c).transpose().cast<double>();
            QVERIFY(std::abs(v.norm() - 1) < 1e-5);
            lambda[c] = v.dot(cov * v);
            // An eigenvector: cov v = lambda v.
            QVERIFY((cov * v - lambda[c] * v).norm() < 1e-4 * lambda[c]);
            QVERIFY(std::abs(tr.pca.explained[size_t(c)] - lambda[c] / total) < 1e-5);
        }
        QVERIFY(std::abs(tr.pca.components.row(0).dot(tr.pca.components.row(1))) < 1e-5);
        QVERIFY(lambda[0] >= lambda[1]);
        // The first is the largest eigenvalue: power iteration from a generic start finds it.
        Eigen::VectorXd v = Eigen::VectorXd::Ones(dim);
        for (int i = 0; i < 2000; i++) v = (cov * v).normalized();
        QVERIFY(std::abs(v.dot(cov * v) - lambda[0]) < 1e-4 * lambda[0]);
        // The second is the largest with the first removed.
        const Eigen::VectorXd v0 = tr.pca.components.row(0).transpose().cast<double>();
        v = Eigen::VectorXd::LinSpaced(dim, 1, 2);
        for (int i = 0; i < 2000; i++) {
            v -= v0 * v0.dot(v);
            v = (cov * v).normalized();
        }
        QVERIFY(std::abs(v.dot(cov * v) - lambda[1]) < 1e-3 * lambda[1]);

        // Coordinates: (x - mean) . component, for every token at every boundary.
        const Eigen::RowVectorXd mean = points.cast<double>().colwise().mean();
        for (int t = 0; t < 12; t++)
            for (int b = 0; b <= L; b++) {
                const Eigen::RowVectorXd d = points.row(t * (L + 1) + b).cast<double>() - mean;
                const double scale = 1e-4 * (1 + d.norm());
                QVERIFY(std::abs(tr.x(t, b) - d.dot(v0)) < scale);
                QVERIFY(std::abs(tr.y(t, b) -
                                 d.dot(tr.pca.components.row(1).transpose().cast<double>())) <
                        scale);
            }
    }

    void residual_stats_match_loops() {
        auto model = make_random_model("llama-15m", 2);
        const Trace trace = forward(*model, random_ids(*model, 7, 9));
        const ResidualStats s = residual_stats(trace);
        const int L = model->config.n_layers, dim = model->config.dim;
        QCOMPARE(static_cast<int>(s.norm.rows()), L + 1);
        QCOMPARE(static_cast<int>(s.cosine.rows()), L);
        for (int t = 0; t < 7; t++) {
            for (int b = 0; b <= L; b++) {
                const Activation& r = residual_at(trace, b);
                double ss = 0;
                for (int i = 0; i < dim; i++) ss += double(r(t, i)) * r(t, i);
                QVERIFY(std::abs(s.norm(b, t) - std::sqrt(ss)) < 1e-5 * std::sqrt(ss));
                if (b == L) continue;
                const Activation& n = residual_at(trace, b + 1);
                double dot = 0, nn = 0;
                for (int i = 0; i < dim; i++) {
                    dot += double(r(t, i)) * n(t, i);
                    nn += double(n(t, i)) * n(t, i);
                }
                QVERIFY(std::abs(s.cosine(b, t) - dot / std::sqrt(ss * nn)) < 1e-5);
            }
            for (int l = 0; l < L; l++) {
                double a = 0, m = 0;
                for (int i = 0; i < dim; i++) {
                    a += double(trace.layers[l].attn_out(t, i)) * trace.layers[l].attn_out(t, i);
                    m += double(trace.layers[l].mlp_out(t, i)) * trace.layers[l].mlp_out(t, i);
                }
                QVERIFY(std::abs(s.attn_out_norm(l, t) - std::sqrt(a)) < 1e-5 * std::sqrt(a));
                QVERIFY(std::abs(s.mlp_out_norm(l, t) - std::sqrt(m)) < 1e-5 * std::sqrt(m));
            }
        }
        // Boundary 0 is the embedding plus (GPT-2) position embedding.
        auto gpt2 = make_random_model("gpt2-tiny", 3);
        const Trace g = forward(*gpt2, random_ids(*gpt2, 4, 1));
        QVERIFY((residual_at(g, 0) - (g.embed + g.pos_embed)).cwiseAbs().maxCoeff() < 1e-6);
        QCOMPARE(boundary_name(0), std::string("embed"));
        QCOMPARE(boundary_name(3), std::string("L2"));
    }

    void top_neurons_match_a_full_sort() {
        auto model = make_random_model("llama-15m", 4);
        const Trace trace = forward(*model, random_ids(*model, 6, 2));
        const int hidden = model->config.hidden_dim;
        for (bool magnitude : {false, true}) {
            for (int layer : {0, 3}) {
                const int pos = 4;
                std::vector<int> order(size_t(hidden), 0);
                std::iota(order.begin(), order.end(), 0);
                auto key = [&](int i) {
                    const float a = trace.layers[layer].mlp_post(pos, i);
                    return magnitude ? std::abs(a) : a;
                };
                std::stable_sort(order.begin(), order.end(),
                                 [&](int a, int b) { return key(a) > key(b); });
                const auto top = top_neurons(trace, layer, pos, 25, magnitude);
                QCOMPARE(static_cast<int>(top.size()), 25);
                for (int r = 0; r < 25; r++) {
                    QCOMPARE(top[size_t(r)].neuron, order[size_t(r)]);
                    QCOMPARE(top[size_t(r)].activation,
                             trace.layers[layer].mlp_post(pos, order[size_t(r)]));
                    QCOMPARE(neuron_rank(trace, layer, pos, top[size_t(r)].neuron, magnitude),
                             r + 1);
                }
            }
        }
        // The largest |activation| is at least as large as the largest activation.
        QVERIFY(std::abs(top_neurons(trace, 1, 0, 1, true)[0].activation) >=
                top_neurons(trace, 1, 0, 1)[0].activation);
        QCOMPARE(static_cast<int>(top_neurons(trace, 0, 0, hidden + 10).size()), hidden);
        const auto strip = neuron_activations(trace, 2, 17);
        QCOMPARE(static_cast<int>(strip.size()), 6);
        for (int t = 0; t < 6; t++) QCOMPARE(strip[size_t(t)], trace.layers[2].mlp_post(t, 17));

        QVERIFY_THROWS_EXCEPTION(Error, top_neurons(trace, 6, 0, 5));
        QVERIFY_THROWS_EXCEPTION(Error, top_neurons(trace, 0, 6, 5));
        QVERIFY_THROWS_EXCEPTION(Error, neuron_activations(trace, 0, hidden));
    }

    void analysis_needs_the_residual_stream() {
        auto model = make_random_model("gpt2-tiny", 1);
        const std::vector<int> ids = random_ids(*model, 3, 1);
        const Trace bare = forward(*model, ids, TraceOptions::none());
        QVERIFY_THROWS_EXCEPTION(Error, analyze_layers(*model, bare));
        QVERIFY_THROWS_EXCEPTION(Error, top_neurons(bare, 0, 0, 3));
        TraceOptions no_sublayers;
        no_sublayers.sublayer_out = false;
        const LayerAnalysis a = analyze_layers(*model, forward(*model, ids, no_sublayers));
        QCOMPARE(a.ids, ids);
        QCOMPARE(a.lens.rows, 3);
        QCOMPARE(static_cast<int>(a.stats.attn_out_norm.size()), 0);
        QVERIFY_THROWS_EXCEPTION(Error, residual_at(forward(*model, ids), 3 + 1));
    }

    // The app cancels a stale analysis (seconds on GPT-2 124M) when the prompt changes: the flag
    // is polled before every boundary of the lens and before the PCA, and a raised one stops it.
    void analysis_can_be_cancelled() {
        auto model = make_random_model("gpt2-tiny", 1);
        const Trace trace = forward(*model, random_ids(*model, 5, 2));
        const int boundaries = boundary_count(model->config.n_layers);
        int polls = 0;
        const LayerAnalysis whole = analyze_layers(*model, trace, [&] { return ++polls < 0; });
        QCOMPARE(polls, boundaries + 1);
        QCOMPARE(whole.lens.rows, boundaries);
        for (int stop_at = 1; stop_at <= boundaries + 1; ++stop_at) {
            polls = 0;
            bool cancelled = false;
            try {
                analyze_layers(*model, trace, [&] { return ++polls == stop_at; });
            } catch (const Cancelled&) {
                cancelled = true;
            }
            QVERIFY(cancelled);
            QCOMPARE(polls, stop_at);  // nothing polled after the flag was seen
        }
    }
};

PARAMSCOPE_TEST_MAIN(TestLayerAnalysis)
#include "test_layer_analysis.moc"
