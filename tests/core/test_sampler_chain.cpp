// The sampler chain's stages against independent implementations written here from the engines'
// published sources (llama.cpp src/llama-sampler.cpp, Hugging Face logits_process.py), on
// llama.cpp's own hand-checked cases (tests/test-sampling.cpp) and on random logits; the
// presets; XTC's seeded draw; edge cases; the bad settings named.
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "core/sampling/chain.h"
#include "core/sampling/sampling.h"
#include "tests/support/expect_error.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

using namespace ps;

namespace {

std::vector<float> logits_of(const std::vector<float>& p) {
    std::vector<float> l;
    for (float x : p) l.push_back(x > 0 ? std::log(x) : -INFINITY);
    return l;
}

// One stage alone (everything else at the chain's defaults, which are off for a lone stage).
ChainSettings only(Stage stage, ChainFlavor flavor = ChainFlavor::LlamaCpp) {
    ChainSettings s;
    s.stages = {stage};
    s.flavor = flavor;
    return s;
}

ChainResult run(const std::vector<float>& logits, const ChainSettings& s,
                const std::vector<int>& history = {}, uint64_t seed = 0) {
    ChainRandom random(seed);
    return apply_chain(logits.data(), int(logits.size()), history, s, random);
}

// The final distribution equals `expected` (by id; tokens not listed: 0).
bool final_is(const ChainResult& r, const std::map<int, double>& expected, double tol = 1e-5) {
    for (size_t id = 0; id < r.p_final.size(); ++id) {
        const auto it = expected.find(int(id));
        const double want = it == expected.end() ? 0.0 : it->second;
        if (std::abs(r.p_final[id] - want) > tol) {
            qWarning("token %zu: %g, expected %g", id, double(r.p_final[id]), want);
            return false;
        }
    }
    return true;
}

std::vector<double> softmax(const std::vector<double>& l) {
    const double max = *std::max_element(l.begin(), l.end());
    std::vector<double> p;
    double sum = 0;
    for (double x : l) sum += std::exp(x - max);
    for (double x : l) p.push_back(std::exp(x - max) / sum);
    return p;
}

// --- independent implementations, on full-vocabulary arrays ---------------------------------

// llama.cpp's penalties: counts over the last `n` tokens (-1: all), the sign rule, then
// count * frequency + presence subtracted.
std::vector<double> naive_penalties(std::vector<double> l, const std::vector<int>& history, int n,
                                    double repeat, double freq, double presence) {
    std::map<int, int> count;
    const int start = n < 0 ? 0 : std::max(0, int(history.size()) - n);
    for (int i = start; i < int(history.size()); ++i) count[history[size_t(i)]]++;
    for (auto [id, c] : count) {
        double& x = l[size_t(id)];
        x = x <= 0 ? x * repeat : x / repeat;
        x -= c * freq + presence;
    }
    return l;
}

// DRY by brute force, single-token breakers: for every earlier end point, how long the
// history's suffix matches the tokens ending there; the token after that occurrence would
// extend the repeat. Repeats stop at the last breaker.
std::vector<double> naive_dry(std::vector<double> l, const std::vector<int>& history, double mult,
                              double base, int allowed, int last_n,
                              const std::vector<int>& breakers) {
    const int n = std::min(int(history.size()), last_n);
    if (n <= allowed) return l;
    std::vector<int> w(history.end() - n, history.end());
    auto is_breaker = [&](int t) {
        return std::find(breakers.begin(), breakers.end(), t) != breakers.end();
    };
    int limit = n;  // tokens after the last breaker
    for (int i = 0; i < n; ++i)
        if (is_breaker(w[size_t(n - 1 - i)])) {
            limit = i;
            break;
        }
    if (limit < allowed) return l;
    std::map<int, int> longest;
    for (int end = 0; end < n - 1; ++end) {  // an earlier occurrence ending at w[end]
        int m = 0;
        while (m <= end && w[size_t(end - m)] == w[size_t(n - 1 - m)]) ++m;
        m = std::min(m, limit);
        if (m >= allowed) longest[w[size_t(end + 1)]] = std::max(longest[w[size_t(end + 1)]], m);
    }
    for (auto [t, m] : longest)
        if (!is_breaker(t)) l[size_t(t)] -= mult * std::pow(base, m - allowed);
    return l;
}

}  // namespace

