// Parameter statistics, histograms, the parameter-count formula and nearest tokens, each against
// a naive computation; formula totals against real models and GPT-2 124M's known count.
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <random>

#include "core/analysis/param_stats.h"
#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/random_model.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

using namespace ps;

namespace {

std::vector<float> random_values(size_t n, uint32_t seed, float mean, float std) {
    std::mt19937 rng(seed);
    std::normal_distribution<float> dist(mean, std);
    std::vector<float> v(n);
    for (float& x : v) x = dist(rng);
    return v;
}

double naive_percentile(std::vector<float> v, int q) {
    std::sort(v.begin(), v.end());
    auto rank = static_cast<int64_t>(std::ceil(q / 100.0 * double(v.size())));
    return v[static_cast<size_t>(std::clamp<int64_t>(rank, 1, int64_t(v.size())) - 1)];
}

}  // namespace

class TestParamStats : public QObject {
    Q_OBJECT
  private slots:
    void stats_match_a_naive_computation() {
        const auto a = random_values(3001, 1, 0.5f, 2.0f);
        const auto b = random_values(999, 2, -3.0f, 0.1f);
        const ValueStats s = value_stats({a, b}, 0.05);
        std::vector<float> all = a;
        all.insert(all.end(), b.begin(), b.end());
        double sum = 0, lo = all[0], hi = all[0];
        int64_t near = 0;
        for (float v : all) {
            sum += v;
            lo = std::min<double>(lo, v);
            hi = std::max<double>(hi, v);
            near += std::abs(v) < 0.05;
        }
        const double mean = sum / double(all.size());
        double var = 0;
        for (float v : all) var += (v - mean) * (v - mean);
        QCOMPARE(s.count, int64_t(4000));
        QVERIFY(std::abs(s.mean - mean) < 1e-12);
        QVERIFY(std::abs(s.std - std::sqrt(var / double(all.size()))) < 1e-12);
        QCOMPARE(s.min, lo);
        QCOMPARE(s.max, hi);
        QCOMPARE(s.near_zero, double(near) / double(all.size()));
        QVERIFY(s.percentiles_exact);
        for (int i = 0; i < 7; ++i)
            QCOMPARE(s.percentile[i], naive_percentile(all, kPercentiles[i]));
    }

    void percentiles_from_the_histogram_beyond_the_exact_limit() {
        const auto a = random_values(20000, 3, 0.0f, 1.0f);
        const ValueStats s = value_stats({a}, 0, /*exact_percentile_limit=*/100);
        QVERIFY(!s.percentiles_exact);
        const double bin = (s.max - s.min) / 65536;
        for (int i = 0; i < 7; ++i)
            QVERIFY2(std::abs(s.percentile[i] - naive_percentile(a, kPercentiles[i])) <= bin,
                     qPrintable(QString("percentile %1").arg(kPercentiles[i])));
    }

    void histogram_counts_every_value_once() {
        const auto a = random_values(10000, 4, 0.0f, 1.0f);
        const ValueStats s = value_stats({a});
        const Histogram h = histogram({a}, 37, s.min, s.max);
        QCOMPARE(h.total(), int64_t(10000));
        QCOMPARE(h.outside, int64_t(0));
        std::vector<int64_t> naive(37, 0);
        for (float v : a) {
            int bin = static_cast<int>((double(v) - s.min) / (s.max - s.min) * 37);
            naive[static_cast<size_t>(std::min(bin, 36))]++;
        }
        QCOMPARE(h.counts, naive);
        // A narrower range: what falls outside is counted, nothing is lost.
        const Histogram part = histogram({a}, 10, -1.0, 1.0);
        QCOMPARE(part.total() + part.outside, int64_t(10000));
        QVERIFY(part.outside > 0);
        // A constant tensor still has its one bar.
        const std::vector<float> ones(5, 1.0f);
        const Histogram flat = histogram({ones}, 8, 1.0, 1.0);
        QCOMPARE(flat.total(), int64_t(5));
        QVERIFY_THROWS_EXCEPTION(Error, histogram({a}, 0, 0, 1));
        QVERIFY_THROWS_EXCEPTION(Error, histogram({a}, 10, 1, 0));
    }

