// Weights kept in the file's encoding (F16, BF16, Q8_0): the forward pass, the parameter
// statistics and the embedding lookups give what the same file widened to f32 at load
// (LoadOptions::f32_weights) gives, without four bytes per parameter resident.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/analysis/param_stats.h"
#include "core/error.h"
#include "core/formats/gguf.h"
#include "core/formats/loader.h"
#include "core/model/compact_weights.h"
#include "core/model/forward.h"
#include "core/tensor/half.h"
#include "tests/support/gguf_tiny.h"
#include "tests/support/random_gpt2.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "tests/support/tiny_fixtures.h"

using ps::test::TinyModel;

namespace {

double max_abs_diff(const ps::MatrixRM& a, const ps::MatrixRM& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return INFINITY;
    return double((a - b).cwiseAbs().maxCoeff());
}

ps::LoadOptions widened() {
    ps::LoadOptions o;
    o.f32_weights = true;
    return o;
}

ps::MatrixRM all_logits(const ps::Model& m, const std::vector<int>& ids) {
    auto o = ps::TraceOptions::none();
    o.all_logits = true;
    return ps::forward(m, ids, o).logits;
}

std::vector<int> prompt(const ps::Model& m, int n) {
    std::vector<int> ids;
    for (int i = 0; i < n; ++i) ids.push_back(int((int64_t(i) * 7919 + 3) % m.config.vocab_size));
    return ids;
}

bool same_stats(const ps::ValueStats& a, const ps::ValueStats& b) {
    bool same = a.count == b.count && a.non_finite == b.non_finite && a.mean == b.mean &&
                a.std == b.std && a.min == b.min && a.max == b.max && a.near_zero == b.near_zero &&
                a.percentiles_exact == b.percentiles_exact;
    for (int i = 0; i < 7; ++i) same = same && a.percentile[i] == b.percentile[i];
    return same;
}

// A GPT-2 Hugging Face directory with a byte-level vocabulary and `dtype` weights.
ps::test::RandomGpt2 write_gpt2(const std::string& dir, const std::string& dtype, bool untied) {
    const ps::BpeVocab v = ps::test::small_bpe_vocab();
    ps::test::RandomGpt2 g;
    g.vocab = int(v.pieces.size());
    g.randomize(31);
    if (untied) {
        g.lm_head.resize(g.wte.size());
        for (size_t i = 0; i < g.lm_head.size(); ++i)
            g.lm_head[i] = g.wte[(i * 7919) % g.wte.size()];
    }
    ps::test::write_hf_model(dir, g.config(), g.hf_tensors("transformer."), dtype);
    nlohmann::json vocab = nlohmann::json::object();
    for (size_t i = 0; i < v.pieces.size(); ++i) vocab[v.pieces[i]] = int(i);
    std::ofstream(dir + "/vocab.json") << vocab.dump();
    std::ofstream merges(dir + "/merges.txt");
    merges << "#version: 0.2\n";
    for (const std::string& m : v.merges) merges << m << "\n";
    g.round_to(dtype);
    return g;
}

}  // namespace

