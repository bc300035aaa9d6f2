// llama2.c's newer export.py formats: version 1 (f32 behind a 256-byte "ak42" header, norms
// first) and version 2 (`--version 2`: int8 values with one f32 scale per group, as runq.c reads
// them). The test writes both from a legacy checkpoint's own weights, the way export.py does.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "tests/support/expect_error.h"
#include "tests/support/hf_writer.h"
#include "tests/support/suite.h"
#include "tests/support/tiny_fixtures.h"

namespace {

using Floats = std::vector<float>;

// The legacy checkpoint's tensors, in its file order.
struct Tensors {
    int32_t header[7];
    Floats embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final;
};

Tensors parse_legacy(const std::string& bytes, const ps::test::Llama2cShape& s) {
    Tensors t{};
    std::memcpy(t.header, bytes.data(), sizeof t.header);
    size_t at = sizeof t.header;
    auto take = [&](size_t n) {
        Floats v(n);
        std::memcpy(v.data(), bytes.data() + at, 4 * n);
        at += 4 * n;
        return v;
    };
    const size_t d = s.dim, h = s.hidden, L = s.layers, kv = size_t(s.kv_heads) * d / s.heads;
    t.embedding = take(size_t(s.vocab) * d);
    t.rms_att = take(L * d);
    t.wq = take(L * d * d);
    t.wk = take(L * kv * d);
    t.wv = take(L * kv * d);
    t.wo = take(L * d * d);
    t.rms_ffn = take(L * d);
    t.w1 = take(L * h * d);
    t.w2 = take(L * d * h);
    t.w3 = take(L * h * d);
    t.rms_final = take(d);
    return t;
}

void put(std::string& out, const void* p, size_t n) {
    out.append(static_cast<const char*>(p), n);
}

std::string header(int version, const Tensors& t, int group) {
    std::string out;
    const uint32_t magic = 0x616b3432;
    put(out, &magic, 4);
    put(out, &version, 4);
    put(out, t.header, sizeof t.header);
    out.push_back(1);  // shared classifier
    if (version == 2) put(out, &group, 4);
    out.resize(256, '\0');
    return out;
}

// export.py's quantize_q80: per group, scale = max|w| / 127, q = round(w / scale) (torch.round:
// half to even), then the int8 values and the scales.
void put_q80(std::string& out, const Floats& w, size_t per_layer, int group, Floats* widened) {
    for (size_t l = 0; l < w.size() / per_layer; ++l) {
        std::vector<int8_t> q(per_layer);
        Floats scales;
        for (size_t g = 0; g < per_layer; g += size_t(group)) {
            float wmax = 0;
            for (int i = 0; i < group; ++i)
                wmax = std::max(wmax, std::abs(w[l * per_layer + g + i]));
            const float scale = wmax / 127.0f;
            scales.push_back(scale);
            for (int i = 0; i < group; ++i) {
                const float x = w[l * per_layer + g + size_t(i)];
                q[g + size_t(i)] =
                    static_cast<int8_t>(std::nearbyint(scale > 0 ? x / scale : 0.0f));
                widened->push_back(float(q[g + size_t(i)]) * scale);
            }
        }
        put(out, q.data(), q.size());
        put(out, scales.data(), 4 * scales.size());
    }
}

}  // namespace