class TestSamplerChain : public QObject {
    Q_OBJECT
  private slots:
    // llama.cpp tests/test-sampling.cpp's cases: input probabilities, expected output.
    void llama_cpp_hand_checked_cases() {
        const std::vector<float> p4 = {0.1f, 0.2f, 0.3f, 0.4f};
        auto with = [](Stage st, auto set) {
            ChainSettings s = only(st);
            set(s);
            return s;
        };
        QVERIFY(final_is(run(logits_of(p4), with(Stage::TopK, [](auto& s) { s.top_k = 1; })),
                         {{3, 1.0}}));
        QVERIFY(final_is(run(logits_of(p4), with(Stage::TopK, [](auto& s) { s.top_k = 3; })),
                         {{3, 0.44444}, {2, 0.33333}, {1, 0.22222}}));
        QVERIFY(final_is(run(logits_of(p4), with(Stage::TopP, [](auto& s) { s.top_p = 0.0f; })),
                         {{3, 1.0}}));
        QVERIFY(final_is(run(logits_of(p4), with(Stage::TopP, [](auto& s) { s.top_p = 0.7f; })),
                         {{3, 0.571429}, {2, 0.428571}}));
        QVERIFY(final_is(run(logits_of(p4), with(Stage::TopP, [](auto& s) { s.top_p = 0.8f; })),
                         {{3, 0.44444}, {2, 0.33333}, {1, 0.22222}}));
        const std::pair<float, std::map<int, double>> min_p_cases[] = {
            {0.24f, {{0, 0.1}, {1, 0.2}, {2, 0.3}, {3, 0.4}}},
            {0.26f, {{1, 0.2 / 0.9}, {2, 0.3 / 0.9}, {3, 0.4 / 0.9}}},
            {0.49f, {{1, 0.2 / 0.9}, {2, 0.3 / 0.9}, {3, 0.4 / 0.9}}},
            {0.51f, {{2, 0.3 / 0.7}, {3, 0.4 / 0.7}}},
            {0.76f, {{3, 1.0}}},
            {1.00f, {{3, 1.0}}}};
        for (const auto& [m, want] : min_p_cases)
            QVERIFY(final_is(
                run(logits_of(p4), with(Stage::MinP, [m = m](auto& s) { s.min_p = m; })), want));
        // XTC (probability 1, so the draw always fires): every top choice but the last goes.
        const std::vector<float> x4 = {0.4f, 0.3f, 0.2f, 0.1f};
        auto xtc = [&](float t) {
            return with(Stage::Xtc, [t](auto& s) {
                s.xtc_probability = 1.0f;
                s.xtc_threshold = t;
            });
        };
        QVERIFY(final_is(run(logits_of(x4), xtc(0.09f)), {{3, 1.0}}));
        QVERIFY(final_is(run(logits_of(x4), xtc(0.19f)), {{2, 2 / 3.0}, {3, 1 / 3.0}}));
        QVERIFY(final_is(run(logits_of(x4), xtc(0.29f)), {{1, 0.5}, {2, 1 / 3.0}, {3, 1 / 6.0}}));
        QVERIFY(final_is(run(logits_of(x4), xtc(0.39f)), {{0, 0.4}, {1, 0.3}, {2, 0.2}, {3, 0.1}}));
        // Typical.
        QVERIFY(final_is(run(logits_of({0.97f, 0.01f, 0.01f, 0.01f}),
                             with(Stage::Typical, [](auto& s) { s.typical_p = 0.5f; })),
                         {{0, 1.0}}));
        QVERIFY(final_is(run(logits_of({0.4f, 0.2f, 0.2f, 0.2f}),
                             with(Stage::Typical, [](auto& s) { s.typical_p = 0.5f; })),
                         {{1, 1 / 3.0}, {2, 1 / 3.0}, {3, 1 / 3.0}}));
        // Penalties over the accepted tokens (the window is their count).
        const std::vector<float> p5(5, 0.2f);
        auto pen = [](float r, float f, float pr, int n) {
            ChainSettings s = only(Stage::Penalties);
            s.repeat_penalty = r;
            s.frequency_penalty = f;
            s.presence_penalty = pr;
            s.penalty_last_n = n;
            return s;
        };
        QVERIFY(final_is(run(logits_of(p5), pen(50, 0, 0, 1), {0}),
                         {{0, 0}, {1, 0.25}, {2, 0.25}, {3, 0.25}, {4, 0.25}}));
        QVERIFY(final_is(run(logits_of(p5), pen(50, 0, 0, 3), {0, 1, 2}), {{3, 0.5}, {4, 0.5}}));
        QVERIFY(
            final_is(run(logits_of(p5), pen(1, 5, 5, 3), {0, 1, 2}),
                     {{0, 0.000023}, {1, 0.000023}, {2, 0.000023}, {3, 0.499966}, {4, 0.499966}}));
        QVERIFY(final_is(run(logits_of(p5), pen(1, 5, 5, 5), {0, 1, 2, 0, 0}),
                         {{0, 0.0}, {1, 0.000023}, {2, 0.000023}, {3, 0.499977}, {4, 0.499977}}));
        // DRY.
        auto dry = [](float mult, float base, int allowed, int n, DryBreakers b = {}) {
            ChainSettings s = only(Stage::Dry);
            s.dry_multiplier = mult;
            s.dry_base = base;
            s.dry_allowed_length = allowed;
            s.dry_penalty_last_n = n;
            s.dry_breakers = std::move(b);
            return s;
        };
        const std::vector<float> q4(4, 0.25f);
        QVERIFY(final_is(run(logits_of(q4), dry(1, 1.1f, 2, 4), {0, 1}),
                         {{0, 0.25}, {1, 0.25}, {2, 0.25}, {3, 0.25}}));
        QVERIFY(final_is(run(logits_of(q4), dry(1, 1.1f, 2, 5), {0, 1, 2, 0, 1}),
                         {{0, 0.296923}, {1, 0.296923}, {2, 0.109232}, {3, 0.296923}}));
        QVERIFY(final_is(run(logits_of(p5), dry(1, 1.1f, 2, 6, {{3, {}}}), {0, 1, 3, 4, 0, 1}),
                         {{0, 0.2}, {1, 0.2}, {2, 0.2}, {3, 0.2}, {4, 0.2}}));
        QVERIFY(
            final_is(run(logits_of(p5), dry(2, 1.1f, 2, 5), {0, 1, 2, 0, 1}),
                     {{0, 0.241818}, {1, 0.241818}, {2, 0.032727}, {3, 0.241818}, {4, 0.241818}}));
        QVERIFY(final_is(run(logits_of(p5), dry(1, 1.1f, 4, 7), {0, 1, 2, 3, 4, 0, 1}),
                         {{0, 0.2}, {1, 0.2}, {2, 0.2}, {3, 0.2}, {4, 0.2}}));
        // top-n-sigma.
        QVERIFY(final_is(
            run(logits_of(p4), with(Stage::TopNSigma, [](auto& s) { s.top_n_sigma = 1.0f; })),
            {{2, 0.428571}, {3, 0.571429}}));
        QVERIFY(final_is(
            run(logits_of(p4), with(Stage::TopNSigma, [](auto& s) { s.top_n_sigma = 3.0f; })),
            {{0, 0.1}, {1, 0.2}, {2, 0.3}, {3, 0.4}}));
    }

