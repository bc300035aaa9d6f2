// The ggml types added after Q4_K/Q6_K (Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q5_K, IQ4_NL, IQ4_XS):
// (a) a crafted block per type whose values are worked out by hand from the layout in
// core/tensor/quant.h; (b) a round trip through tests/support/quant_ref's encoders on random
// data, checked against the error bound each block's step sizes imply and, bit for bit,
// against quant_ref's element-by-element decoder; (c) GGUF llamas whose matrices use each
// type, compact against widened to f32, and an unsupported type's error.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <cstring>
#include <random>
#include <vector>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "core/tensor/half.h"
#include "core/tensor/quant.h"
#include "tests/support/expect_error.h"
#include "tests/support/gguf_tiny.h"
#include "tests/support/quant_ref.h"
#include "tests/support/suite.h"

namespace {

void put_f16(std::vector<uint8_t>& out, float v) {
    const uint16_t h = ps::f32_to_f16(v);
    out.push_back(static_cast<uint8_t>(h));
    out.push_back(static_cast<uint8_t>(h >> 8));
}

void put_bytes(std::vector<uint8_t>& out, const uint8_t* p, size_t n) {
    out.insert(out.end(), p, p + n);
}

// Checks decoded element `i` against a hand-derived value.
struct Expect {
    int i;
    float value;
};

std::vector<float> decode(ps::DType type, const std::vector<uint8_t>& x, int64_t count) {
    std::vector<float> y(size_t(count), NAN);
    ps::dequantize(type, x.data(), y.data(), count);
    return y;
}

bool check(const std::vector<float>& y, std::initializer_list<Expect> expected) {
    for (const Expect& e : expected) {
        if (y[size_t(e.i)] != e.value) {
            qWarning("element %d: got %.9g, expected %.9g", e.i, double(y[size_t(e.i)]),
                     double(e.value));
            return false;
        }
    }
    return true;
}

// The 32-element blocks below share one qs[16]: byte j = j | (15 - j) << 4, so element j
// (j < 16) has low nibble j and element 16 + j has high nibble 15 - j.
void put_nibble_ramp(std::vector<uint8_t>& out) {
    for (int j = 0; j < 16; ++j) out.push_back(uint8_t(j | ((15 - j) << 4)));
}

// qh = 0x80010009: bits 0, 3, 16 and 31 set, so elements 0, 3, 16 and 31 get bit 4.
void put_qh(std::vector<uint8_t>& out) {
    const uint8_t qh[4] = {0x09, 0x00, 0x01, 0x80};
    put_bytes(out, qh, 4);
}

}  // namespace

class TestQuantTypes : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;

  private slots:
    void q4_1_hand_built();
    void q5_0_hand_built();
    void q5_1_hand_built();
    void iq4_nl_hand_built();
    void q2_K_hand_built();
    void q3_K_hand_built();
    void q5_K_hand_built();
    void iq4_xs_hand_built();
    void round_trip_data();
    void round_trip();
    void type_table();
    void gguf_models_data();
    void gguf_models();
    void gguf_unsupported_type();
};

void TestQuantTypes::q4_1_hand_built() {
    // d = 0.25, m = -1: y = q * 0.25 - 1. Element 5: q 5 -> 0.25; 15: q 15 -> 2.75;
    // 16: high nibble 15 -> 2.75; 20: high nibble 11 -> 1.75; 31: q 0 -> -1.
    std::vector<uint8_t> x;
    put_f16(x, 0.25f);
    put_f16(x, -1.0f);
    put_nibble_ramp(x);
    QCOMPARE(x.size(), size_t(20));
    QVERIFY(check(decode(ps::DType::Q4_1, x, 32),
                  {{0, -1.0f}, {5, 0.25f}, {15, 2.75f}, {16, 2.75f}, {20, 1.75f}, {31, -1.0f}}));
}

