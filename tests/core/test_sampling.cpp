// The sampling step against hand-computed cases, in both orders, and its exact edge cases.
#include <QtTest>
#include <cmath>
#include <numeric>
#include <random>
#include <vector>
#include "tests/support/suite.h"

#include "core/error.h"
#include "core/sampling/sampling.h"

using namespace ps;

namespace {

// Logits whose softmax is `p` (up to float rounding of the logits).
std::vector<float> logits_of(const std::vector<double>& p) {
    std::vector<float> l;
    for (double x : p) l.push_back(x > 0 ? float(std::log(x)) : -INFINITY);
    return l;
}

Distribution run(const std::vector<float>& logits, SamplingSettings s) {
    return apply_sampling(logits.data(), int(logits.size()), s);
}

SamplingSettings settings(float t, int k, float p, float m, SamplingOrder o) {
    SamplingSettings s;
    s.temperature = t;
    s.top_k = k;
    s.top_p = p;
    s.min_p = m;
    s.order = o;
    return s;
}

void expect_final(const Distribution& d, const std::vector<double>& expected) {
    QCOMPARE(d.p_final.size(), expected.size());
    for (size_t i = 0; i < expected.size(); i++)
        if (std::abs(d.p_final[i] - expected[i]) > 1e-6)
            QFAIL(qPrintable(QString("p_final[%1] = %2, expected %3")
                                 .arg(i)
                                 .arg(d.p_final[i], 0, 'g', 9)
                                 .arg(expected[i], 0, 'g', 9)));
}

double sum(const std::vector<float>& v) {
    return std::accumulate(v.begin(), v.end(), 0.0);
}

std::vector<float> random_logits(int n, uint32_t seed) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    std::vector<float> l(static_cast<size_t>(n));
    for (float& x : l) x = normal(rng);
    return l;
}

constexpr auto HF = SamplingOrder::HuggingFace;
constexpr auto LC = SamplingOrder::LlamaCpp;

// Case A: token 0 has p 0.1, token 1 0.5, token 2 0.25, token 3 0.15 -> ranked 1, 2, 3, 0.
const std::vector<double> kA = {0.1, 0.5, 0.25, 0.15};

}  // namespace

class TestSampling : public QObject {
    Q_OBJECT
  private slots:
    void raw_distribution_and_ranking() {
        const Distribution d = run(logits_of(kA), SamplingSettings());
        QCOMPARE(d.ranked, (std::vector<int>{1, 2, 3, 0}));
        for (size_t i = 0; i < kA.size(); i++) QVERIFY(std::abs(d.p_raw[i] - kA[i]) < 1e-6);
        const double h = -(0.1 * std::log2(0.1) + 0.5 * std::log2(0.5) + 0.25 * std::log2(0.25) +
                           0.15 * std::log2(0.15));
        QVERIFY(std::abs(d.entropy_raw_bits - h) < 1e-6);
        QVERIFY(std::abs(d.entropy_final_bits - h) < 1e-6);
        QCOMPARE(d.kept, 4);
    }

    void filters_at_temperature_one() {
        for (auto order : {HF, LC}) {
            // top-k 2: {0.5, 0.25} renormalized.
            Distribution d = run(logits_of(kA), settings(1, 2, 1, 0, order));
            expect_final(d, {0, 2.0 / 3, 1.0 / 3, 0});
            QCOMPARE(d.removed_by[0], RemovedBy::TopK);
            QCOMPARE(d.removed_by[3], RemovedBy::TopK);
            QCOMPARE(d.kept, 2);
            // top-p 0.8: cumulative 0.5, 0.75, 0.9 -> three tokens.
            d = run(logits_of(kA), settings(1, 0, 0.8f, 0, order));
            expect_final(d, {0, 0.5 / 0.9, 0.25 / 0.9, 0.15 / 0.9});
            QCOMPARE(d.removed_by[0], RemovedBy::TopP);
            // min-p 0.3: threshold 0.15, token 3 is exactly on it and stays.
            d = run(logits_of(kA), settings(1, 0, 1, 0.3f, order));
            expect_final(d, {0, 0.5 / 0.9, 0.25 / 0.9, 0.15 / 0.9});
            QCOMPARE(d.removed_by[0], RemovedBy::MinP);
            // min-p 0.31: threshold 0.155 removes token 3.
            d = run(logits_of(kA), settings(1, 0, 1, 0.31f, order));
            expect_final(d, {0, 2.0 / 3, 1.0 / 3, 0});
            QCOMPARE(d.removed_by[3], RemovedBy::MinP);
        }
    }