    // Random logits and histories: penalties and DRY equal the brute-force versions above; the
    // filters keep what their definitions say.
    void stages_match_independent_implementations() {
        std::mt19937 gen(7);
        std::normal_distribution<double> normal(0.0, 2.0);
        for (int trial = 0; trial < 60; ++trial) {
            const int V = 48;
            std::vector<double> l(V);
            for (double& x : l) x = normal(gen);
            std::vector<float> lf(l.begin(), l.end());
            std::vector<double> ld(lf.begin(), lf.end());
            std::vector<int> history;
            for (int i = 0; i < 40; ++i) history.push_back(int(gen() % 6));  // many repeats
            // penalties, both flavors
            for (ChainFlavor flavor : {ChainFlavor::LlamaCpp, ChainFlavor::HuggingFace}) {
                ChainSettings s = only(Stage::Penalties, flavor);
                s.repeat_penalty = 1.3f;
                s.frequency_penalty = 0.2f;
                s.presence_penalty = 0.5f;
                s.penalty_last_n = 16;
                const std::vector<double> want = softmax(naive_penalties(
                    ld, history, flavor == ChainFlavor::HuggingFace ? -1 : 16, 1.3f, 0.2f, 0.5f));
                const ChainResult r = run(lf, s, history);
                for (int v = 0; v < V; ++v)
                    QVERIFY(std::abs(r.p_final[size_t(v)] - want[v]) < 1e-5);
            }
            // dry, with a single-token breaker
            {
                ChainSettings s = only(Stage::Dry);
                s.dry_multiplier = 0.8f;
                s.dry_base = 1.75f;
                s.dry_allowed_length = 2;
                s.dry_penalty_last_n = 32;
                s.dry_breakers = {{5, {}}};
                const std::vector<double> want =
                    softmax(naive_dry(ld, history, 0.8f, 1.75f, 2, 32, {5}));
                const ChainResult r = run(lf, s, history);
                for (int v = 0; v < V; ++v)
                    QVERIFY2(std::abs(r.p_final[size_t(v)] - want[v]) < 1e-5,
                             qPrintable(QString("trial %1 token %2").arg(trial).arg(v)));
            }
            const std::vector<double> p = softmax(ld);
            std::vector<int> order(V);
            std::iota(order.begin(), order.end(), 0);
            std::sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
            // top_p (llama.cpp): the smallest prefix reaching 0.8
            {
                ChainSettings s = only(Stage::TopP);
                s.top_p = 0.8f;
                double cum = 0;
                size_t n = 0;
                while (cum < 0.8f) cum += p[size_t(order[n++])];
                QCOMPARE(run(lf, s).stages[0].kept, int(n));
                // Hugging Face: the bottom tokens whose ascending sum is <= 0.2 go.
                s.flavor = ChainFlavor::HuggingFace;
                double low = 0;
                size_t removed = 0;
                for (size_t i = V; i-- > 1;) {
                    low += p[size_t(order[i])];
                    if (low > 1.0 - double(0.8f)) break;
                    ++removed;
                }
                QCOMPARE(run(lf, s).stages[0].kept, int(V - removed));
            }
            // min_p: p >= 0.1 * p_max
            {
                ChainSettings s = only(Stage::MinP);
                s.min_p = 0.1f;
                int n = 0;
                for (double x : p) n += x >= 0.1f * p[size_t(order[0])] - 1e-9;
                QCOMPARE(run(lf, s).stages[0].kept, n);
            }
            // typical (llama.cpp): by |-ln p - H| until the sum passes 0.6
            {
                ChainSettings s = only(Stage::Typical);
                s.typical_p = 0.6f;
                double h = 0;
                for (double x : p) h -= x * std::log(x);
                std::vector<int> by(order);
                std::stable_sort(by.begin(), by.end(), [&](int a, int b) {
                    return std::abs(-std::log(p[a]) - h) < std::abs(-std::log(p[b]) - h);
                });
                double cum = 0;
                size_t n = 0;
                while (n < by.size() && cum <= 0.6f) cum += p[size_t(by[n++])];
                const ChainResult r = run(lf, s);
                QCOMPARE(r.stages[0].kept, int(n));
                for (size_t i = 0; i < n; ++i) QVERIFY(r.p_final[size_t(by[i])] > 0);
            }
        }
    }