void TestQuantTypes::q5_0_hand_built() {
    // d = 0.5, y = (q - 16) * 0.5. Element 0: 0 | 16 -> 0; 1: 1 -> -7.5; 3: 3 | 16 -> 1.5;
    // 16: 15 | 16 -> 7.5; 17: 14 -> -1; 31: 0 | 16 -> 0.
    std::vector<uint8_t> x;
    put_f16(x, 0.5f);
    put_qh(x);
    put_nibble_ramp(x);
    QCOMPARE(x.size(), size_t(22));
    QVERIFY(check(decode(ps::DType::Q5_0, x, 32),
                  {{0, 0.0f}, {1, -7.5f}, {3, 1.5f}, {16, 7.5f}, {17, -1.0f}, {31, 0.0f}}));
}

void TestQuantTypes::q5_1_hand_built() {
    // d = 0.25, m = 2, y = q * 0.25 + 2. Element 0: 16 -> 6; 1: 1 -> 2.25; 3: 19 -> 6.75;
    // 16: 31 -> 9.75; 17: 14 -> 5.5; 31: 16 -> 6.
    std::vector<uint8_t> x;
    put_f16(x, 0.25f);
    put_f16(x, 2.0f);
    put_qh(x);
    put_nibble_ramp(x);
    QCOMPARE(x.size(), size_t(24));
    QVERIFY(check(decode(ps::DType::Q5_1, x, 32),
                  {{0, 6.0f}, {1, 2.25f}, {3, 6.75f}, {16, 9.75f}, {17, 5.5f}, {31, 6.0f}}));
}

void TestQuantTypes::iq4_nl_hand_built() {
    // d = 0.5, y = 0.5 * kvalues_iq4nl[q]. Element 0: -127 -> -63.5; 7: -10 -> -5; 8: 1 ->
    // 0.5; 15: 113 -> 56.5; 16: high nibble 15 -> 56.5; 20: 11 -> 38 -> 19; 31: 0 -> -63.5.
    std::vector<uint8_t> x;
    put_f16(x, 0.5f);
    put_nibble_ramp(x);
    QCOMPARE(x.size(), size_t(18));
    QVERIFY(check(
        decode(ps::DType::IQ4_NL, x, 32),
        {{0, -63.5f}, {7, -5.0f}, {8, 0.5f}, {15, 56.5f}, {16, 56.5f}, {20, 19.0f}, {31, -63.5f}}));
}

void TestQuantTypes::q2_K_hand_built() {
    // scales[s] = s | (15 - s) << 4: sub-block s has scale s, min 15 - s; d = 0.5, dmin =
    // 0.25: y = 0.5 * s * q - 0.25 * (15 - s). qs: first half's bytes 0xE4 (q = p, the 2-bit
    // pair p) at even l and 0x1B (q = 3 - p) at odd l; second half's all 0x1B.
    //   element 0: s 0, q 0 -> -3.75          element 41: s 2, l 9 odd, p 1: q 2 -> 2 - 3.25
    //   element 100: s 6, l 4, p 3: q 3 -> 9 - 2.25 = 6.75
    //   element 130: s 8, second half p 0: q 3 -> 12 - 1.75 = 10.25
    //   element 200: s 12, p 2: q 1 -> 6 - 0.75 = 5.25    element 255: s 15, p 3: q 0 -> 0
    std::vector<uint8_t> x;
    for (int s = 0; s < 16; ++s) x.push_back(uint8_t(s | ((15 - s) << 4)));
    for (int l = 0; l < 32; ++l) x.push_back(l % 2 ? 0x1B : 0xE4);
    for (int l = 0; l < 32; ++l) x.push_back(0x1B);
    put_f16(x, 0.5f);
    put_f16(x, 0.25f);
    QCOMPARE(x.size(), size_t(84));
    QVERIFY(
        check(decode(ps::DType::Q2_K, x, 256),
              {{0, -3.75f}, {41, -1.25f}, {100, 6.75f}, {130, 10.25f}, {200, 5.25f}, {255, 0.0f}}));
}