    void orders_differ_at_temperature_two() {
        // T = 2 tempers p to sqrt(p) / sum. HF's filters see sqrt-tempered probabilities:
        // 0.3701, 0.2617, 0.2027, 0.1655; llama.cpp's see the raw 0.5, 0.25, 0.15, 0.1.
        const double a = std::sqrt(0.5), b = std::sqrt(0.25), c = std::sqrt(0.15);
        // top-p 0.7: HF cumulative 0.370, 0.632, 0.835 -> 3 tokens; llama.cpp 0.5, 0.75 -> 2.
        Distribution d = run(logits_of(kA), settings(2, 0, 0.7f, 0, HF));
        expect_final(d, {0, a / (a + b + c), b / (a + b + c), c / (a + b + c)});
        d = run(logits_of(kA), settings(2, 0, 0.7f, 0, LC));
        expect_final(d, {0, a / (a + b), b / (a + b), 0});
        QCOMPARE(d.removed_by[3], RemovedBy::TopP);
        // min-p 0.5: HF threshold 0.185 keeps 3; llama.cpp threshold 0.25 keeps 2 (0.25 on it).
        d = run(logits_of(kA), settings(2, 0, 1, 0.5f, HF));
        expect_final(d, {0, a / (a + b + c), b / (a + b + c), c / (a + b + c)});
        QCOMPARE(d.kept, 3);
        d = run(logits_of(kA), settings(2, 0, 1, 0.5f, LC));
        expect_final(d, {0, a / (a + b), b / (a + b), 0});
        QCOMPARE(d.kept, 2);
    }

    void orders_differ_at_temperature_half() {
        // T = 0.5 tempers p to p^2 / sum: 0.25, 0.0625, 0.0225, 0.01 over 0.345.
        // top-p 0.9: HF cumulative 0.725, 0.906 -> 2 tokens: 0.8, 0.2.
        Distribution d = run(logits_of(kA), settings(0.5f, 0, 0.9f, 0, HF));
        expect_final(d, {0, 0.8, 0.2, 0});
        // llama.cpp: raw cumulative 0.5, 0.75, 0.9 reaches 0.9 exactly -> 3 tokens, then p^2.
        d = run(logits_of(kA), settings(0.5f, 0, 0.9f, 0, LC));
        expect_final(d, {0, 0.25 / 0.335, 0.0625 / 0.335, 0.0225 / 0.335});
        // top-k 3 and min-p 0.1 combined, HF: top-k leaves 0.746, 0.187, 0.067 (0.25, 0.0625,
        // 0.0225 over 0.335); the min-p threshold 0.0746 removes the 0.067.
        d = run(logits_of(kA), settings(0.5f, 3, 1, 0.1f, HF));
        expect_final(d, {0, 0.8, 0.2, 0});
        QCOMPARE(d.removed_by[0], RemovedBy::TopK);
        QCOMPARE(d.removed_by[3], RemovedBy::MinP);
        // The same in llama.cpp order: min-p threshold 0.05 on the raw 0.5, 0.25, 0.15 keeps all
        // three, then T = 0.5.
        d = run(logits_of(kA), settings(0.5f, 3, 1, 0.1f, LC));
        expect_final(d, {0, 0.25 / 0.335, 0.0625 / 0.335, 0.0225 / 0.335});
    }

    void greedy() {
        const std::vector<float> logits = {2, 5, 5, -1};  // tie at the top: id 1 wins
        for (auto order : {HF, LC}) {
            for (const auto& s : {settings(0, 0, 1, 0, order), settings(0, 3, 0.5f, 0.2f, order),
                                  settings(1, 1, 1, 0, order), settings(1.7f, 1, 1, 0, order)}) {
                const Distribution d = run(logits, s);
                expect_final(d, {0, 1, 0, 0});
                QCOMPARE(d.kept, 1);
                QCOMPARE(d.entropy_final_bits, 0.0);
                // Temperature 0 is greedy, not a top-k filter (top-k = 1 is one).
                const RemovedBy by = s.temperature == 0 ? RemovedBy::Greedy : RemovedBy::TopK;
                for (int id : {0, 2, 3}) QCOMPARE(d.removed_by[id], by);
                QCOMPARE(d.removed_by[1], RemovedBy::None);
                QCOMPARE(sample_token(d, 0.999), 1);
            }
        }
    }