    void top_k_ties_follow_the_engine() {
        const std::vector<float> l = {1.0f, 2.0f, 2.0f, 2.0f, 0.5f};
        ChainSettings s = only(Stage::TopK);
        s.top_k = 2;
        // llama.cpp: exactly k (equal logits ranked by lower id here); Hugging Face: all ties.
        QVERIFY(final_is(run(l, s), {{1, 0.5}, {2, 0.5}}));
        s.flavor = ChainFlavor::HuggingFace;
        QVERIFY(final_is(run(l, s), {{1, 1 / 3.0}, {2, 1 / 3.0}, {3, 1 / 3.0}}));
    }

    void edge_cases() {
        // top-n-sigma with equal logits: std 0, every token kept.
        ChainSettings sigma = only(Stage::TopNSigma);
        sigma.top_n_sigma = 1.0f;
        QCOMPARE(run(std::vector<float>(6, 1.5f), sigma).stages[0].kept, 6);
        // Every token penalized: the distribution is still one (the order among them holds).
        ChainSettings pen = only(Stage::Penalties);
        pen.repeat_penalty = 2.0f;
        const ChainResult all = run({1.0f, -1.0f, 2.0f}, pen, {0, 1, 2});
        QVERIFY(final_is(all, [] {
            const std::vector<double> p = softmax({0.5, -2.0, 1.0});
            return std::map<int, double>{{0, p[0]}, {1, p[1]}, {2, p[2]}};
        }()));
        QCOMPARE(all.stages[0].changed, std::vector<int>({0, 1, 2}));
        // Temperature 0: greedy, the lower id of equal tops.
        ChainSettings greedy = only(Stage::Temperature);
        greedy.temperature = 0.0f;
        QVERIFY(final_is(run({0.0f, 3.0f, 3.0f}, greedy), {{1, 1.0}}));
        // min-p exactly at the threshold keeps the token: logit == max + ln(min_p), the same
        // float expression the stage compares with, so no rounding decides it.
        ChainSettings m = only(Stage::MinP);
        m.min_p = 0.5f;
        QCOMPARE(run({0.0f, std::log(0.5f), std::log(0.5f)}, m).stages[0].kept, 3);
        // A token whose probability underflows to 0 is still a candidate a stage removes.
        ChainSettings k1 = only(Stage::TopK);
        k1.top_k = 1;
        QCOMPARE(run({0.0f, -1000.0f, -2000.0f}, k1).stages[0].removed, std::vector<int>({1, 2}));
        // A masked token (-inf) is never a candidate.
        QCOMPARE(run({-INFINITY, 0.0f, 0.0f}, llamacpp_chain()).p_final[0], 0.0f);
    }