void TestQuantTypes::q3_K_hand_built() {
    // 6-bit scale of sub-block s: 4s + 2, so y = 0.25 * (4s - 30) * q with d = 0.25. qs all
    // 0xE4: low bits = p, the 2-bit pair (element / 32 % 4). hmask[l] = 0x55 at even l,
    // 0xAA at odd: element i's high bit is bit i / 32 of hmask[i % 32]; clear means q - 4.
    //   33: bit 1 of 0xAA set, p 1: q 1, s 2 (-22) -> -5.5
    //   34: bit 1 of 0x55 clear: q -3, s 2 -> 16.5
    //   100: bit 3 of 0x55 clear, p 3: q -1, s 6 (-6) -> 1.5
    //   135: bit 4 of 0xAA clear, p 0: q -4, s 8 (2) -> -2
    //   200: bit 6 of 0x55 set, p 2: q 2, s 12 (18) -> 9
    //   255: bit 7 of 0xAA set, p 3: q 3, s 15 (30) -> 22.5
    std::vector<uint8_t> x;
    for (int l = 0; l < 32; ++l) x.push_back(l % 2 ? 0xAA : 0x55);
    for (int l = 0; l < 64; ++l) x.push_back(0xE4);
    uint8_t packed[12] = {};
    for (int s = 0; s < 16; ++s) {
        const int v = 4 * s + 2;  // low 4 bits: byte s % 8, nibble s / 8; high 2: byte 8 + s % 4
        packed[s % 8] |= uint8_t((v & 0xF) << (4 * (s / 8)));
        packed[8 + s % 4] |= uint8_t((v >> 4) << (2 * (s / 4)));
    }
    put_bytes(x, packed, 12);
    put_f16(x, 0.25f);
    QCOMPARE(x.size(), size_t(110));
    QVERIFY(
        check(decode(ps::DType::Q3_K, x, 256),
              {{33, -5.5f}, {34, 16.5f}, {100, 1.5f}, {135, -2.0f}, {200, 9.0f}, {255, 22.5f}}));
}

void TestQuantTypes::q5_K_hand_built() {
    // Sub-block s (32 elements): scale 8s + 3, min 60 - 7s (6 bits each, Q4_K's packing);
    // d = 0.5, dmin = 0.125. ql byte 32g + l = (l & 15) | (15 - (l & 15)) << 4 for group g
    // of 64 (low nibble: sub-block 2g, high: 2g + 1); qh[l] = 0x0F for l < 16, 0xF0 after:
    // bit s of qh[l] adds 16 to element 32s + l. y = 0.5 * sc * q - 0.125 * m.
    //   0: s 0, low 0 + 16 -> 0.5 * 3 * 16 - 7.5 = 16.5
    //   37: s 1, l 5, high nibble 10 + 16 -> 0.5 * 11 * 26 - 6.625 = 136.375
    //   100: s 3, l 4, high nibble 11 + 16 -> 0.5 * 27 * 27 - 4.875 = 359.625
    //   150: s 4, l 22, low 6 + 16 -> 0.5 * 35 * 22 - 4 = 381
    //   200: s 6, l 8, low 8, bit 6 of 0x0F clear -> 0.5 * 51 * 8 - 2.25 = 201.75
    //   255: s 7, l 31, high nibble 0 + 16 -> 0.5 * 59 * 16 - 1.375 = 470.625
    std::vector<uint8_t> x;
    put_f16(x, 0.5f);
    put_f16(x, 0.125f);
    uint8_t packed[12] = {};
    for (int j = 0; j < 8; ++j) {
        const int sc = 8 * j + 3, m = 60 - 7 * j;
        if (j < 4) {
            packed[j] = uint8_t(sc);
            packed[j + 4] = uint8_t(m);
        } else {
            packed[j + 4] = uint8_t((sc & 0xF) | ((m & 0xF) << 4));
            packed[j - 4] |= uint8_t((sc >> 4) << 6);
            packed[j] |= uint8_t((m >> 4) << 6);
        }
    }
    put_bytes(x, packed, 12);
    for (int l = 0; l < 32; ++l) x.push_back(l < 16 ? 0x0F : 0xF0);
    for (int g = 0; g < 4; ++g)
        for (int l = 0; l < 32; ++l) x.push_back(uint8_t((l & 15) | ((15 - (l & 15)) << 4)));
    QCOMPARE(x.size(), size_t(176));
    QVERIFY(check(decode(ps::DType::Q5_K, x, 256), {{0, 16.5f},
                                                    {37, 136.375f},
                                                    {100, 359.625f},
                                                    {150, 381.0f},
                                                    {200, 201.75f},
                                                    {255, 470.625f}}));
}