    void neutral_settings_leave_distribution_unchanged() {
        const std::vector<float> logits = random_logits(1000, 7);
        for (auto order : {HF, LC}) {
            for (int k : {0, 1000, 5000}) {
                const Distribution d = run(logits, settings(1, k, 1, 0, order));
                QCOMPARE(d.kept, 1000);
                for (size_t i = 0; i < logits.size(); i++) {
                    QCOMPARE(d.removed_by[i], RemovedBy::None);
                    QVERIFY(std::abs(d.p_final[i] - d.p_raw[i]) <= 1e-7f * d.p_raw[i]);
                }
                QVERIFY(std::abs(d.entropy_final_bits - d.entropy_raw_bits) < 1e-9);
            }
        }
    }

    void probabilities_sum_to_one() {
        const std::vector<float> logits = random_logits(50257, 11);
        for (auto order : {HF, LC})
            for (float t : {0.0f, 0.3f, 1.0f, 1.9f})
                for (int k : {0, 1, 40, 50257})
                    for (float p : {0.0f, 0.5f, 0.95f, 1.0f})
                        for (float m : {0.0f, 0.05f, 1.0f}) {
                            const Distribution d = run(logits, settings(t, k, p, m, order));
                            QVERIFY(std::abs(sum(d.p_raw) - 1.0) < 1e-5);
                            QVERIFY(std::abs(sum(d.p_final) - 1.0) < 1e-5);
                            QVERIFY(d.kept >= 1);
                            int nonzero_outside = 0;
                            for (int i = d.kept; i < 50257; i++)
                                nonzero_outside += d.p_final[d.ranked[i]] != 0.0f;
                            QCOMPARE(nonzero_outside, 0);
                        }
    }

    void ties_rank_lower_id_first_and_top_k_keeps_exactly_k() {
        const std::vector<float> logits = {1, 3, 3, 3, 0, 3};
        Distribution d = run(logits, SamplingSettings());
        QCOMPARE(d.ranked, (std::vector<int>{1, 2, 3, 5, 0, 4}));
        d = run(logits, settings(1, 2, 1, 0, HF));
        expect_final(d, {0, 0.5, 0.5, 0, 0, 0});
        QCOMPARE(d.removed_by[3], RemovedBy::TopK);  // tied with the 2nd but ranked after it
        QCOMPARE(d.removed_by[5], RemovedBy::TopK);
        // min-p 1 keeps every token tied with the top one.
        d = run(logits, settings(1, 0, 1, 1.0f, LC));
        expect_final(d, {0, 0.25, 0.25, 0.25, 0, 0.25});
        QCOMPARE(d.removed_by[0], RemovedBy::MinP);
        // -0 and +0 are the same logit: the tie goes by id.
        d = run({-0.0f, 0.0f}, SamplingSettings());
        QCOMPARE(d.ranked, (std::vector<int>{0, 1}));
    }

    void top_p_exact_boundaries() {
        const std::vector<float> four = {0, 0, 0, 0};  // p = 0.25 each, exactly
        QCOMPARE(run(four, settings(1, 0, 0.25f, 0, HF)).kept, 1);
        QCOMPARE(run(four, settings(1, 0, 0.5f, 0, HF)).kept, 2);
        QCOMPARE(run(four, settings(1, 0, 0.75f, 0, LC)).kept, 3);
        QCOMPARE(run(four, settings(1, 0, 0.75001f, 0, LC)).kept, 4);
        QCOMPARE(run(four, settings(1, 0, 0.0f, 0, HF)).kept, 1);  // at least one token
        // 1/3 + 1/3 reaches 0.6666667f (2/3 rounded up to float): within kBoundaryEps.
        QCOMPARE(run({0, 0, 0}, settings(1, 0, 2.0f / 3.0f, 0, HF)).kept, 2);
        QCOMPARE(run({0, 0, 0}, settings(1, 0, 0.66668f, 0, HF)).kept, 3);
        // After top-k the cumulative is over the renormalized survivors: top-k 2 leaves 0.5, 0.5.
        QCOMPARE(run(four, settings(1, 2, 0.5f, 0, HF)).kept, 1);
        QCOMPARE(run(four, settings(1, 2, 0.51f, 0, HF)).kept, 2);
    }

