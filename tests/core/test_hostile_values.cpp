// The hostile-input table's cases that are not about a file's structure: NaN and infinite
// weights (the model loads with a warning naming the tensors; what is computed from them is NaN
// and sampling refuses it), invalid UTF-8 in token pieces and in prompts, and prompts longer
// than the context window.
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/analysis/param_stats.h"
#include "core/error.h"
#include "core/formats/gguf.h"
#include "core/formats/loader.h"
#include "core/formats/safetensors.h"
#include "core/formats/tokenizer_files.h"
#include "core/model/forward.h"
#include "core/sampling/sampling.h"
#include "tests/support/expect_error.h"
#include "tests/support/gguf_tiny.h"
#include "tests/support/hf_writer.h"
#include "tests/support/suite.h"
#include "tests/support/tiny_fixtures.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using ps::test::GgufWriter;
using ps::test::TinyModel;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The warning about tensor `name`, or "".
std::string warning_about(const ps::Model& model, const std::string& name) {
    for (const std::string& w : model.warnings)
        if (w.find("tensor '" + name + "'") != std::string::npos) return w;
    return "";
}

}  // namespace

class TestHostileValues : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    int n_ = 0;

    std::string fresh_dir() {
        const std::string dir = tmp_.path().toStdString() + "/case" + std::to_string(n_++);
        fs::create_directories(dir);
        return dir;
    }

    // The NaN/Inf checks every format shares: the load succeeds with a warning naming `tensor`,
    // the last position of `bad` reads the NaN (its logits are all NaN) and `good` doesn't (its
    // logits are finite), the sampling step refuses the NaN logits, and the statistics count the
    // bad values apart.
    void check_non_finite_model(const ps::Model& model, const std::string& tensor,
                                const std::vector<int>& bad, const std::vector<int>& good) {
        const std::string warning = warning_about(model, tensor);
        QVERIFY2(warning.find("has 1 NaN and 1 infinite values") != std::string::npos,
                 warning.c_str());
        QCOMPARE(model.warnings.size(), size_t(1));

        const int vocab = model.config.vocab_size;
        const ps::Trace bad_trace = ps::forward(model, bad);
        const ps::MatrixRM last = bad_trace.logits.bottomRows(1);
        QVERIFY(last.array().isNaN().all());
        EXPECT_ERROR(ps::apply_sampling(last.data(), vocab, {}), "sampling", "is NaN");
        const ps::Trace good_trace = ps::forward(model, good);
        QVERIFY(good_trace.logits.allFinite());
        const ps::MatrixRM good_last = good_trace.logits.bottomRows(1);
        QVERIFY(ps::apply_sampling(good_last.data(), vocab, {}).kept > 0);

        for (const ps::TensorInfo& t : model.tensors) {
            if (t.name != tensor) continue;
            const ps::ValueSpans spans{ps::ValueSpan(t)};  // f32 or kept as stored
            for (int64_t exact_limit : {int64_t(1) << 24, int64_t(1)}) {
                const ps::ValueStats s = ps::value_stats(spans, 0, exact_limit);
                QCOMPARE(s.count, t.count);
                QCOMPARE(s.non_finite, int64_t(2));
                QVERIFY(std::isfinite(s.mean) && std::isfinite(s.std));
                QVERIFY(std::isfinite(s.min) && std::isfinite(s.max) && s.min < s.max);
                for (double p : s.percentile) QVERIFY(p >= s.min && p <= s.max);
            }
            const ps::ValueStats s = ps::value_stats(spans);
            const ps::Histogram h = ps::histogram(spans, 10, s.min, s.max);
            QCOMPARE(h.outside, int64_t(2));
            QCOMPARE(h.total(), t.count - 2);
        }
    }

  private slots:
    void nan_and_inf_weights_llama2c();
    void nan_and_inf_weights_gguf();
    void nan_and_inf_weights_safetensors();
    void statistics_of_only_non_finite_values();
    void invalid_utf8_in_token_pieces();
    void invalid_utf8_in_prompts();
    void prompt_longer_than_the_context_window();
};

void TestHostileValues::nan_and_inf_weights_llama2c() {
    ps::test::Llama2cShape shape;
    shape.shared_classifier = false;  // a tied unembedding would make token 3's logit NaN always
    std::string bytes = ps::test::llama2c_checkpoint(shape);
    const float bad[2] = {kNaN, kInf};
    std::memcpy(bytes.data() + 28 + 4 * (3 * shape.dim), bad, sizeof bad);  // token 3's row
    const std::string dir = fresh_dir();
    ps::test::write_file(dir + "/model.bin", bytes);
    ps::test::write_file(dir + "/tokenizer.bin", ps::test::llama2c_tokenizer_file(shape.vocab));
    const auto model = ps::load_model(dir + "/model.bin");
    check_non_finite_model(*model, "tok_embeddings.weight", {3}, {4, 5});
}

