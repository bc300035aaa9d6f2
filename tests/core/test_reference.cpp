// stories260K against what llama2.c's run.c and llama.cpp compute (../shared/reference):
// logits at every position of every reference prompt within 1e-4, the same prompt token ids,
// and the same greedy text, for the llama2.c checkpoint and for the GGUF conversion.
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

using ps::test::shared_path;

namespace {

struct ReferenceRun {
    std::vector<int> ids;                    // input token at each position
    std::vector<std::vector<float>> logits;  // next-token logits at each position
};

ReferenceRun read_reference_logits(const std::string& path) {
    ReferenceRun run;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        std::istringstream fields(line);
        int id;
        fields >> id;
        run.ids.push_back(id);
        std::vector<float> row;
        float v;
        while (fields >> v) row.push_back(v);
        run.logits.push_back(std::move(row));
    }
    return run;
}

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

}  // namespace

class TestReference : public QObject {
    Q_OBJECT

  private slots:
    void logits_match_data() {
        QTest::addColumn<QString>("model");
        QTest::addColumn<QString>("prompt");
        for (const char* model :
             {"models/stories260K/stories260K.bin", "models/stories260K/stories260K.gguf"})
            for (const char* prompt :
                 {"p1_once_upon_a_time", "p2_lily_ben", "greedy64_once_upon_a_time"})
                QTest::newRow((std::string(model).substr(19) + " " + prompt).c_str())
                    << model << prompt;
    }

    // Teacher-forced logits at every position match run.c's within 1e-4 (max abs), and the
    // prompt text tokenizes to the reference ids.
    void logits_match() {
        QFETCH(QString, model);
        QFETCH(QString, prompt);
        PS_REQUIRE_SHARED(model_path, model);
        PS_REQUIRE_SHARED(prompts_path, "reference/stories260K_prompts_tokens.json");
        nlohmann::json prompts = nlohmann::json::parse(read_file(prompts_path));
        nlohmann::json entry;
        for (const auto& p : prompts)
            if (p["name"] == prompt.toStdString()) entry = p;
        QVERIFY(!entry.is_null());
        PS_REQUIRE_SHARED(logits_path, "reference/" + QString::fromStdString(
                                                          entry["logits_file"].get<std::string>()));

        auto m = ps::load_model(model_path);
        ReferenceRun ref = read_reference_logits(logits_path);
        const std::vector<int> token_ids = entry["token_ids"].get<std::vector<int>>();
        QCOMPARE(ref.ids, token_ids);

        if (!prompt.startsWith("greedy")) {  // the greedy file's ids include the continuation
            std::vector<int> encoded = m->tokenizer->encode(entry["prompt"].get<std::string>());
            encoded.insert(encoded.begin(), m->tokenizer->bos_id);
            QCOMPARE(encoded, token_ids);
        }

        ps::Trace trace = ps::forward(*m, ref.ids);
        QCOMPARE(trace.logits.rows(), static_cast<Eigen::Index>(ref.ids.size()));
        QCOMPARE(trace.logits.cols(), Eigen::Index{512});
        double max_diff = 0;
        for (size_t t = 0; t < ref.ids.size(); ++t) {
            QCOMPARE(ref.logits[t].size(), size_t{512});
            for (int v = 0; v < 512; ++v)
                max_diff = std::max(max_diff, std::abs(double(trace.logits(Eigen::Index(t), v)) -
                                                       ref.logits[t][size_t(v)]));
        }
        qInfo("max |logit - run.c| = %.3g over %zu positions", max_diff, ref.ids.size());
        QVERIFY2(max_diff <= 1e-4, qPrintable(QString("max abs diff %1").arg(max_diff)));
    }

    void greedy_text_matches_runc_data() {
        QTest::addColumn<QString>("model");
        QTest::newRow("bin") << "models/stories260K/stories260K.bin";
        QTest::newRow("gguf") << "models/stories260K/stories260K.gguf";
    }

    // Greedy decoding of 60 tokens from "Once upon a time" reproduces run.c's text exactly: run.c
    // with 64 steps prints the prompt and the tokens predicted at positions 4..63.
    void greedy_text_matches_runc() {
        QFETCH(QString, model);
        PS_REQUIRE_SHARED(model_path, model);
        PS_REQUIRE_SHARED(text_path, "reference/stories260K_runc_greedy_n64_once_upon_a_time.txt");
        auto m = ps::load_model(model_path);
        std::vector<int> ids = m->tokenizer->encode("Once upon a time");
        ids.insert(ids.begin(), m->tokenizer->bos_id);
        QCOMPARE(ids.size(), size_t{5});
        while (ids.size() < 65) {
            ps::Trace trace = ps::forward(*m, ids, ps::TraceOptions::none());
            Eigen::Index next;
            trace.logits.row(0).maxCoeff(&next);
            ids.push_back(static_cast<int>(next));
        }
        // run.c prints a newline after the generated text.
        QCOMPARE(QString::fromStdString(m->tokenizer->decode(ids) + "\n"),
                 QString::fromStdString(read_file(text_path)));
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestReference)
#include "test_reference.moc"
