// Comparing sampling settings, in core: simulated sampling against the probabilities it draws
// from, entropy against temperature, and the generation loop (deterministic per seed, each
// token's recorded probability the one it had when drawn, the same tokens as `paramscope
// generate`), on stories260K and on hand-made distributions.
#include <QtTest>
#include <cmath>
#include <memory>
#include <nlohmann/json.hpp>
#include <vector>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "core/sampling/compare.h"
#include "core/sampling/generate.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/support/expect_error.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

using namespace ps;

namespace {

constexpr const char* kPrompt = "Once upon a time";
// A position where stories260K spreads its probability (0.61 on the top token, 0.012 on the
// 10th), so frequencies are checked on more than one likely token.
constexpr const char* kSpreadPrompt = "Once upon a time, there was a";

SamplingSettings at_temperature(float t) {
    SamplingSettings s;
    s.temperature = t;
    return s;
}

std::vector<int> prompt_ids(const Model& m, const std::string& text) {
    std::vector<int> ids = m.tokenizer->encode(text);
    if (m.tokenizer->add_bos) ids.insert(ids.begin(), m.tokenizer->bos_id);
    return ids;
}

Distribution next_token_distribution(const Model& m, const std::vector<int>& ids,
                                     const SamplingSettings& s) {
    const Trace t = forward(m, ids, TraceOptions::none());
    return apply_sampling(t.logits.data(), m.config.vocab_size, s);
}

// -sum p log2 p, computed independently of apply_sampling's shortcut through the logits.
double entropy_of(const std::vector<float>& p) {
    double h = 0;
    for (float x : p)
        if (x > 0) h -= x * std::log2(static_cast<double>(x));
    return h;
}

}  // namespace

class TestCompare : public QObject {
    Q_OBJECT
    std::unique_ptr<Model> model_;

    // Loaded once; each test checks that the file exists (PS_REQUIRE_SHARED) first.
    const Model& model(const std::string& path) {
        if (!model_) model_ = load_model(path);
        return *model_;
    }