void TestQuantTypes::iq4_xs_hand_built() {
    // d = 0.125; 6-bit scale of sub-block s: 8s + 5 (low nibble in scales_l[s / 2], high 2
    // bits at bit 2s of scales_h), so y = 0.125 * (8s - 27) * kvalues_iq4nl[q]. Each
    // sub-block's 16 bytes are the nibble ramp: element 32s + k has index k for k < 16,
    // 31 - k after.
    //   0: s 0, -127 -> -3.375 * -127 = 428.625      40: s 1, index 8 (1) -> -2.375
    //   100: s 3, index 4 (-49) -> -0.375 * -49 = 18.375
    //   130: s 4, index 2 (-83) -> 0.625 * -83 = -51.875
    //   180: s 5, index 11 (38) -> 1.625 * 38 = 61.75
    //   255: s 7, index 0 (-127) -> 3.625 * -127 = -460.375
    std::vector<uint8_t> x;
    put_f16(x, 0.125f);
    uint16_t scales_h = 0;
    uint8_t scales_l[4] = {};
    for (int s = 0; s < 8; ++s) {
        const int ls = 8 * s + 5;
        scales_l[s / 2] |= uint8_t((ls & 0xF) << (4 * (s % 2)));
        scales_h |= uint16_t((ls >> 4) << (2 * s));
    }
    x.push_back(uint8_t(scales_h));
    x.push_back(uint8_t(scales_h >> 8));
    put_bytes(x, scales_l, 4);
    for (int s = 0; s < 8; ++s) put_nibble_ramp(x);
    QCOMPARE(x.size(), size_t(136));
    QVERIFY(check(decode(ps::DType::IQ4_XS, x, 256), {{0, 428.625f},
                                                      {40, -2.375f},
                                                      {100, 18.375f},
                                                      {130, -51.875f},
                                                      {180, 61.75f},
                                                      {255, -460.375f}}));
}

void TestQuantTypes::round_trip_data() {
    QTest::addColumn<uint32_t>("type");
    QTest::addColumn<int>("dtype");
    namespace t = ps::test::quant_ref_type;
    QTest::newRow("Q4_1") << t::Q4_1 << int(ps::DType::Q4_1);
    QTest::newRow("Q5_0") << t::Q5_0 << int(ps::DType::Q5_0);
    QTest::newRow("Q5_1") << t::Q5_1 << int(ps::DType::Q5_1);
    QTest::newRow("Q2_K") << t::Q2_K << int(ps::DType::Q2_K);
    QTest::newRow("Q3_K") << t::Q3_K << int(ps::DType::Q3_K);
    QTest::newRow("Q5_K") << t::Q5_K << int(ps::DType::Q5_K);
    QTest::newRow("IQ4_NL") << t::IQ4_NL << int(ps::DType::IQ4_NL);
    QTest::newRow("IQ4_XS") << t::IQ4_XS << int(ps::DType::IQ4_XS);
}

