// The per-head attention scores: hand-built patterns whose scores are known by construction
// (a pure previous-token head, a BOS sink, a uniform head, a perfect induction head), random
// causal patterns against naive loops written differently from the engine's, the
// grouped-query head mapping, and a real forward pass.
#include <QtTest>
#include <cmath>
#include <random>
#include "tests/support/suite.h"

#include "core/analysis/attention_stats.h"
#include "core/error.h"
#include "core/model/random_model.h"

using namespace ps;

namespace {

// A [T, T] causal pattern with row i = weights(i, j) normalized over keys 0..i.
template <typename F>
MatrixRM causal_pattern(int T, F weight) {
    MatrixRM p = MatrixRM::Zero(T, T);
    for (int i = 0; i < T; ++i) {
        double sum = 0;
        for (int j = 0; j <= i; ++j) sum += weight(i, j);
        for (int j = 0; j <= i; ++j) p(i, j) = static_cast<float>(weight(i, j) / sum);
    }
    return p;
}

MatrixRM random_pattern(int T, std::mt19937& rng) {
    std::normal_distribution<double> score(0.0, 2.0);
    MatrixRM s(T, T);
    for (int i = 0; i < T; ++i)
        for (int j = 0; j < T; ++j) s(i, j) = static_cast<float>(std::exp(score(rng)));
    return causal_pattern(T, [&](int i, int j) { return double(s(i, j)); });
}

// The scores as plain loops over every (query, key) cell; induction checks, for every key k,
// whether the token before k equals the query's token.
HeadScores naive_scores(const MatrixRM& p, const std::vector<int>& ids) {
    const int T = static_cast<int>(p.rows());
    HeadScores s;
    double ind = 0;
    int ind_rows = 0;
    for (int i = 1; i < T; ++i) {
        bool has_target = false;
        for (int k = 0; k < T; ++k) {
            const double a = p(i, k);
            if (k == i - 1) s.previous_token += a;
            if (k == 0) s.first_token += a;
            if (k == i) s.self += a;
            if (a > 0) s.entropy_bits -= a * std::log(a) / std::log(2.0);
            if (k >= 1 && k < i && ids[size_t(k - 1)] == ids[size_t(i)]) {
                ind += a;
                has_target = true;
            }
        }
        ind_rows += has_target;
    }
    s.previous_token /= T - 1;
    s.first_token /= T - 1;
    s.self /= T - 1;
    s.entropy_bits /= T - 1;
    s.induction = ind_rows ? ind / ind_rows : std::nan("");
    return s;
}

void compare(const HeadScores& got, const HeadScores& want, double tol) {
    for (int m = 0; m < kHeadMetricCount; ++m) {
        const auto metric = static_cast<HeadMetric>(m);
        const double g = got.get(metric), w = want.get(metric);
        if (std::isnan(w)) {
            QVERIFY2(std::isnan(g), head_metric_name(metric));
            continue;
        }
        // The entropy is summed in float (vectorized): a few float epsilons of the sum.
        const double t = metric == HeadMetric::Entropy ? std::max(tol, 1e-6) : tol;
        QVERIFY2(std::abs(g - w) <= t, qPrintable(QString("%1: got %2, want %3")
                                                      .arg(head_metric_name(metric))
                                                      .arg(g, 0, 'g', 10)
                                                      .arg(w, 0, 'g', 10)));
    }
}

std::vector<int> iota_ids(int T) {
    std::vector<int> ids(static_cast<size_t>(T));
    for (int i = 0; i < T; ++i) ids[size_t(i)] = 100 + i;  // no repeats
    return ids;
}

}  // namespace

class TestAttentionStats : public QObject {
    Q_OBJECT
  private slots:
    void previous_token_head() {
        const int T = 9;
        const MatrixRM p = causal_pattern(T, [](int i, int j) { return j == std::max(0, i - 1); });
        const HeadScores s = head_scores(p, induction_targets(iota_ids(T)));
        QCOMPARE(s.previous_token, 1.0);
        QCOMPARE(s.self, 0.0);
        QCOMPARE(s.entropy_bits, 0.0);
        // Only query 1's previous token is the first token.
        QVERIFY(std::abs(s.first_token - 1.0 / (T - 1)) < 1e-12);
        QVERIFY(std::isnan(s.induction));  // no token repeats
    }

    void first_token_sink_and_self() {
        const int T = 6;
        const auto targets = induction_targets(iota_ids(T));
        const HeadScores sink =
            head_scores(causal_pattern(T, [](int, int j) { return j == 0; }), targets);
        QCOMPARE(sink.first_token, 1.0);
        QVERIFY(std::abs(sink.previous_token - 1.0 / (T - 1)) < 1e-12);
        QCOMPARE(sink.self, 0.0);
        const HeadScores self =
            head_scores(causal_pattern(T, [](int i, int j) { return i == j; }), targets);
        QCOMPARE(self.self, 1.0);
        QCOMPARE(self.first_token, 0.0);
        QCOMPARE(self.previous_token, 0.0);
    }