    void formula_matches_random_shapes() {
        for (const std::string& shape : random_model_shapes()) {
            if (shape == "gpt2-124m" || shape == "llama-110m") continue;  // the next test
            // Today's small models are 135M to 1.2B parameters: their counts are checked against
            // the published ones below, without building them.
            if (parameter_formula(random_model_config(shape)).value > 50'000'000) continue;
            auto model = make_random_model(shape);
            const ParameterFormula f = parameter_formula(model->config);
            QVERIFY2(f.value == model->totals().total(),
                     qPrintable(QString::fromStdString(
                         shape + ": " + f.formula + " = " + std::to_string(f.value) +
                         " but the model has " + std::to_string(model->totals().total()))));
        }
    }

    void gpt2_124m_has_its_known_count() {
        auto gpt2 = make_random_model("gpt2-124m");
        QCOMPARE(gpt2->totals().total(), int64_t(124439808));
        QCOMPARE(parameter_formula(gpt2->config).value, int64_t(124439808));
        QCOMPARE(parameter_formula(gpt2->config).formula,
                 std::string("vocab·d + ctx·d + L·(12d² + 13d) + 2d"));
    }

    // The counts their model cards and safetensors headers give (tied embeddings counted once):
    // the formula of each architecture, on its config.json's sizes.
    void formula_gives_published_counts() {
        const std::pair<const char*, int64_t> published[] = {
            {"smollm2-135m", 134515008}, {"qwen2.5-0.5b", 494032768}, {"qwen3-0.6b", 596049920},
            {"llama3.2-1b", 1235814400}, {"gemma3-270m", 268098176},
        };
        for (const auto& [shape, count] : published) {
            const ParameterFormula f = parameter_formula(random_model_config(shape));
            QVERIFY2(f.value == count,
                     qPrintable(QString::fromStdString(std::string(shape) + ": " + f.formula +
                                                       " = " + std::to_string(f.value))));
        }
    }

    void formula_matches_stories260k() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        PS_REQUIRE_SHARED(gguf, "models/stories260K/stories260K.gguf");
        for (const std::string& path : {bin, gguf}) {
            auto model = load_model(path);
            const ParameterFormula f = parameter_formula(model->config);
            QCOMPARE(f.value, model->totals().total());
            std::vector<int> every_tensor(model->tensors.size());
            for (size_t i = 0; i < every_tensor.size(); ++i) every_tensor[i] = static_cast<int>(i);
            const int64_t counted = value_stats(tensor_values(*model, every_tensor)).count;
            QCOMPARE(counted, f.value);
        }
    }

    void nearest_tokens_match_naive_cosine() {
        auto model = make_random_model("gpt2-tiny");
        const Config& c = model->config;
        const float* e = model->weights.token_embedding;
        const int token = 7;
        std::vector<std::pair<double, int>> naive;
        for (int i = 0; i < c.vocab_size; ++i) {
            if (i == token) continue;
            double dot = 0, na = 0, nb = 0;
            for (int j = 0; j < c.dim; ++j) {
                dot += double(e[i * c.dim + j]) * e[token * c.dim + j];
                na += double(e[i * c.dim + j]) * e[i * c.dim + j];
                nb += double(e[token * c.dim + j]) * e[token * c.dim + j];
            }
            naive.emplace_back(-dot / std::sqrt(na * nb), i);
        }
        std::sort(naive.begin(), naive.end());
        const auto got = nearest_tokens(*model, token, 10);
        QCOMPARE(got.size(), size_t(10));
        for (size_t r = 0; r < got.size(); ++r) {
            QVERIFY(std::abs(got[r].second + naive[r].first) < 1e-5);
            if (r + 1 < got.size() && std::abs(naive[r].first - naive[r + 1].first) > 1e-5)
                QCOMPARE(got[r].first, naive[r].second);
        }
        QVERIFY_THROWS_EXCEPTION(Error, nearest_tokens(*model, c.vocab_size, 3));
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestParamStats)
#include "test_param_stats.moc"