    void each_stage_records_what_it_did() {
        ChainSettings s = llamacpp_chain();
        s.top_k = 3;
        s.top_p = 1.0f;
        s.min_p = 0.0f;
        s.temperature = 1.0f;
        const std::vector<float> l = {0.0f, 1.0f, 2.0f, 3.0f, 4.0f};
        const ChainResult r = run(l, s);
        QCOMPARE(r.stages.size(), size_t(9));
        QCOMPARE(r.stages[3].stage, Stage::TopK);
        QCOMPARE(r.stages[3].kept, 3);
        QCOMPARE(r.stages[3].removed, std::vector<int>({0, 1}));
        const std::vector<double> p = softmax({0, 1, 2, 3, 4});
        QVERIFY(std::abs(r.stages[3].kept_mass - (p[2] + p[3] + p[4])) < 1e-9);
        QCOMPARE(r.stages[3].ids, std::vector<int>({4, 3, 2}));
        const std::vector<double> q = softmax({2, 3, 4});
        QVERIFY(std::abs(r.stages[3].p[0] - q[2]) < 1e-6);
        double h = 0;
        for (double x : q) h -= x * std::log2(x);
        QVERIFY(std::abs(r.stages[3].entropy_bits - h) < 1e-9);
        QCOMPARE(r.ranked, std::vector<int>({4, 3, 2}));
    }

