// The headless command line: JSON shapes, values that agree with the engine and the
// references, --help for every command, and errors as one "error:" line with a non-zero exit.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/formats/loader.h"
#include "core/formats/safetensors.h"
#include "core/formats/tokenizer_files.h"
#include "core/model/forward.h"
#include "tests/support/cli_json.h"
#include "tests/support/decoder_fixtures.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

using nlohmann::json;
using ps::test::run_cli;
using ps::test::run_json;

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

class TestCli : public QObject {
    Q_OBJECT

  private slots:
    void every_command_has_help() {
        for (const char* command :
             {"info", "tokenize", "logits", "generate", "trace", "dist", "bench"}) {
            ps::test::CliResult r = run_cli({command, "--help"});
            QCOMPARE(r.exit_code, 0);
            QVERIFY2(r.out.startsWith(QByteArray("usage: paramscope ") + command), command);
        }
    }

    void info_json() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        json j = run_json({"info", QString::fromStdString(model), "--json"});
        QCOMPARE(j["architecture"].get<std::string>(), std::string("llama"));
        const json& c = j["config"];
        const int64_t d = c["dim"], h = c["hidden_dim"], L = c["n_layers"], V = c["vocab_size"];
        const int64_t kv = d / c["n_heads"].get<int64_t>() * c["n_kv_heads"].get<int64_t>();
        QCOMPARE(d, int64_t{64});
        QCOMPARE(kv, int64_t{32});
        // Tied embedding once, per layer two RMSNorm gains, q, k, v, o, and three MLP
        // matrices, plus the final norm.
        const int64_t formula = V * d + L * (2 * d + 2 * d * d + 2 * kv * d + 3 * d * h) + d;
        QCOMPARE(j["parameters"]["total"].get<int64_t>(), formula);
        int64_t sum = 0;
        for (const auto& t : j["tensors"]) sum += t["count"].get<int64_t>();
        QCOMPARE(sum, formula);
        const json& k = j["parameters"]["by_kind"];
        QCOMPARE(k["embedding"].get<int64_t>(), V * d);
        QCOMPARE(k["norm"].get<int64_t>(), L * 2 * d + d);
        QCOMPARE(k["bias"].get<int64_t>(), int64_t{0});
        QCOMPARE(
            k["weight"].get<int64_t>() + k["embedding"].get<int64_t>() + k["norm"].get<int64_t>(),
            formula);
    }

    void tokenize_and_logits_match_engine() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QString m = QString::fromStdString(model);
        json tok = run_json({"tokenize", m, "--text", "Once upon a time"});
        QCOMPARE(tok["ids"].get<std::vector<int>>(), (std::vector<int>{1, 403, 407, 261, 378}));
        QCOMPARE(tok["pieces"].size(), size_t{5});

        json lg =
            run_json({"logits", m, "--text", "Once upon a time", "--all-positions", "--json"});
        QCOMPARE(lg["logits"].size(), size_t{5});
        auto engine = ps::load_model(model);
        ps::Trace trace = ps::forward(*engine, {1, 403, 407, 261, 378});
        for (int t = 0; t < 5; ++t) {
            QCOMPARE(lg["logits"][size_t(t)].size(), size_t{512});
            for (int v = 0; v < 512; ++v)  // printed round-trip exact: bit-identical floats
                QCOMPARE(lg["logits"][size_t(t)][size_t(v)].get<float>(), trace.logits(t, v));
        }
        json last = run_json({"logits", m, "--ids", "1,403,407,261,378"});
        QCOMPARE(last["logits"].size(), size_t{1});
        QCOMPARE(last["logits"][0][7].get<float>(), trace.logits(4, 7));
    }

    void generate_greedy_matches_runc() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        PS_REQUIRE_SHARED(text, "reference/stories260K_runc_greedy_n64_once_upon_a_time.txt");
        json g = run_json({"generate", QString::fromStdString(model), "--text", "Once upon a time",
                           "--steps", "60", "--temperature", "0", "--json"});
        QCOMPARE(g["ids"].size(), size_t{65});
        QCOMPARE(QString::fromStdString(g["text"].get<std::string>() + "\n"),
                 QString::fromStdString(read_file(text)));
    }

    void generate_is_seeded() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QStringList args{"generate",      QString::fromStdString(model),
                               "--text",        "Lily",
                               "--steps",       "20",
                               "--temperature", "1.2",
                               "--seed",        "7"};
        json a = run_json(args), b = run_json(args);
        QCOMPARE(a["ids"], b["ids"]);
        json c = run_json(QStringList(args).replaceInStrings(QRegularExpression("^7$"), "8"));
        QVERIFY(a["ids"] != c["ids"]);
    }

    void dist_json() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        json d = run_json({"dist", QString::fromStdString(model), "--text", "Once upon a",
                           "--top-k", "3", "--all"});
        QCOMPARE(d["tokens"].size(), size_t{512});
        int nonzero = 0;
        double raw = 0, fin = 0;
        for (const auto& t : d["tokens"]) {
            raw += t["p_raw"].get<double>();
            fin += t["p_final"].get<double>();
            if (t["p_final"].get<double>() > 0)
                ++nonzero;
            else
                QCOMPARE(t["removed_by"].get<std::string>(), std::string("top_k"));
        }
        QCOMPARE(nonzero, 3);
        QVERIFY(std::abs(raw - 1) < 1e-5 && std::abs(fin - 1) < 1e-5);
        QCOMPARE(d["position"].get<int>(), 3);
    }

    void trace_writes_safetensors() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        QTemporaryDir dir;
        const QString out = dir.filePath("trace.safetensors");
        json j = run_json(
            {"trace", QString::fromStdString(model), "--text", "Once upon a time", "--out", out});
        QVERIFY(!j.is_null());
        ps::SafetensorsFile file(out.toStdString());
        const ps::SafetensorsTensor* pattern = file.find("blocks.2.attn.hook_pattern");
        QVERIFY(pattern);
        QCOMPARE(pattern->shape, (std::vector<int64_t>{8, 5, 5}));
        const ps::SafetensorsTensor* post = file.find("blocks.4.mlp.hook_post");
        QVERIFY(post);
        QCOMPARE(post->shape, (std::vector<int64_t>{5, 172}));
        QVERIFY(file.find("logits") && file.find("hook_embed") &&
                file.find("ln_final.hook_normalized"));
    }

    // The benchmark's quick mode (CI runs it too, so it cannot rot): every figure README's
    // performance table needs is there and is a positive, finite number; no time is asserted.
    void bench_quick_json() {
        for (const char* shape : {"gpt2-tiny", "llama-15m"}) {
            const json j = run_json({"bench", "--shape", shape, "--quick", "--json", "--tokens",
                                     "16", "--threads", "1", "--repeats", "1"});
            QVERIFY2(j.is_object(), shape);
            for (const char* key :
                 {"forward_ms", "forward_no_trace_ms", "forward_last_logits_ms", "append_ms",
                  "edit_last_ms", "logit_lens_ms", "sampling_ms", "forward_gflop", "forward_gflops",
                  "gemm_gflops", "gemm_2048_gflops", "efficiency", "trace_mb"}) {
                QVERIFY2(j.contains(key) && j[key].is_number(), key);
                QVERIFY2(j[key].get<double>() > 0 && std::isfinite(j[key].get<double>()), key);
            }
            QVERIFY(j["trace_overhead"].is_number());
            QVERIFY(j["kernel"].get<std::string>().find("sgemm") != std::string::npos ||
                    j["kernel"].get<std::string>().find("Eigen") != std::string::npos);
            QCOMPARE(j["tokens"].get<int>(), 16);
            // The FLOP count is the engine's formula for this shape.
            QVERIFY(j["forward_gflop"].get<double>() > 0.0005);
            if (std::string(shape) == "gpt2-tiny") {  // opened from a file in a fresh process
                for (const char* key : {"load_ms", "first_analysis_ms", "peak_rss_mb", "file_mb"})
                    QVERIFY2(j.contains(key) && j[key].get<double>() > 0, key);
                QVERIFY(j["peak_rss_mb"].get<double>() > j["file_mb"].get<double>());
            }
        }
    }

    // --chat wraps --text in the model's chat template, whose text (BOS included) is then
    // tokenized as given; info names the template.
    void chat_wraps_text_in_the_template() {
        QTemporaryDir dir;
        const std::string path = dir.filePath("chat").toStdString();
        const ps::test::DecoderSpec spec = ps::test::modern_decoder_specs().front();
        ps::test::write_hf_decoder(
            path, spec, ps::test::random_decoder_weights(spec, ps::test::decoder_vocab_size(), 1),
            "F32");
        std::ofstream(path + "/chat_template.jinja")
            << "{{ bos_token }}{% for m in messages %}<{{ m.role }}>{{ m.content }}{% endfor %}"
               "{% if add_generation_prompt %}<bot>{% endif %}";
        const std::string bos = ps::load_hf_tokenizer(path)->chat_template.bos_token;
        const QString m = QString::fromStdString(path);
        const json chat = run_json({"tokenize", m, "--text", "the cat", "--chat"});
        const json plain = run_json({"tokenize", m, "--no-bos", "--text",
                                     QString::fromStdString(bos + "<user>the cat<bot>")});
        QVERIFY(!chat["ids"].empty());
        QCOMPARE(chat["ids"], plain["ids"]);
        ps::test::CliResult info = run_cli({"info", m});
        QVERIFY2(info.out.contains("chat template: " + QByteArray::fromStdString(path) +
                                   "/chat_template.jinja (1 lines"),
                 info.out.constData());
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        ps::test::CliResult none =
            run_cli({"tokenize", QString::fromStdString(model), "--text", "a", "--chat"});
        QCOMPARE(none.exit_code, 1);
        QVERIFY2(none.err.contains("no chat template"), none.err.constData());
        ps::test::CliResult ids = run_cli({"tokenize", m, "--ids", "1", "--chat"});
        QVERIFY2(ids.err.contains("--chat wraps --text"), ids.err.constData());
    }

    void errors_are_one_line_and_non_zero() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QString m = QString::fromStdString(model);
        QString long_ids = "1";
        for (int i = 0; i < 600; ++i) long_ids += ",5";
        const std::vector<ps::test::CliErrorCase> cases{
            {{"info", "/nonexistent/model.bin"}, "/nonexistent/model.bin: no such file"},
            {{"logits", m, "--text", "a", "--ids", "1"}, "exactly one of --text"},
            {{"logits", m, "--bogus"}, "unknown option '--bogus'"},
            {{"logits", m, "--ids", "1,x"}, "--ids expects a number"},
            {{"logits", m, "--ids", "1,9999"}, "outside the vocabulary"},
            {{"logits", m, "--ids", long_ids}, "context window is 512"},
            {{"dist", m, "--text", "a", "--top-p", "2"}, "--top-p must be in [0, 1]"},
            {{"trace", m, "--text", "a"}, "--out"},
            {{"info", m, "--tokenizer", "/nonexistent/tok.bin"}, "/nonexistent/tok.bin"},
        };
        ps::test::expect_cli_errors(cases);
    }
};

PARAMSCOPE_TEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