class TestLlama2cVersions : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    ps::test::Llama2cShape shape_;

    std::string write(const std::string& name, const std::string& bytes) {
        const std::string dir = tmp_.filePath(QString::fromStdString(name)).toStdString();
        QDir().mkpath(QString::fromStdString(dir));
        ps::test::write_file(dir + "/tokenizer.bin",
                             ps::test::llama2c_tokenizer_file(shape_.vocab));
        ps::test::write_file(dir + "/model.bin", bytes);
        return dir + "/model.bin";
    }

  private slots:
    void initTestCase() {
        shape_.dim = 64;
        shape_.hidden = 96;
        shape_.layers = 2;
        shape_.heads = 4;
        shape_.kv_heads = 2;
        shape_.vocab = 300;
        shape_.seq_len = 16;
    }

    void versions_1_and_2_load() {
        const std::string legacy_bytes = ps::test::llama2c_checkpoint(shape_);
        const Tensors t = parse_legacy(legacy_bytes, shape_);
        const std::string legacy = write("legacy", legacy_bytes);

        // Version 1: the same floats, norms first.
        std::string v1 = header(1, t, 0);
        for (const Floats* f : {&t.rms_att, &t.rms_ffn, &t.rms_final, &t.embedding, &t.wq, &t.wk,
                                &t.wv, &t.wo, &t.w1, &t.w2, &t.w3})
            put(v1, f->data(), 4 * f->size());
        // Version 2, group 32, and a legacy file of the values it decodes to.
        const int group = 32;
        const size_t d = shape_.dim, h = shape_.hidden, kv = d * shape_.kv_heads / shape_.heads;
        std::string v2 = header(2, t, group);
        for (const Floats* f : {&t.rms_att, &t.rms_ffn, &t.rms_final})
            put(v2, f->data(), 4 * f->size());
        Tensors decoded = t;
        const std::pair<const Floats*, Floats*> matrices[] = {{&t.embedding, &decoded.embedding},
                                                              {&t.wq, &decoded.wq},
                                                              {&t.wk, &decoded.wk},
                                                              {&t.wv, &decoded.wv},
                                                              {&t.wo, &decoded.wo},
                                                              {&t.w1, &decoded.w1},
                                                              {&t.w2, &decoded.w2},
                                                              {&t.w3, &decoded.w3}};
        const size_t per_layer[] = {
            size_t(shape_.vocab) * d, d * d, kv * d, kv * d, d * d, h * d, d * h, h * d};
        for (size_t i = 0; i < 8; ++i) {
            matrices[i].second->clear();
            put_q80(v2, *matrices[i].first, per_layer[i], group, matrices[i].second);
        }
        std::string widened(legacy_bytes.data(), sizeof t.header);
        for (const Floats* f : {&decoded.embedding, &decoded.rms_att, &decoded.wq, &decoded.wk,
                                &decoded.wv, &decoded.wo, &decoded.rms_ffn, &decoded.w1,
                                &decoded.w2, &decoded.w3, &decoded.rms_final})
            put(widened, f->data(), 4 * f->size());
        widened.append(legacy_bytes.substr(widened.size()));  // freq_cis, as the original

        auto a = ps::load_model(legacy);
        auto b = ps::load_model(write("v1", v1));
        auto c = ps::load_model(write("v2", v2));
        auto e = ps::load_model(write("widened", widened));
        QCOMPARE(c->format, std::string("llama2c-int8"));
        QCOMPARE(c->tensors.size(), a->tensors.size());
        const std::vector<int> ids = {1, 5, 9, 200, 42, 7};
        const ps::Trace ta = ps::forward(*a, ids), tb = ps::forward(*b, ids),
                        tc = ps::forward(*c, ids), te = ps::forward(*e, ids);
        // Version 1 holds the same floats: the same logits, exactly.
        QVERIFY((ta.logits.array() == tb.logits.array()).all());
        // Version 2 decodes to q * scale: exactly the widened values, hence the same logits.
        QVERIFY((tc.logits.array() == te.logits.array()).all());
        // And within the quantization error of the original (steps of max|w|/127 per group).
        const double scale = ta.logits.cwiseAbs().maxCoeff();
        const double err = (ta.logits - tc.logits).cwiseAbs().maxCoeff() / scale;
        QVERIFY2(err < 0.05 && err > 0, qPrintable(QString::number(err)));
    }

    void bad_headers_are_named() {
        const std::string legacy_bytes = ps::test::llama2c_checkpoint(shape_);
        const Tensors t = parse_legacy(legacy_bytes, shape_);
        std::string v3 = header(3, t, 0);
        EXPECT_ERROR(ps::load_model(write("v3", v3)), "version 3 is not supported");
        std::string bad_group = header(2, t, 48);  // does not divide dim 64
        EXPECT_ERROR(ps::load_model(write("group", bad_group)), "group size 48", "divide dim 64");
        std::string short_file = header(2, t, 32) + std::string(100, '\0');
        EXPECT_ERROR(ps::load_model(write("short", short_file)), "version 2 checkpoint",
                     "bytes but the file has");
        EXPECT_ERROR(ps::load_model(write("cut", header(1, t, 0).substr(0, 100))),
                     "256-byte header is cut short");
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestLlama2cVersions)
#include "test_llama2c_versions.moc"