    void masked_tokens() {
        const std::vector<float> logits = {-INFINITY, 1, -INFINITY, 0};
        const Distribution d = run(logits, settings(0.7f, 0, 1, 0, HF));
        QCOMPARE(d.p_raw[0], 0.0f);
        QCOMPARE(d.p_final[2], 0.0f);
        QCOMPARE(d.ranked, (std::vector<int>{1, 3, 0, 2}));
        QVERIFY(std::isfinite(d.entropy_raw_bits) && std::isfinite(d.entropy_final_bits));
        QVERIFY(std::abs(sum(d.p_final) - 1.0) < 1e-6);
    }

    void bad_input_throws() {
        const std::vector<float> ok = {0, 1};
        QVERIFY_THROWS_EXCEPTION(Error, run({0, NAN}, SamplingSettings()));
        QVERIFY_THROWS_EXCEPTION(Error, run({0, INFINITY}, SamplingSettings()));
        QVERIFY_THROWS_EXCEPTION(Error, run({-INFINITY, -INFINITY}, SamplingSettings()));
        QVERIFY_THROWS_EXCEPTION(Error, run({}, SamplingSettings()));
        QVERIFY_THROWS_EXCEPTION(Error, run(ok, settings(-0.1f, 0, 1, 0, HF)));
        QVERIFY_THROWS_EXCEPTION(Error, run(ok, settings(NAN, 0, 1, 0, HF)));
        QVERIFY_THROWS_EXCEPTION(Error, run(ok, settings(1, -1, 1, 0, HF)));
        QVERIFY_THROWS_EXCEPTION(Error, run(ok, settings(1, 0, 1.5f, 0, HF)));
        QVERIFY_THROWS_EXCEPTION(Error, run(ok, settings(1, 0, 1, -0.5f, HF)));
        QVERIFY_THROWS_EXCEPTION(Error, sample_token(Distribution(), 0.5));
        try {
            run({0, NAN}, SamplingSettings());
        } catch (const Error& e) {
            QVERIFY(QString(e.what()).contains("token 1"));
        }
    }

    void inverse_cdf() {
        // p_final: id 1 0.5, id 2 0.25, id 0 0.25 (ranked 1, 2, 0 by logit, then id).
        const Distribution d = run({0, std::log(2.0f), 0}, SamplingSettings());
        QCOMPARE(d.ranked, (std::vector<int>{1, 0, 2}));
        QCOMPARE(sample_token(d, 0.0), 1);
        QCOMPARE(sample_token(d, 0.4999), 1);
        QCOMPARE(sample_token(d, 0.5001), 0);
        QCOMPARE(sample_token(d, 0.7499), 0);
        QCOMPARE(sample_token(d, 0.7501), 2);
        QCOMPARE(sample_token(d, 0.99999999), 2);
        QCOMPARE(sample_token(d, 1.0), 2);  // rounding guard: the last kept token
    }

    void fixed_seed_reproduces_samples() {
        const std::vector<float> logits = random_logits(512, 3);
        const Distribution d = run(logits, settings(0.9f, 50, 0.95f, 0.01f, LC));
        auto draw = [&](uint64_t seed) {
            Sampler s(seed);
            std::vector<int> out;
            for (int i = 0; i < 200; i++) out.push_back(s.sample(d));
            return out;
        };
        QCOMPARE(draw(42), draw(42));
        QVERIFY(draw(42) != draw(43));
        // The uniform is defined bit for bit: the first mt19937_64 output of seed 5489 is
        // 14514284786278117030 (the C++ standard's check value is the 10000th output).
        Sampler s(5489);
        QCOMPARE(s.next_uniform(), double(14514284786278117030ull >> 11) * 0x1.0p-53);
        // Draw frequencies follow p_final.
        std::vector<int> counts(512, 0);
        Sampler big(1);
        const int n = 200000;
        for (int i = 0; i < n; i++) counts[big.sample(d)]++;
        for (int id = 0; id < 512; id++) {
            const double p = d.p_final[id];
            const double sd = std::sqrt(p * (1 - p) / n);
            QVERIFY2(std::abs(counts[id] / double(n) - p) <= 5 * sd + 1e-12,
                     qPrintable(QString("token %1: %2 vs %3").arg(id).arg(counts[id]).arg(p)));
        }
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestSampling)
#include "test_sampling.moc"