void TestQuantTypes::round_trip() {
    QFETCH(uint32_t, type);
    QFETCH(int, dtype);
    // 8 super-blocks of Gaussian values whose scale and offset change per 32 elements (so the
    // sub-block scales and mins differ), one all-zero block and one constant block.
    constexpr int64_t n = 8 * 256;
    std::mt19937 rng(type * 7919u + 1);
    std::normal_distribution<float> normal;
    std::vector<float> values(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
        const int64_t group = i / 32;
        const float scale = std::ldexp(1.0f, int(group % 7) - 3);
        const float offset = group % 3 == 0 ? 0.0f : 0.4f * scale * float(group % 5 - 2);
        values[size_t(i)] = offset + scale * normal(rng);
    }
    for (int64_t i = 256; i < 512; ++i) values[size_t(i)] = 0.0f;
    for (int64_t i = 512; i < 768; ++i) values[size_t(i)] = -0.3125f;

    const ps::test::Quantized q = ps::test::quantize_ggml(type, values);
    QCOMPARE(int64_t(q.bytes.size()),
             n / ps::test::ref_block_size(type) * ps::test::ref_block_bytes(type));
    QCOMPARE(int64_t(q.bound.size()), n);
    const std::vector<float> y = decode(ps::DType(dtype), q.bytes, n);
    double worst = 0, sum_sq = 0, sum_sq_x = 0;
    for (int64_t i = 0; i < n; ++i) {
        const float naive = ps::test::naive_decode(type, q.bytes.data(), i);
        const float err = std::fabs(y[size_t(i)] - values[size_t(i)]);
        QVERIFY2(std::memcmp(&y[size_t(i)], &naive, 4) == 0,
                 qPrintable(QString("element %1: engine %2, naive %3")
                                .arg(i)
                                .arg(double(y[size_t(i)]), 0, 'g', 9)
                                .arg(double(naive), 0, 'g', 9)));
        QVERIFY2(err <= q.bound[size_t(i)],
                 qPrintable(QString("element %1: |%2 - %3| > bound %4")
                                .arg(i)
                                .arg(double(y[size_t(i)]), 0, 'g', 9)
                                .arg(double(values[size_t(i)]), 0, 'g', 9)
                                .arg(double(q.bound[size_t(i)]))));
        worst = std::max(worst, double(err / q.bound[size_t(i)]));
        sum_sq += double(err) * err;
        sum_sq_x += double(values[size_t(i)]) * values[size_t(i)];
    }
    // The zero block decodes to zeros; the bound is not vacuous (some element uses at least a
    // tenth of it) and the relative RMS error is what a 2-5 bit format gives (< 35%).
    for (int64_t i = 256; i < 512; ++i) QCOMPARE(y[size_t(i)], 0.0f);
    QVERIFY2(worst > 0.1, qPrintable(QString("worst error / bound %1").arg(worst)));
    const double rel_rms = std::sqrt(sum_sq / sum_sq_x);
    QVERIFY2(rel_rms < 0.35, qPrintable(QString("relative RMS error %1").arg(rel_rms)));
    qInfo("%s: relative RMS error %.4f, worst error / bound %.3f", QTest::currentDataTag(), rel_rms,
          worst);
}

void TestQuantTypes::type_table() {
    // ggml.h ids and ggml.c type_traits sizes.
    struct Row {
        uint32_t id;
        ps::DType dtype;
        int64_t block, bytes;
    };
    const Row rows[] = {
        {3, ps::DType::Q4_1, 32, 20},    {6, ps::DType::Q5_0, 32, 22},
        {7, ps::DType::Q5_1, 32, 24},    {10, ps::DType::Q2_K, 256, 84},
        {11, ps::DType::Q3_K, 256, 110}, {13, ps::DType::Q5_K, 256, 176},
        {20, ps::DType::IQ4_NL, 32, 18}, {23, ps::DType::IQ4_XS, 256, 136},
    };
    for (const Row& r : rows) {
        QCOMPARE(ps::dtype_from_ggml(r.id).value(), r.dtype);
        QCOMPARE(ps::ggml_type_info(r.id)->block_size, r.block);
        QCOMPARE(ps::ggml_type_info(r.id)->type_size, r.bytes);
        QCOMPARE(std::string(ps::dtype_name(r.dtype)), std::string(ps::ggml_type_info(r.id)->name));
    }
    QVERIFY(!ps::dtype_from_ggml(16).has_value());  // IQ2_XXS
    QCOMPARE(ps::supported_ggml_types(),
             std::string("F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, "
                         "Q6_K, IQ4_NL, IQ4_XS"));
}

