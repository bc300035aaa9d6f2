// Encoding values as F16, Q8_0 and Q4_K (core/tensor/quantize.h), decoded by the engine's
// dequantizers: within each type's step, and random models built that way run.
#include <QtTest>
#include <cmath>
#include <random>

#include "core/analysis/param_stats.h"
#include "core/error.h"
#include "core/model/forward.h"
#include "core/model/random_model.h"
#include "core/tensor/half.h"
#include "core/tensor/quant.h"
#include "core/tensor/quantize.h"
#include "tests/support/expect_error.h"
#include "tests/support/suite.h"

using namespace ps;

class TestQuantize : public QObject {
    Q_OBJECT

    std::vector<float> random_values(int64_t n) {
        std::mt19937 rng(3);
        std::uniform_real_distribution<float> u(-1.0f, 1.0f);
        std::vector<float> v(static_cast<size_t>(n));
        for (float& x : v) x = u(rng);
        v[5] = 0.0f;
        return v;
    }

  private slots:
    void f16_is_rounding() {
        const std::vector<float> x = random_values(512);
        const std::vector<uint8_t> bytes = quantize(DType::F16, x.data(), 512);
        QCOMPARE(bytes.size(), size_t(1024));
        std::vector<float> y(512);
        dequantize(DType::F16, bytes.data(), y.data(), 512);
        for (size_t i = 0; i < x.size(); ++i) QCOMPARE(y[i], f16_to_f32(f32_to_f16(x[i])));
    }

    // Q8_0: d = amax/127 per block of 32, so every value is within d/2 (plus d's f16 rounding).
    void q8_0_within_half_a_step() {
        const std::vector<float> x = random_values(1024);
        const std::vector<uint8_t> bytes = quantize(DType::Q8_0, x.data(), 1024);
        QCOMPARE(bytes.size(), size_t(1024 / 32 * 34));
        std::vector<float> y(1024);
        dequantize(DType::Q8_0, bytes.data(), y.data(), 1024);
        for (size_t b = 0; b < 32; ++b) {
            float amax = 0;
            for (size_t j = 0; j < 32; ++j) amax = std::max(amax, std::abs(x[32 * b + j]));
            const float d = amax / 127.0f;
            for (size_t j = 0; j < 32; ++j)
                QVERIFY(std::abs(y[32 * b + j] - x[32 * b + j]) <= 0.5f * d + 128 * d / 2048);
        }
        QCOMPARE(y[5], 0.0f);
    }

    // Q4_K: 16 levels over each sub-block's range, scales in 6 bits: the values land within
    // about one 4-bit step (2/15 here), and on average much closer.
    void q4_K_within_a_step() {
        const int64_t n = 4096;
        const std::vector<float> x = random_values(n);
        const std::vector<uint8_t> bytes = quantize(DType::Q4_K, x.data(), n);
        QCOMPARE(bytes.size(), size_t(n / 256 * 144));
        std::vector<float> y(static_cast<size_t>(n));
        dequantize(DType::Q4_K, bytes.data(), y.data(), n);
        double worst = 0, squares = 0;
        for (int64_t i = 0; i < n; ++i) {
            const double e = std::abs(double(y[size_t(i)]) - x[size_t(i)]);
            worst = std::max(worst, e);
            squares += e * e;
        }
        const double rms = std::sqrt(squares / double(n));
        QVERIFY2(worst < 2.0 / 15.0, qPrintable(QString::number(worst)));
        QVERIFY2(rms < 0.05 && rms > 0.005, qPrintable(QString::number(rms)));
    }

    void refusals() {
        const std::vector<float> x = random_values(64);
        EXPECT_ERROR(quantize(DType::Q4_K, x.data(), 64), "not whole Q4_K blocks of 256");
        EXPECT_ERROR(quantize(DType::Q6_K, x.data(), 64), "Q6_K is not one of the encodable");
        EXPECT_ERROR(make_random_model("gpt2-tiny", 1, DType::Q8_0), "GPT-2 shapes");
    }

    // A random Llama-15M (dim 288: Q4_K rows fall back to Q8_0, hidden 768 stays Q4_K) runs.
    void random_models_in_each_type() {
        for (DType t : {DType::F16, DType::Q8_0, DType::Q4_K}) {
            auto m = make_random_model("llama-15m", 1, t);
            QVERIFY(m->has_compact_tensors());
            QCOMPARE(parameter_formula(*m).value, m->totals().total());
            bool has_requested = false;
            for (const TensorInfo& info : m->tensors) has_requested |= info.dtype == t;
            QVERIFY(has_requested);
            const Trace trace = forward(*m, {1, 2, 3, 4});
            QVERIFY(trace.logits.allFinite());
        }
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestQuantize)
#include "test_quantize.moc"
