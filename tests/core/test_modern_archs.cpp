// Today's small-model architectures (Llama 3, Mistral, Qwen2, Qwen3, Gemma 3, Phi-3): a small
// random model of each, written by the test in Hugging Face layout and in GGUF layout (F32 and
// F16), loaded by ParamScope and compared with a naive scalar forward pass that follows the
// Hugging Face modeling code (tests/support/decoder_fixtures.h). Logits must agree within 1e-4
// of the largest logit: the engine sums in float, the reference in double.
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <fstream>

#include "core/analysis/param_stats.h"
#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "tests/support/decoder_fixtures.h"
#include "tests/support/expect_error.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

using ps::test::DecoderSpec;
using json = nlohmann::json;

namespace {

std::vector<DecoderSpec> specs() {
    return ps::test::modern_decoder_specs();
}

// The largest difference between the engine's last-position... every position's logits and the
// reference, relative to the largest reference logit.
double relative_error(const ps::Trace& t, const std::vector<double>& ref, int vocab) {
    double worst = 0, scale = 0;
    for (double z : ref) scale = std::max(scale, std::abs(z));
    for (Eigen::Index p = 0; p < t.logits.rows(); ++p)
        for (int v = 0; v < vocab; ++v)
            worst = std::max(worst, std::abs(double(t.logits(p, v)) - ref[size_t(p * vocab + v)]));
    return worst / scale;
}

}  // namespace