void TestQuantTypes::gguf_models_data() {
    QTest::addColumn<uint32_t>("type");
    QTest::addColumn<int>("dim");
    namespace t = ps::test::quant_ref_type;
    QTest::newRow("Q4_1") << t::Q4_1 << 32;
    QTest::newRow("Q5_0") << t::Q5_0 << 32;
    QTest::newRow("Q5_1") << t::Q5_1 << 32;
    QTest::newRow("IQ4_NL") << t::IQ4_NL << 32;
    QTest::newRow("Q2_K") << t::Q2_K << 256;
    QTest::newRow("Q3_K") << t::Q3_K << 256;
    QTest::newRow("Q5_K") << t::Q5_K << 256;
    QTest::newRow("IQ4_XS") << t::IQ4_XS << 256;
}

void TestQuantTypes::gguf_models() {
    // A llama whose matrices (embedding and output included) are all of `type`: loaded compact
    // (the file's blocks, dequantized as used) and widened to f32 at load, the logits agree.
    QFETCH(uint32_t, type);
    QFETCH(int, dim);
    ps::test::TinyModel t;
    t.dim = t.hidden = dim;
    t.heads = 4;
    t.kv_heads = 2;
    t.vocab = 12;
    t.matrix_type = type;
    const std::string path = dir_.filePath(QString("m%1.gguf").arg(type)).toStdString();
    t.writer().write(path);
    ps::LoadOptions widen;
    widen.f32_weights = true;
    auto compact = ps::load_model(path);
    auto wide = ps::load_model(path, widen);
    QCOMPARE(compact->weights.layers[0].wq.dtype, *ps::dtype_from_ggml(type));
    QVERIFY(compact->weights.layers[0].wq.raw != nullptr);
    QVERIFY(wide->weights.layers[0].wq.raw == nullptr);
    auto o = ps::TraceOptions::none();
    o.all_logits = true;
    const std::vector<int> ids = {1, 5, 9, 3, 11, 4};
    const ps::MatrixRM a = ps::forward(*compact, ids, o).logits;
    const ps::MatrixRM b = ps::forward(*wide, ids, o).logits;
    QCOMPARE(a.rows(), b.rows());
    const double largest = double(b.cwiseAbs().maxCoeff());
    const double diff = double((a - b).cwiseAbs().maxCoeff());
    QVERIFY(largest > 0);
    QVERIFY2(
        diff <= 1e-4 * largest,
        qPrintable(QString("max |compact - f32| %1, largest logit %2").arg(diff).arg(largest)));
    qInfo("%s: max |compact - f32| logit %.3g, largest logit %.3g", QTest::currentDataTag(), diff,
          largest);
    // The widened model's weights are the engine's decoding of the file's blocks.
    const ps::TensorInfo* wq = nullptr;
    for (const ps::TensorInfo& info : wide->tensors)
        if (info.name == "blk.0.attn_q.weight") wq = &info;
    QVERIFY(wq && wq->data);
    const ps::test::Quantized q =
        ps::test::quantize_ggml(type, ps::test::tiny_values("blk.0.attn_q.weight", wq->count));
    for (int64_t i = 0; i < wq->count; ++i)
        QCOMPARE(wq->data[i], ps::test::naive_decode(type, q.bytes.data(), i));
}

void TestQuantTypes::gguf_unsupported_type() {
    // IQ2_XXS (16): a type ggml has (66 bytes per 256) that ParamScope doesn't dequantize.
    ps::test::TinyModel t;
    t.dim = t.hidden = 256;
    t.heads = 4;
    t.kv_heads = 2;
    t.skip_tensor = "token_embd.weight";
    ps::test::GgufWriter w = t.writer();
    w.add_tensor_raw("token_embd.weight", {256, t.vocab}, ps::test::ggml_type::IQ2_XXS,
                     std::vector<uint8_t>(size_t(t.vocab) * 66));
    const std::string path = dir_.filePath("iq2.gguf").toStdString();
    w.write(path);
    EXPECT_ERROR(ps::load_model(path), path, "tensor 'token_embd.weight'", "type IQ2_XXS",
                 "not supported");
}

PARAMSCOPE_TEST_APPLESS_MAIN(TestQuantTypes)
#include "test_quant_types.moc"