    void uniform_head_entropy() {
        const int T = 8;
        const HeadScores s = head_scores(causal_pattern(T, [](int, int) { return 1.0; }),
                                         induction_targets(iota_ids(T)));
        double entropy = 0, prev = 0;
        for (int i = 1; i < T; ++i) {
            entropy += std::log2(i + 1.0);
            prev += 1.0 / (i + 1);
        }
        QVERIFY(std::abs(s.entropy_bits - entropy / (T - 1)) < 1e-6);
        QVERIFY(std::abs(s.previous_token - prev / (T - 1)) < 1e-6);
        QVERIFY(std::abs(s.self - prev / (T - 1)) < 1e-6);
    }

    void induction_head_on_a_repeated_sequence() {
        // BOS, then A B C D twice: the second A..D each attend to the token after their first
        // occurrence.
        const std::vector<int> ids = {1, 10, 11, 12, 13, 10, 11, 12, 13};
        const auto targets = induction_targets(ids);
        QCOMPARE(targets[5], std::vector<int>{2});
        QCOMPARE(targets[8], std::vector<int>{5});
        for (int i = 0; i < 5; ++i) QVERIFY(targets[size_t(i)].empty());
        const int T = static_cast<int>(ids.size());
        const MatrixRM induction =
            causal_pattern(T, [](int i, int j) { return i >= 5 ? j == i - 3 : j == 0; });
        const HeadScores s = head_scores(induction, targets);
        QCOMPARE(s.induction, 1.0);
        // A previous-token head scores 0 here: the token before each query is never a target.
        const HeadScores prev = head_scores(
            causal_pattern(T, [](int i, int j) { return j == std::max(0, i - 1); }), targets);
        QCOMPARE(prev.induction, 0.0);
    }

    void adjacent_repeat_is_not_an_induction_target() {
        // "x x": the token after the first x is the query itself, measured by the self score.
        const auto targets = induction_targets({1, 7, 7});
        QVERIFY(targets[2].empty());
        // Three repeats: query 3 has target 2 (after the x at 1); 3 itself is excluded.
        QCOMPARE(induction_targets({1, 7, 7, 7})[3], std::vector<int>{2});
    }

    void random_patterns_match_naive_loops() {
        std::mt19937 rng(5);
        std::uniform_int_distribution<int> token(0, 5);  // small vocabulary: many repeats
        for (int T : {2, 3, 17, 64}) {
            std::vector<int> ids(static_cast<size_t>(T));
            for (int& id : ids) id = token(rng);
            const MatrixRM p = random_pattern(T, rng);
            compare(head_scores(p, induction_targets(ids)), naive_scores(p, ids), 1e-9);
        }
    }

    void undefined_and_bad_sizes() {
        const HeadScores one = head_scores(MatrixRM::Ones(1, 1), induction_targets({1}));
        for (int m = 0; m < kHeadMetricCount; ++m)
            QVERIFY(std::isnan(one.get(static_cast<HeadMetric>(m))));
        QVERIFY_THROWS_EXCEPTION(Error,
                                 head_scores(MatrixRM::Zero(3, 4), induction_targets({1, 2, 3})));
        QVERIFY_THROWS_EXCEPTION(Error,
                                 head_scores(MatrixRM::Zero(3, 3), induction_targets({1, 2})));
    }

    void grouped_query_heads() {
        Config c;
        c.n_heads = 8;
        c.n_kv_heads = 4;
        QCOMPARE(kv_head_of(c, 0), 0);
        QCOMPARE(kv_head_of(c, 3), 1);
        QCOMPARE(kv_head_of(c, 7), 3);
        QCOMPARE(heads_sharing_kv(c, 1), (std::vector<int>{2, 3}));
        c.n_kv_heads = 1;  // multi-query: every head shares kv head 0
        QCOMPARE(heads_sharing_kv(c, 0).size(), size_t(8));
        c.n_kv_heads = 8;  // multi-head: one each
        for (int h = 0; h < 8; ++h) QCOMPARE(heads_sharing_kv(c, h), std::vector<int>{h});
    }

    void stats_of_a_forward_pass() {
        const auto model = make_random_model("gpt2-tiny", 3);
        const std::vector<int> ids = {5, 9, 5, 9, 5, 2, 9};
        const Trace trace = forward(*model, ids);
        const AttentionStats stats = attention_stats(trace);
        QCOMPARE(stats.n_layers, model->config.n_layers);
        QCOMPARE(stats.n_heads, model->config.n_heads);
        QCOMPARE(stats.heads.size(), size_t(stats.n_layers * stats.n_heads));
        for (int l = 0; l < stats.n_layers; ++l)
            for (int h = 0; h < stats.n_heads; ++h)
                compare(stats.at(l, h), naive_scores(trace.layers[size_t(l)].head_pattern(h), ids),
                        1e-6);
        // Without captured patterns there is nothing to score.
        TraceOptions none = TraceOptions::none();
        QCOMPARE(attention_stats(forward(*model, ids, none)).n_layers, 0);
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestAttentionStats)
#include "test_attention_stats.moc"