class TestCompactWeights : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string tmp(const std::string& name) { return dir_.filePath(name.c_str()).toStdString(); }

    // Everything that reads weights agrees between `compact` and `wide` (the same file).
    void check_same_model(const ps::Model& compact, const ps::Model& wide, int tokens) {
        QVERIFY(compact.has_compact_tensors());
        QVERIFY(!wide.has_compact_tensors());
        // (a) logits, on one thread and on two (panels of the products run in parallel).
        const std::vector<int> ids = prompt(compact, tokens);
        // The bound is 1e-5 relative to the largest logit (the tiny GGUF fixtures' weights in
        // (-1, 1) give logits in the hundreds).
        for (int threads : {1, 2}) {
            ps::set_threads(threads);
            const ps::MatrixRM want = all_logits(wide, ids);
            const double scale = std::max(1.0, double(want.cwiseAbs().maxCoeff()));
            const double diff = max_abs_diff(all_logits(compact, ids), want);
            qInfo("%s, %d threads: compact vs f32 logits %.3g (largest logit %.3g)",
                  compact.name.c_str(), threads, diff, scale);
            QVERIFY2(diff <= 1e-5 * scale, qPrintable(QString::number(diff)));
        }
        ps::set_threads(1);
        // (b) resident f32: small tensors only when compact, every parameter when widened.
        const double f32_bytes = 4.0 * double(compact.totals().total());
        qInfo("owned f32: compact %.0f bytes, widened %.0f bytes, 4 x params %.0f",
              double(compact.owned_bytes()), double(wide.owned_bytes()), f32_bytes);
        QVERIFY(double(compact.owned_bytes()) < 0.25 * f32_bytes);
        QVERIFY(double(wide.owned_bytes()) > 0.75 * f32_bytes);
        // (c) statistics and histograms of each tensor, and of all at once (percentiles from
        // the histogram), are exactly equal.
        QCOMPARE(compact.tensors.size(), wide.tensors.size());
        std::vector<int> every;
        for (int i = 0; i < int(compact.tensors.size()); ++i) {
            every.push_back(i);
            QCOMPARE(compact.tensors[size_t(i)].name, wide.tensors[size_t(i)].name);
            QCOMPARE(compact.tensors[size_t(i)].non_finite, wide.tensors[size_t(i)].non_finite);
            const ps::ValueSpans a = ps::tensor_values(compact, {i});
            const ps::ValueSpans b = ps::tensor_values(wide, {i});
            const ps::ValueStats sa = ps::value_stats(a), sb = ps::value_stats(b);
            QVERIFY2(same_stats(sa, sb), compact.tensors[size_t(i)].name.c_str());
            QCOMPARE(sa.count, compact.tensors[size_t(i)].count);
            QCOMPARE(ps::histogram(a, 33, sa.min, sa.max).counts,
                     ps::histogram(b, 33, sb.min, sb.max).counts);
        }
        const ps::ValueSpans all_a = ps::tensor_values(compact, every);
        const ps::ValueSpans all_b = ps::tensor_values(wide, every);
        QVERIFY(same_stats(ps::value_stats(all_a, 0, 1), ps::value_stats(all_b, 0, 1)));
        // Embedding rows, single weights and the nearest tokens.
        const ps::Config& c = compact.config;
        std::vector<float> ra(size_t(c.dim)), rb(size_t(c.dim));
        for (int token : {0, c.vocab_size / 2, c.vocab_size - 1}) {
            ps::token_embedding_row(compact.weights, c.dim, token, ra.data());
            ps::token_embedding_row(wide.weights, c.dim, token, rb.data());
            QCOMPARE(ra, rb);
        }
        QCOMPARE(ps::nearest_tokens(compact, 1, 5), ps::nearest_tokens(wide, 1, 5));
        for (size_t l = 0; l < compact.weights.layers.size(); ++l) {
            const ps::Linear &a = compact.weights.layers[l].ffn_down,
                             &b = wide.weights.layers[l].ffn_down;
            for (int o = 0; o < a.out; o += 5)
                for (int i = 0; i < a.in; i += 3)
                    QCOMPARE(ps::linear_weight(a, o, i), ps::linear_weight(b, o, i));
            const ps::Linear &qa = compact.weights.layers[l].wv, &qb = wide.weights.layers[l].wv;
            QCOMPARE(ps::linear_weight(qa, qa.out - 1, qa.in - 1),
                     ps::linear_weight(qb, qb.out - 1, qb.in - 1));
        }
    }

  private slots:
    void initTestCase() { QVERIFY(dir_.isValid()); }

    // The vectorized F16 conversion (F16C when the CPU has it) gives every half's exact value,
    // as the scalar one does; NaN stays NaN.
    void f16_conversion_is_exact_for_every_half() {
        std::vector<uint8_t> halves(2 * 65536 + 2);
        for (uint32_t h = 0; h < 65536; ++h) {
            halves[2 * h] = uint8_t(h & 0xFF);
            halves[2 * h + 1] = uint8_t(h >> 8);
        }
        std::vector<float> values(65537);
        ps::dequantize(ps::DType::F16, halves.data() + 2, values.data() + 1, 65535);  // odd start
        ps::dequantize(ps::DType::F16, halves.data(), values.data(), 1);
        for (uint32_t h = 0; h < 65536; ++h) {
            const float want = ps::f16_to_f32(uint16_t(h));
            const float got = values[h];
            if (std::isnan(want)) {
                QVERIFY(std::isnan(got));
            } else {
                uint32_t a, b;
                std::memcpy(&a, &want, 4);
                std::memcpy(&b, &got, 4);
                QVERIFY2(a == b, qPrintable(QString::number(h, 16)));
            }
        }
    }

    void gguf_q8_0_llama_and_gpt2() {
        for (const std::string arch : {"llama", "gpt2"}) {
            TinyModel t;
            t.arch = arch;
            t.dim = 64, t.hidden = 128, t.heads = 4, t.kv_heads = arch == "llama" ? 2 : 4;
            t.vocab = 300, t.context = 64;
            t.with_output = arch == "llama";  // gpt2: the unembedding is the Q8_0 token_embd
            t.q8_0 = true;
            const std::string path = tmp(arch + "-q8_0.gguf");
            t.writer().write(path);
            // The weights alone: the tiny gpt2's vocabulary is no byte-level tokenizer.
            auto compact = ps::load_gguf_weights(path);
            auto wide = ps::load_gguf_weights(path, widened());
            ps::note_non_finite_weights(*compact);
            ps::note_non_finite_weights(*wide);
            QCOMPARE(compact->weights.layers[0].wq.dtype, ps::DType::Q8_0);
            QCOMPARE(compact->weights.unembed.dtype, ps::DType::Q8_0);
            QCOMPARE(compact->config.tied_embeddings, arch == "gpt2");
            check_same_model(*compact, *wide, 48);
        }
    }

    void gguf_f16_shared_model() {
        PS_REQUIRE_SHARED(path, "models/tiny-random/llama-2-tiny-random.gguf");
        auto compact = ps::load_model(path);
        auto wide = ps::load_model(path, widened());
        QCOMPARE(compact->weights.token_embedding_dtype, ps::DType::F16);
        check_same_model(*compact, *wide, 24);
    }

    // HF GPT-2 stores Conv1D weights [in, out] and q, k, v as column blocks of one c_attn.
    void hf_gpt2_f16_and_bf16() {
        for (const std::string dtype : {"F16", "BF16"}) {
            for (bool untied : {false, true}) {
                const std::string dir = tmp("gpt2-" + dtype + (untied ? "-untied" : ""));
                const ps::test::RandomGpt2 g = write_gpt2(dir, dtype, untied);
                auto compact = ps::load_model(dir);
                auto wide = ps::load_model(dir, widened());
                QVERIFY(compact->weights.layers[0].wq.stored_in_out);
                QVERIFY(compact->weights.layers[0].wk.compact());
                QCOMPARE(compact->config.tied_embeddings, !untied);
                check_same_model(*compact, *wide, 64);
                // The reference: a naive GPT-2 computing with the same rounded weights.
                const std::vector<int> ids = prompt(*compact, 40);
                const double diff = max_abs_diff(all_logits(*compact, ids), g.naive_logits(ids));
                QVERIFY2(diff <= 1e-4, qPrintable(QString::number(diff)));
            }
        }
    }

    void info_names_the_storage() {
        const std::string dir = tmp("gpt2-info");
        write_gpt2(dir, "F16", false);
        auto compact = ps::load_model(dir);
        // The position embedding, biases and norm gains are widened; everything else is not.
        for (const ps::TensorInfo& t : compact->tensors) {
            const bool small = t.shape.size() == 1 || t.name.find("wpe") != std::string::npos;
            QCOMPARE(t.raw == nullptr, small);
            QCOMPARE(t.data == nullptr, !small);
        }
    }

    void rows_of_partial_blocks_are_refused() {
        // Q8_0 rows must be whole 32-value blocks: a 40-wide attn_q is refused by name.
        TinyModel t;
        t.dim = 64, t.hidden = 128, t.heads = 4, t.kv_heads = 2, t.vocab = 64;
        t.q8_0 = true;
        t.dims["blk.0.attn_q.weight"] = {40, 64};
        const std::string path = tmp("bad-block.gguf");
        t.writer().write(path);
        try {
            ps::load_gguf_weights(path);
            QFAIL("loaded a Q8_0 tensor whose rows are not whole blocks");
        } catch (const ps::Error& e) {
            const std::string what = e.what();
            QVERIFY2(what.find("blk.0.attn_q.weight") != std::string::npos, e.what());
            QVERIFY2(what.find("block size 32") != std::string::npos, e.what());
        }
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestCompactWeights)
#include "test_compact_weights.moc"