    void presets_are_the_engines() {
        const ChainSettings l = llamacpp_chain();
        std::string order;
        for (Stage st : l.stages) order += std::string(stage_name(st)) + ",";
        QCOMPARE(order, std::string("penalties,dry,top_n_sigma,top_k,typical,top_p,min_p,xtc,"
                                    "temperature,"));
        QCOMPARE(l.top_k, 40);
        QCOMPARE(l.top_p, 0.95f);
        QCOMPARE(l.min_p, 0.05f);
        QCOMPARE(l.temperature, 0.8f);
        QCOMPARE(l.penalty_last_n, 64);
        const ChainSettings h = huggingface_chain();
        order.clear();
        for (Stage st : h.stages) order += std::string(stage_name(st)) + ",";
        QCOMPARE(order, std::string("penalties,temperature,top_k,top_p,min_p,typical,"));
        QCOMPARE(h.top_k, 50);
        QCOMPARE(h.temperature, 1.0f);
    }

    // On the model's own logits, the llama.cpp preset without penalties is the sampling step's
    // llama.cpp order with the same values (an independent implementation, tested on its own).
    void llamacpp_preset_on_stories260K() {
        PS_REQUIRE_SHARED(path, "models/stories260K/stories260K.bin");
        auto model = load_model(path);
        const std::vector<int> ids = {1, 403, 407, 261, 378, 430, 270, 341, 437, 261};
        const Trace t = forward(*model, ids);
        const int V = model->config.vocab_size;
        SamplingSettings old;
        old.order = SamplingOrder::LlamaCpp;
        old.temperature = 0.8f;
        old.top_k = 40;
        old.top_p = 0.95f;
        old.min_p = 0.05f;
        for (Eigen::Index pos = 0; pos < t.logits.rows(); ++pos) {
            const float* row = t.logits.data() + pos * V;
            const Distribution want = apply_sampling(row, V, old);
            ChainRandom random(1);
            const ChainResult got = apply_chain(row, V, {}, llamacpp_chain(), random);
            for (int v = 0; v < V; ++v)
                QVERIFY(std::abs(got.p_final[size_t(v)] - want.p_final[size_t(v)]) < 1e-5);
        }
    }

    void xtc_is_reproducible_with_a_seed() {
        ChainSettings s = only(Stage::Xtc);
        s.xtc_probability = 0.5f;
        s.xtc_threshold = 0.1f;
        const std::vector<float> l = logits_of({0.4f, 0.3f, 0.2f, 0.1f});
        auto fires = [&](uint64_t seed) {
            ChainRandom random(seed);
            std::vector<bool> out;
            for (int i = 0; i < 64; ++i)
                out.push_back(apply_chain(l.data(), 4, {}, s, random).xtc_fired);
            return out;
        };
        QCOMPARE(fires(42), fires(42));
        QVERIFY(fires(42) != fires(43));
        const std::vector<bool> f = fires(42);
        const auto n = std::count(f.begin(), f.end(), true);
        QVERIFY(n > 10 && n < 54);  // about half of 64 draws
    }

    void bad_chains_are_named() {
        EXPECT_ERROR(parse_stage("top_q"), "unknown stage 'top_q'", "top_p");
        ChainSettings s = llamacpp_chain();
        s.stages.push_back(Stage::TopK);
        EXPECT_ERROR(check_chain(s), "'top_k' is named twice");
        s = llamacpp_chain();
        s.top_p = 1.5f;
        EXPECT_ERROR(check_chain(s), "top_p", "1.5");
        s = llamacpp_chain();
        s.dry_base = 0.5f;
        EXPECT_ERROR(check_chain(s), "dry", "base must be >= 1", "0.5");
        s = llamacpp_chain();
        s.penalty_last_n = -2;
        EXPECT_ERROR(check_chain(s), "penalties", "window", "-2");
        const std::vector<float> nan = {0.0f, NAN};
        ChainRandom random(0);
        EXPECT_ERROR(apply_chain(nan.data(), 2, {}, llamacpp_chain(), random), "NaN");
    }
};

PARAMSCOPE_TEST_MAIN(TestSamplerChain)
#include "test_sampler_chain.moc"