void TestHostileValues::nan_and_inf_weights_gguf() {
    TinyModel t;
    t.skip_tensor = "token_embd.weight";
    GgufWriter w = t.writer();
    std::vector<float> embedding = ps::test::tiny_values("token_embd.weight", int64_t(t.dim) * 10);
    embedding[size_t(3 * t.dim)] = kNaN;
    embedding[size_t(3 * t.dim + 1)] = -kInf;
    w.add_tensor_f32("token_embd.weight", {t.dim, t.vocab}, embedding.data());
    const std::string path = fresh_dir() + "/model.gguf";
    w.write(path);
    const auto model = ps::load_model(path);
    check_non_finite_model(*model, "token_embd.weight", {4, 3}, {4, 5});
}

void TestHostileValues::nan_and_inf_weights_safetensors() {
    // F16 weights: NaN and infinity survive the widening to f32. GPT-2 ties its unembedding to
    // the token embedding, so the bad values go into the position embedding's row 1.
    const std::string dir = fresh_dir();
    ps::test::write_hf_gpt2(dir);
    const std::string index = dir + "/model.safetensors.index.json";
    const std::string shard =
        dir + "/" +
        json::parse(read_all(index))["weight_map"]["transformer.wpe.weight"].get<std::string>();
    size_t at;  // where the position embedding's bytes start in the file
    {
        ps::SafetensorsFile file(shard);
        const ps::SafetensorsTensor* wpe = file.find("transformer.wpe.weight");
        QVERIFY(wpe && wpe->dtype == "F16" && wpe->shape[1] == 8);
        const auto mapping = file.release_mapping();
        at = size_t(wpe->data - mapping->data());
    }
    std::string bytes = read_all(shard);
    const uint16_t nan_inf[2] = {0x7E00, 0xFC00};                     // F16 NaN, -infinity
    std::memcpy(bytes.data() + at + 2 * 8, nan_inf, sizeof nan_inf);  // position 1's row
    ps::test::write_file(shard, bytes);
    const auto model = ps::load_model(dir);
    check_non_finite_model(*model, "transformer.wpe.weight", {5, 6}, {5});
}

void TestHostileValues::statistics_of_only_non_finite_values() {
    const std::vector<float> values = {kNaN, kInf, -kInf};
    const ps::ValueSpans spans{std::span<const float>(values)};
    const ps::ValueStats s = ps::value_stats(spans);
    QCOMPARE(s.count, int64_t(3));
    QCOMPARE(s.non_finite, int64_t(3));
    QCOMPARE(s.min, 0.0);
    QCOMPARE(s.max, 0.0);
    QCOMPARE(s.mean, 0.0);
    const ps::Histogram h = ps::histogram(spans, 4, s.min, s.max);
    QCOMPARE(h.outside, int64_t(3));
    EXPECT_ERROR(ps::histogram(spans, 4, 0.0, double(kInf)), "histogram", "finite");
}