class TestModernArchs : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    const std::vector<int> ids_{1, 40, 77, 12, 200, 9, 33, 150, 61, 5};

    std::string path(const std::string& name) const {
        return tmp_.filePath(QString::fromStdString(name)).toStdString();
    }

    void check(const DecoderSpec& s, const std::string& where, const ps::LoadOptions& options,
               const std::vector<double>& ref) {
        auto model = ps::load_model(where, options);
        const int vocab = model->config.vocab_size;
        const double err = relative_error(ps::forward(*model, ids_), ref, vocab);
        qInfo("%s, %s%s: largest logit difference %.2e of the largest logit", s.label.c_str(),
              QFileInfo(QString::fromStdString(where)).fileName().toUtf8().constData(),
              options.f32_weights ? " (widened)" : "", err);
        QVERIFY2(err < 1e-4,
                 qPrintable(QString::fromStdString(s.label + " " + where + ": relative error " +
                                                   std::to_string(err))));
        // The count formula of the architecture equals the tensors'.
        QCOMPARE(ps::parameter_formula(*model).value, model->totals().total());
    }

  private slots:
    void every_architecture_matches_the_naive_reference() {
        QVERIFY(tmp_.isValid());
        const int vocab = ps::test::decoder_vocab_size();
        unsigned seed = 1;
        for (const DecoderSpec& s : specs()) {
            const ps::test::HfWeights w = ps::test::random_decoder_weights(s, vocab, seed++);
            const std::vector<double> ref = ps::test::naive_decoder_logits(s, w, ids_);
            for (const std::string dtype : {"F32", "F16"}) {
                const std::string dir = path(s.label + "-hf-" + dtype);
                ps::test::write_hf_decoder(dir, s, w, dtype);
                check(s, dir, {}, ref);
            }
            if (s.gguf_arch.empty()) continue;
            for (const bool f16 : {false, true}) {
                const std::string file = path(s.label + (f16 ? "-f16" : "-f32") + ".gguf");
                ps::test::write_gguf_decoder(file, s, w, f16);
                check(s, file, {}, ref);
                ps::LoadOptions widen;
                widen.f32_weights = true;
                check(s, file, widen, ref);
            }
        }
    }

    // The reference is not blind to what each feature does: without the window, the scaling,
    // the biases, the (1 + w) or the fused rows' order it would disagree with the engine.
    void the_features_change_the_logits() {
        const int vocab = ps::test::decoder_vocab_size();
        for (const DecoderSpec& s : specs()) {
            const ps::test::HfWeights w = ps::test::random_decoder_weights(s, vocab, 7);
            DecoderSpec plain = s;
            plain.sliding_window = 0;
            plain.rope_scaling = nullptr;
            plain.final_softcap = 0;
            plain.partial_rotary = 1.0;
            if (plain.gemma()) plain.query_pre_attn_scalar = plain.hd();
            const std::vector<double> a = ps::test::naive_decoder_logits(s, w, ids_);
            const std::vector<double> b = ps::test::naive_decoder_logits(plain, w, ids_);
            double diff = 0;
            for (size_t i = 0; i < a.size(); ++i) diff = std::max(diff, std::abs(a[i] - b[i]));
            if (s.label != "qwen2" && s.label != "qwen3")  // they have none of these features
                QVERIFY2(diff > 1e-3, qPrintable(QString::fromStdString(s.label)));
        }
    }

    void gguf_layouts_use_their_rope_and_norms() {
        const int vocab = ps::test::decoder_vocab_size();
        for (const DecoderSpec& s : specs()) {
            if (s.gguf_arch.empty()) continue;
            const ps::test::HfWeights w = ps::test::random_decoder_weights(s, vocab, 3);
            const std::string file = path(s.label + "-layout.gguf");
            ps::test::write_gguf_decoder(file, s, w, false);
            auto m = ps::load_model(file);
            QCOMPARE(m->config.rope_style,
                     s.gguf_arch == "llama" ? ps::RopeStyle::Interleaved : ps::RopeStyle::Half);
            QCOMPARE(m->config.norm_offset, 0.0f);  // Gemma's GGUF stores 1 + w
            QCOMPARE(m->config.head_dim(), s.hd());
            QCOMPARE(m->weights.rope_freq_factors != nullptr, s.label == "llama3");
        }
    }

    // A Llama 3.2-shaped model (random weights, small width) with Llama 3's real tokenizer.json:
    // the prompt's tokens are the vocabulary's own, and the logits over all 128,256 match.
    void llama3_with_its_real_tokenizer() {
        PS_REQUIRE_SHARED(tokenizer, "tokenizers/llama3/tokenizer.json");
        const json j = json::parse(std::ifstream(tokenizer));
        const int vocab = static_cast<int>(j["model"]["vocab"].size() + j["added_tokens"].size());
        QCOMPARE(vocab, 128256);
        DecoderSpec s = specs()[0];
        s.dim = 16;
        s.hidden = 24;
        s.layers = 2;
        s.heads = 2;
        s.kv_heads = 1;
        const ps::test::HfWeights w = ps::test::random_decoder_weights(s, vocab, 11);
        const std::string dir = path("llama3-real-tokenizer");
        ps::test::write_hf_decoder(dir, s, w, "F32", tokenizer);
        auto model = ps::load_model(dir);
        // "Hello world" is two pieces of Llama 3's vocabulary: "Hello" and "Ġworld".
        const int hello = j["model"]["vocab"]["Hello"], world = j["model"]["vocab"]["Ġworld"];
        std::vector<int> ids = model->tokenizer->encode("Hello world");
        if (!ids.empty() && ids.front() == 128000) ids.erase(ids.begin());  // <|begin_of_text|>
        QCOMPARE(ids, (std::vector<int>{hello, world}));
        const std::vector<double> ref = ps::test::naive_decoder_logits(s, w, ids);
        const double err = relative_error(ps::forward(*model, ids), ref, vocab);
        QVERIFY2(err < 1e-4, qPrintable(QString::number(err)));
    }

    // Qwen2Config sets the window to None without use_sliding_window, so saved layer_types that
    // name sliding layers do not make them slide.
    void qwen_window_needs_use_sliding_window() {
        DecoderSpec s = specs()[3];  // qwen2-window
        const ps::test::HfWeights w =
            ps::test::random_decoder_weights(s, ps::test::decoder_vocab_size(), 4);
        s.extra["use_sliding_window"] = false;
        const std::string off = path("qwen2-window-off");
        ps::test::write_hf_decoder(off, s, w, "F32");
        auto m = ps::load_model(off);
        for (int l = 0; l < m->config.n_layers; ++l) QCOMPARE(m->config.window(l), 0);
        s.extra["use_sliding_window"] = true;
        const std::string on = path("qwen2-window-on");
        ps::test::write_hf_decoder(on, s, w, "F32");
        auto slides = ps::load_model(on);
        QCOMPARE(slides->config.window(0), 0);
        QCOMPARE(slides->config.window(1), 3);
    }

    void refusals_name_what_is_supported() {
        DecoderSpec s = specs()[0];
        const int vocab = ps::test::decoder_vocab_size();
        const ps::test::HfWeights w = ps::test::random_decoder_weights(s, vocab, 5);
        s.hf_class = "Gemma3ForConditionalGeneration";
        std::string dir = path("refused-class");
        ps::test::write_hf_decoder(dir, s, w, "F32");
        EXPECT_ERROR(ps::load_model(dir),
                     "unsupported architecture 'Gemma3ForConditionalGeneration'",
                     "Qwen3ForCausalLM", "Gemma3ForCausalLM", "Phi3ForCausalLM");
        s = specs()[0];
        s.rope_scaling = {{"rope_type", "longrope"}, {"factor", 2.0}};
        dir = path("refused-rope");
        ps::test::write_hf_decoder(dir, s, w, "F32");
        EXPECT_ERROR(ps::load_model(dir), "RoPE scaling type 'longrope' is not supported",
                     "default, linear, llama3");
        s = specs()[0];
        s.gguf_arch = "qwen2moe";
        const std::string file = path("refused.gguf");
        ps::test::write_gguf_decoder(file, s, w, false);
        EXPECT_ERROR(ps::load_model(file), "'qwen2moe' is not supported",
                     "gpt2, llama, qwen2, qwen3, gemma3, phi3");
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestModernArchs)
#include "test_modern_archs.moc"
