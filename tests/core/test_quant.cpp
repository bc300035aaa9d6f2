// Dequantization against hand-built blocks: Q8_0 and Q4_0 with values worked out by hand,
// Q4_K and Q6_K by packing known scales and quants as ggml's quantize_row_*_ref lays them out
// and checking every element, F16/BF16 against exact conversions.
#include <QtTest>
#include <cmath>
#include <cstring>
#include <vector>
#include "tests/support/suite.h"

#include "core/tensor/half.h"
#include "core/tensor/quant.h"

namespace {

void put_f16(std::vector<uint8_t>& out, float v) {
    const uint16_t h = ps::f32_to_f16(v);
    out.push_back(static_cast<uint8_t>(h));
    out.push_back(static_cast<uint8_t>(h >> 8));
}

// d1 * q - m1 with both operations rounded separately, as ggml's reference does (a volatile
// keeps the compiler from fusing them into an FMA).
// v rounded to the nearest f16, so it is stored in the block exactly.
float as_f16(float v) {
    return ps::f16_to_f32(ps::f32_to_f16(v));
}

float mul_sub(float a, float q, float m) {
    volatile float product = a * q;
    return product - m;
}

}  // namespace

class TestQuant : public QObject {
    Q_OBJECT

  private slots:
    void dequantize_q8_0_hand_built();
    void dequantize_q4_0_hand_built();
    void dequantize_q4_K_against_packing();
    void dequantize_q6_K_against_packing();
    void dequantize_f16_bf16();
    void type_table();
};

void TestQuant::dequantize_q8_0_hand_built() {
    // Two blocks: d = 0.5, qs = -64, -60, ..., 60; d = -0.25, qs = 127, 126, ..., 96.
    std::vector<uint8_t> x;
    put_f16(x, 0.5f);
    for (int j = 0; j < 32; ++j) x.push_back(static_cast<uint8_t>(static_cast<int8_t>(4 * j - 64)));
    put_f16(x, -0.25f);
    for (int j = 0; j < 32; ++j) x.push_back(static_cast<uint8_t>(static_cast<int8_t>(127 - j)));
    QCOMPARE(x.size(), size_t(68));
    std::vector<float> y(64);
    ps::dequantize(ps::DType::Q8_0, x.data(), y.data(), 64);
    for (int j = 0; j < 32; ++j) {
        QCOMPARE(y[size_t(j)], (4 * j - 64) * 0.5f);
        QCOMPARE(y[size_t(32 + j)], (127 - j) * -0.25f);
    }
}

void TestQuant::dequantize_q4_0_hand_built() {
    // d = 2: byte j holds element j in its low nibble and element j + 16 in its high one.
    std::vector<uint8_t> x;
    put_f16(x, 2.0f);
    for (int j = 0; j < 16; ++j) x.push_back(static_cast<uint8_t>(j | ((15 - j) << 4)));
    QCOMPARE(x.size(), size_t(18));
    std::vector<float> y(32);
    ps::dequantize(ps::DType::Q4_0, x.data(), y.data(), 32);
    for (int j = 0; j < 16; ++j) {
        QCOMPARE(y[size_t(j)], float((j - 8) * 2));
        QCOMPARE(y[size_t(j + 16)], float((15 - j - 8) * 2));
    }
}

void TestQuant::dequantize_q4_K_against_packing() {
    // Pack known 6-bit scales/mins and 4-bit quants the way ggml's quantize_row_q4_K_ref
    // lays them out, then check every element is d*sc[s]*q - dmin*m[s] of sub-block s.
    const float d = as_f16(0.0213719f), dmin = as_f16(0.00731234f);  // full 11-bit mantissas
    uint8_t sc[8], mn[8], q[256];
    for (int s = 0; s < 8; ++s) sc[s] = uint8_t(7 * s + 13), mn[s] = uint8_t(63 - 5 * s);
    for (int i = 0; i < 256; ++i) q[i] = uint8_t((i * 7 + i / 32) % 16);
    std::vector<uint8_t> x;
    put_f16(x, d);
    put_f16(x, dmin);
    uint8_t scales[12] = {};
    for (int j = 0; j < 8; ++j) {
        if (j < 4) {
            scales[j] = sc[j];
            scales[j + 4] = mn[j];
        } else {
            scales[j + 4] = uint8_t((sc[j] & 0xF) | ((mn[j] & 0xF) << 4));
            scales[j - 4] |= uint8_t((sc[j] >> 4) << 6);
            scales[j] |= uint8_t((mn[j] >> 4) << 6);
        }
    }
    x.insert(x.end(), scales, scales + 12);
    for (int j = 0; j < 256; j += 64)
        for (int l = 0; l < 32; ++l) x.push_back(uint8_t(q[j + l] | (q[j + l + 32] << 4)));
    QCOMPARE(x.size(), size_t(144));
    std::vector<float> y(256);
    ps::dequantize(ps::DType::Q4_K, x.data(), y.data(), 256);
    for (int i = 0; i < 256; ++i) {
        const int s = i / 32;
        const float expected = mul_sub(d * sc[s], float(q[i]), dmin * mn[s]);
        QVERIFY2(y[size_t(i)] == expected, qPrintable(QString("element %1").arg(i)));
    }
}