void TestHostileValues::invalid_utf8_in_token_pieces() {
    // SentencePiece pieces are bytes: an ill-formed one loads, decodes to its bytes, and text
    // never merges into it (text is valid UTF-8).
    ps::SpmVocab spm = ps::test::small_spm_vocab();
    spm.pieces.push_back("\xFF\xC3");
    spm.scores.push_back(10);
    const auto tok = ps::make_spm_tokenizer(spm, "spm");
    const int bad = tok->vocab_size() - 1;
    QCOMPARE(tok->decode({bad}), std::string("\xFF\xC3"));
    QCOMPARE(tok->decode(tok->encode("abc h\xC3\xA9")), std::string("abc h\xC3\xA9"));
    // A control piece that is the second byte of "é" is never matched in text: it would split
    // the character (the fuzzer's input spun encode forever, fuzz_llama2c_tokenizer/ill-formed-
    // control-piece).
    spm.pieces.push_back("\xA9");
    spm.scores.push_back(0);
    for (int id = 0; id < tok->vocab_size(); ++id) spm.types.push_back(tok->type(id));
    spm.types.push_back(ps::TokenType::Control);
    const auto with_control = ps::make_spm_tokenizer(spm, "spm");
    const std::vector<int> ids = with_control->encode("h\xC3\xA9");
    QVERIFY(std::find(ids.begin(), ids.end(), with_control->vocab_size() - 1) == ids.end());
    QCOMPARE(with_control->decode(ids), std::string("h\xC3\xA9"));

    // GPT-2's byte-level pieces must be spelled in its byte alphabet: refused, naming the token.
    ps::BpeVocab bpe = ps::test::small_bpe_vocab();
    bpe.pieces.push_back("ok\xFF");
    EXPECT_ERROR(ps::make_bpe_tokenizer(bpe, "vocab.gguf"), "vocab.gguf",
                 "token " + std::to_string(bpe.pieces.size() - 1),
                 "outside GPT-2's byte alphabet at byte 2");

    // In files: a GGUF SentencePiece vocabulary loads; vocab.json must be valid JSON (UTF-8).
    GgufWriter w;
    w.set_string("tokenizer.ggml.model", "llama");
    w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "\xC0\xAF", "a"});
    w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, -1, -2});
    const std::string path = fresh_dir() + "/vocab.gguf";
    w.write(path);
    QCOMPARE(ps::load_gguf_tokenizer(path)->decode({3, 4}), std::string("\xC0\xAF"
                                                                        "a"));
    const std::string dir = fresh_dir();
    ps::test::write_hf_gpt2(dir);
    std::string vocab = read_all(dir + "/vocab.json");
    vocab.insert(vocab.size() - 1, ", \"bad\xFF\": 300");
    ps::test::write_file(dir + "/vocab.json", vocab);
    EXPECT_ERROR(ps::load_model(dir), "vocab.json", "invalid JSON", "UTF-8");
    // The llama2.c tokenizer format: bytes, as SentencePiece's.
    std::string tok512 = ps::test::llama2c_tokenizer_file(4);
    tok512.replace(tok512.size() - 1, 1, "\xFF");  // token 3 is "c": now "\xFF"
    ps::test::write_file(dir + "/tok.bin", tok512);
    QCOMPARE(ps::load_llama2c_tokenizer(dir + "/tok.bin", 4)->decode({3}), std::string("\xFF"));
}

void TestHostileValues::invalid_utf8_in_prompts() {
    const auto spm = ps::make_spm_tokenizer(ps::test::small_spm_vocab(), "spm");
    const auto bpe = ps::make_bpe_tokenizer(ps::test::small_bpe_vocab(), "bpe");
    for (const ps::Tokenizer* tok : {spm.get(), bpe.get()}) {
        EXPECT_ERROR(tok->encode("the \xFF"), "invalid UTF-8 at byte 4");
        EXPECT_ERROR(tok->encode("ab\xE2\x82"), "invalid UTF-8 at byte 2");    // cut short
        EXPECT_ERROR(tok->encode("\xED\xA0\x80"), "invalid UTF-8 at byte 0");  // a surrogate
        EXPECT_ERROR(tok->encode("\xC0\xAF"), "invalid UTF-8 at byte 0");      // overlong
        QCOMPARE(tok->decode(tok->encode("the \xE2\x82\xAC")), std::string("the \xE2\x82\xAC"));
    }
    // What the command line shows: the error and a failing exit code, no crash. (A shell
    // passes the raw byte: QProcess arguments are always valid UTF-8.)
    const std::string dir = fresh_dir();
    ps::test::write_hf_gpt2(dir);
    QProcess cli;
    cli.start("/bin/sh", {"-c", "exec \"$0\" tokenize \"$1\" --text \"$(printf 'bad \\377')\"",
                          PARAMSCOPE_BINARY, QString::fromStdString(dir)});
    QVERIFY(cli.waitForFinished(60000));
    QVERIFY(cli.exitCode() != 0);
    const QByteArray err = cli.readAllStandardError();
    QVERIFY2(err.contains("invalid UTF-8 at byte 4"), err.constData());
}

void TestHostileValues::prompt_longer_than_the_context_window() {
    ps::test::Llama2cShape shape;  // seq_len 8
    const std::string dir = fresh_dir();
    ps::test::write_file(dir + "/model.bin", ps::test::llama2c_checkpoint(shape));
    ps::test::write_file(dir + "/tokenizer.bin", ps::test::llama2c_tokenizer_file(shape.vocab));
    const auto model = ps::load_model(dir + "/model.bin");
    QCOMPARE(ps::forward(*model, std::vector<int>(8, 3)).logits.rows(), 8);
    EXPECT_ERROR(ps::forward(*model, std::vector<int>(9, 3)),
                 "the prompt has 9 tokens but the model's context window is 8 tokens");
    EXPECT_ERROR(ps::forward(*model, std::vector<int>(100000, 3)), "100000 tokens");
}

PARAMSCOPE_TEST_APPLESS_MAIN(TestHostileValues)
#include "test_hostile_values.moc"