  private slots:
    void simulated_frequencies_are_within_three_standard_errors() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        const Model& m = model(bin);
        const std::vector<int> ids = prompt_ids(m, kSpreadPrompt);
        SamplingSettings filtered = at_temperature(1.2f);
        filtered.top_p = 0.9f;
        for (const SamplingSettings& s : {at_temperature(0.5f), at_temperature(1.5f), filtered}) {
            const Distribution d = next_token_distribution(m, ids, s);
            const int64_t n = 10000;
            const std::vector<int64_t> counts = simulate_samples(d, n, 1234);
            int64_t total = 0;
            for (size_t id = 0; id < counts.size(); id++) {
                total += counts[id];
                if (d.removed_by[id] != RemovedBy::None) QCOMPARE(counts[id], int64_t(0));
            }
            QCOMPARE(total, n);
            if (s.temperature > 1) QVERIFY(d.p_final[size_t(d.ranked[9])] > 0.01);
            for (int r = 0; r < 10 && r < d.kept; r++) {
                const auto id = static_cast<size_t>(d.ranked[static_cast<size_t>(r)]);
                const double p = d.p_final[id], freq = double(counts[id]) / double(n);
                const double se = frequency_standard_error(p, n);
                QVERIFY2(std::abs(freq - p) <= 3 * se,
                         qPrintable(QString("T %1 rank %2: frequency %3, p %4, se %5")
                                        .arg(s.temperature)
                                        .arg(r)
                                        .arg(freq)
                                        .arg(p)
                                        .arg(se)));
            }
        }
    }

    void simulated_draws_are_the_samplers_draws() {
        // Ties, a zero-probability kept token (exp underflow) and a filter, so the binary search
        // meets every case the linear walk of sample_token handles.
        const std::vector<float> logits = {2.0f, 1.0f, 2.0f, -1000.0f, 0.5f, -INFINITY, 1.0f};
        for (const SamplingSettings& s : {at_temperature(1.0f), at_temperature(0.7f)}) {
            SamplingSettings top = s;
            top.top_k = 4;
            for (const SamplingSettings& settings : {s, top}) {
                const Distribution d =
                    apply_sampling(logits.data(), static_cast<int>(logits.size()), settings);
                const std::vector<int64_t> counts = simulate_samples(d, 5000, 99);
                std::vector<int64_t> expected(logits.size(), 0);
                Sampler sampler(99);
                for (int i = 0; i < 5000; i++) expected[static_cast<size_t>(sampler.sample(d))]++;
                QCOMPARE(counts, expected);
            }
        }
        const Distribution d = apply_sampling(logits.data(), 7, at_temperature(1.0f));
        QCOMPARE(simulate_samples(d, 0, 1), std::vector<int64_t>(7, 0));
        EXPECT_ERROR(simulate_samples(d, -1, 1), "simulate", "number of samples");
        EXPECT_ERROR(simulate_samples(Distribution{}, 10, 1), "empty distribution");
    }

    void standard_error_is_binomial() {
        QCOMPARE(frequency_standard_error(0.5, 10000), 0.005);
        QCOMPARE(frequency_standard_error(1.0, 100), 0.0);
        QCOMPARE(frequency_standard_error(0.2, 0), 0.0);
    }

    void lower_temperature_gives_lower_entropy() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        const Model& m = model(bin);
        const std::vector<int> ids = prompt_ids(m, kSpreadPrompt);
        const Distribution cold = next_token_distribution(m, ids, at_temperature(0.5f));
        const Distribution neutral = next_token_distribution(m, ids, at_temperature(1.0f));
        const Distribution hot = next_token_distribution(m, ids, at_temperature(1.5f));
        QVERIFY(cold.entropy_final_bits < neutral.entropy_final_bits);
        QVERIFY(neutral.entropy_final_bits < hot.entropy_final_bits);
        QVERIFY(std::abs(neutral.entropy_final_bits - neutral.entropy_raw_bits) < 1e-9);
        for (const Distribution* d : {&cold, &neutral, &hot})
            QVERIFY(std::abs(d->entropy_final_bits - entropy_of(d->p_final)) < 1e-4);
    }

    void generation_is_deterministic_per_seed() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        const Model& m = model(bin);
        const std::vector<int> ids = prompt_ids(m, kPrompt);
        GenerateOptions o;
        o.steps = 20;
        auto run = [&](uint64_t seed, float t) {
            Sampler sampler(seed);
            return generate_tokens(m, ids, at_temperature(t), sampler, o);
        };
        const Generation a = run(5, 1.0f), b = run(5, 1.0f);
        QVERIFY(!a.steps.empty());
        QCOMPARE(a.continuation(), b.continuation());
        bool some_seed_differs = false;
        for (uint64_t seed = 6; seed < 12 && !some_seed_differs; seed++)
            some_seed_differs = run(seed, 1.0f).continuation() != a.continuation();
        QVERIFY(some_seed_differs);
        // Greedy: every step draws the top-ranked token with probability 1.
        for (const GeneratedStep& s : run(5, 0.0f).steps) {
            QCOMPARE(s.rank, 0);
            QCOMPARE(s.p_final, 1.0f);
            QCOMPARE(s.kept, 1);
        }
    }

    void each_token_has_the_probability_it_was_drawn_with() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        const Model& m = model(bin);
        std::vector<int> ids = prompt_ids(m, kPrompt);
        SamplingSettings s = at_temperature(0.9f);
        s.top_k = 40;
        GenerateOptions o;
        o.steps = 12;
        o.top_n = 5;
        Sampler sampler(3);
        const Generation g = generate_tokens(m, ids, s, sampler, o);
        QVERIFY(!g.steps.empty());
        // The first step is the distribution at the prompt's last position, and every later one
        // the distribution after the tokens drawn so far: recomputed here over the whole prompt,
        // while generation reuses the previous step's keys and values, so equal up to float
        // rounding (relative 1e-5).
        auto close = [](double a, double b) { return std::abs(a - b) <= 1e-5 * std::abs(b); };
        for (const GeneratedStep& step : g.steps) {
            const Distribution d = next_token_distribution(m, ids, s);
            const auto id = static_cast<size_t>(step.token);
            if (&step == &g.steps.front()) {  // no cache yet: the very same computation
                QCOMPARE(step.p_final, d.p_final[id]);
                QCOMPARE(step.entropy_final_bits, d.entropy_final_bits);
            }
            QVERIFY(close(step.p_final, d.p_final[id]));
            QVERIFY(close(step.p_raw, d.p_raw[id]));
            QVERIFY(close(step.entropy_final_bits, d.entropy_final_bits));
            QVERIFY(step.p_final > 0);
            QCOMPARE(d.ranked[static_cast<size_t>(step.rank)], step.token);
            QCOMPARE(step.kept, d.kept);
            QCOMPARE(static_cast<int>(step.top.size()), 5);
            for (size_t r = 0; r < step.top.size(); r++) {
                QCOMPARE(step.top[r].id, d.ranked[r]);
                QVERIFY(close(step.top[r].p_final, d.p_final[static_cast<size_t>(d.ranked[r])]));
            }
            ids.push_back(step.token);
        }
        // The sampler advanced one draw per step: a fresh one replays the same tokens.
        Sampler replay(3);
        ids = prompt_ids(m, kPrompt);
        for (const GeneratedStep& step : g.steps) {
            QCOMPARE(replay.sample(next_token_distribution(m, ids, s)), step.token);
            ids.push_back(step.token);
        }
    }

    void generation_is_the_cli_generate_loop() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        const Model& m = model(bin);
        const std::vector<int> ids = prompt_ids(m, kPrompt);
        SamplingSettings s = at_temperature(1.1f);
        s.top_p = 0.95f;
        GenerateOptions o;
        o.steps = 30;
        Sampler sampler(77);
        std::vector<int> expected = ids;
        for (int id : generate_tokens(m, ids, s, sampler, o).continuation()) expected.push_back(id);
        const auto r = test::run_cli({"generate", bin_q, "--text", kPrompt, "--steps", "30",
                                      "--temperature", "1.1", "--top-p", "0.95", "--seed", "77"});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        const auto out = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(out["ids"].get<std::vector<int>>(), expected);
    }

    void generation_stops_when_cancelled() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        const Model& m = model(bin);
        GenerateOptions o;
        o.steps = 50;
        int polls = 0;
        o.cancelled = [&polls] { return ++polls > 3; };
        Sampler sampler(1);
        const Generation g =
            generate_tokens(m, prompt_ids(m, kPrompt), at_temperature(0.0f), sampler, o);
        QVERIFY(g.cancelled);
        QCOMPARE(static_cast<int>(g.steps.size()), 3);
        EXPECT_ERROR(generate_tokens(m, {}, at_temperature(1.0f), sampler, o), "no tokens");
    }

    void settings_text_round_trips() {
        const auto list = parse_settings_list(
            "t=0.5; t=1.5,k=40 ;temperature=0.8,p=0.9,m=0.05,"
            "order=llamacpp");
        QCOMPARE(static_cast<int>(list.size()), 3);
        QCOMPARE(list[0].temperature, 0.5f);
        QCOMPARE(list[1].temperature, 1.5f);
        QCOMPARE(list[1].top_k, 40);
        QCOMPARE(list[2].top_p, 0.9f);
        QCOMPARE(list[2].min_p, 0.05f);
        QCOMPARE(list[2].order, SamplingOrder::LlamaCpp);
        QCOMPARE(format_settings(list[2]), std::string("t=0.8,p=0.9,m=0.05,order=llamacpp"));
        QCOMPARE(format_settings(SamplingSettings{}), std::string("t=1"));
        for (const SamplingSettings& s : list) {
            const SamplingSettings back = parse_settings(format_settings(s));
            QCOMPARE(back.temperature, s.temperature);
            QCOMPARE(back.top_k, s.top_k);
            QCOMPARE(back.top_p, s.top_p);
            QCOMPARE(back.min_p, s.min_p);
            QCOMPARE(back.order, s.order);
        }
        EXPECT_ERROR(parse_settings("t=abc"), "'t'", "abc");
        EXPECT_ERROR(parse_settings("p=1.5"), "'p'", "[0");
        EXPECT_ERROR(parse_settings("x=1"), "unknown key 'x'");
        EXPECT_ERROR(parse_settings("t"), "key=value");
        EXPECT_ERROR(parse_settings("order=greedy"), "hf", "llamacpp");
        EXPECT_ERROR(parse_settings_list(" ; "), "no settings");
    }
};

PARAMSCOPE_TEST_MAIN(TestCompare)
#include "test_compare.moc"