void TestQuant::dequantize_q6_K_against_packing() {
    // Known signed 6-bit quants (-32..31) and int8 scales per 16 elements, packed like
    // quantize_row_q6_K_ref: ql low nibbles, qh 2-bit pairs, scales, then d.
    const float d = as_f16(-0.00399871f);  // a full 11-bit mantissa
    int8_t sc[16];
    int L[256];
    for (int s = 0; s < 16; ++s) sc[s] = int8_t(s % 2 ? -9 * s : 8 * s - 127);
    for (int i = 0; i < 256; ++i) L[i] = (i * 37 + 11) % 64;  // stored as q + 32
    std::vector<uint8_t> x(210, 0);
    uint8_t* ql = x.data();
    uint8_t* qh = x.data() + 128;
    for (int j = 0; j < 256; j += 128) {
        for (int l = 0; l < 32; ++l) {
            ql[l] = uint8_t((L[j + l] & 0xF) | ((L[j + l + 64] & 0xF) << 4));
            ql[l + 32] = uint8_t((L[j + l + 32] & 0xF) | ((L[j + l + 96] & 0xF) << 4));
            qh[l] = uint8_t((L[j + l] >> 4) | ((L[j + l + 32] >> 4) << 2) |
                            ((L[j + l + 64] >> 4) << 4) | ((L[j + l + 96] >> 4) << 6));
        }
        ql += 64;
        qh += 32;
    }
    std::memcpy(x.data() + 192, sc, 16);
    const uint16_t dh = ps::f32_to_f16(d);
    std::memcpy(x.data() + 208, &dh, 2);
    std::vector<float> y(256);
    ps::dequantize(ps::DType::Q6_K, x.data(), y.data(), 256);
    for (int i = 0; i < 256; ++i) {
        const float expected = d * sc[i / 16] * float(L[i] - 32);
        QVERIFY2(y[size_t(i)] == expected, qPrintable(QString("element %1").arg(i)));
    }
}

void TestQuant::dequantize_f16_bf16() {
    const float values[] = {1.0f, -2.5f, 65504.0f, 5.96046448e-8f, 0.0f, -0.0f, 3.140625f};
    std::vector<uint8_t> h, b;
    for (float v : values) {
        put_f16(h, v);
        const uint16_t bf = ps::f32_to_bf16(v);
        b.push_back(uint8_t(bf));
        b.push_back(uint8_t(bf >> 8));
    }
    std::vector<float> yh(7), yb(7);
    ps::dequantize(ps::DType::F16, h.data(), yh.data(), 7);
    ps::dequantize(ps::DType::BF16, b.data(), yb.data(), 7);
    for (int i = 0; i < 7; ++i) {
        QCOMPARE(yh[size_t(i)], values[i]);  // all exact in f16
        QCOMPARE(yb[size_t(i)], ps::bf16_to_f32(ps::f32_to_bf16(values[i])));
    }
    QVERIFY(std::signbit(yh[5]));
}

void TestQuant::type_table() {
    // Block sizes as ggml defines them; removed ids are unknown.
    QCOMPARE(ps::ggml_type_info(ps::ggml::Q8_0)->type_size, int64_t(34));
    QCOMPARE(ps::ggml_type_info(ps::ggml::Q4_0)->type_size, int64_t(18));
    QCOMPARE(ps::ggml_type_info(ps::ggml::Q4_K)->type_size, int64_t(144));
    QCOMPARE(ps::ggml_type_info(ps::ggml::Q6_K)->type_size, int64_t(210));
    QCOMPARE(ps::ggml_type_info(ps::ggml::Q6_K)->block_size, int64_t(256));
    QCOMPARE(ps::ggml_type_info(ps::ggml::BF16)->type_size, int64_t(2));
    QVERIFY(!ps::ggml_type_info(4));
    QVERIFY(!ps::ggml_type_info(1000));
    QCOMPARE(ps::dtype_from_ggml(ps::ggml::Q6_K).value(), ps::DType::Q6_K);
    QVERIFY(!ps::dtype_from_ggml(16).has_value());  // IQ2_XXS: known to ggml, not dequantized here
}

PARAMSCOPE_TEST_APPLESS_MAIN(TestQuant)
#include "test_quant.moc"
