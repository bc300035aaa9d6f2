// The sampler chain on the command line: dist --chain/--preset gives the engine's chain
// (p_final, kept, each stage's survivors with --stages), generate with a chain and a seed is
// reproducible, and a bad chain is one "error:" line naming the stage and the value.
#include <QtTest>
#include <cmath>
#include <nlohmann/json.hpp>

#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "core/sampling/chain.h"
#include "tests/support/cli_json.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

using nlohmann::json;
using ps::test::run_cli;
using ps::test::run_json;

namespace {

const char* kPrompt =
    "Once upon a time, there was a little girl named Lily. She went to the park. Lily";

}  // namespace

class TestCliChain : public QObject {
    Q_OBJECT
  private slots:
    void dist_with_a_chain_is_the_engines() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QString m = QString::fromStdString(model);
        const json d = run_json({"dist", m, "--text", kPrompt, "--all", "--preset", "llamacpp",
                                 "--repeat-penalty", "1.3", "--chain",
                                 "penalties,top_k,top_p,temperature", "--stages"});
        QVERIFY(!d.is_null());
        auto engine = ps::load_model(model);
        const std::vector<int> ids = run_json({"tokenize", m, "--text", kPrompt})["ids"];
        const ps::Trace t = ps::forward(*engine, ids);
        const int V = engine->config.vocab_size;
        ps::ChainSettings s = ps::llamacpp_chain();
        s.repeat_penalty = 1.3f;
        s.stages = {ps::Stage::Penalties, ps::Stage::TopK, ps::Stage::TopP, ps::Stage::Temperature};
        ps::ChainRandom random(42);
        const ps::ChainResult r =
            ps::apply_chain(t.logits.data() + (t.logits.rows() - 1) * V, V, ids, s, random);
        QCOMPARE(d["kept"].get<int>(), int(r.ranked.size()));
        QCOMPARE(d["tokens"].size(), size_t(V));
        for (const json& tok : d["tokens"]) {
            const int id = tok["id"];
            QVERIFY(std::abs(tok["p_final"].get<double>() - r.p_final[size_t(id)]) < 1e-6);
            QCOMPARE(tok["removed_by"].is_null(), r.p_final[size_t(id)] > 0);
        }
        QCOMPARE(d["stages"].size(), size_t(4));
        for (size_t i = 0; i < 4; ++i) {
            QCOMPARE(d["stages"][i]["name"].get<std::string>(),
                     std::string(ps::stage_name(r.stages[i].stage)));
            QCOMPARE(d["stages"][i]["kept"].get<int>(), r.stages[i].kept);
            QCOMPARE(d["stages"][i]["removed"].get<std::vector<int>>(), r.stages[i].removed);
        }
        QVERIFY(!d["stages"][0]["changed"].empty());  // the prompt's tokens were penalized
        QVERIFY(r.stages[1].kept == 40);
    }

    void generate_with_a_chain_is_reproducible() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QString m = QString::fromStdString(model);
        const QStringList args = {"generate",          m,     "--text",   "Once upon a time",
                                  "--steps",           "24",  "--preset", "llamacpp",
                                  "--xtc-probability", "0.5", "--seed",   "7"};
        const json a = run_json(args), b = run_json(args);
        QVERIFY(!a.is_null());
        QCOMPARE(a["ids"], b["ids"]);
        QVERIFY(a["ids"].size() > 5);
    }

    void bad_chains_are_named() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QString m = QString::fromStdString(model);
        const std::vector<ps::test::CliErrorCase> cases{
            {{"dist", m, "--text", "a", "--chain", "top_k,top_q"}, "unknown stage 'top_q'"},
            {{"dist", m, "--text", "a", "--chain", "top_k,top_k"}, "'top_k' is named twice"},
            {{"dist", m, "--text", "a", "--preset", "hf", "--typical-p", "1.5"}, "typical"},
            {{"dist", m, "--text", "a", "--preset", "llamacpp", "--dry-base", "0.5"},
             "base must be >= 1"},
            {{"dist", m, "--text", "a", "--preset", "llamacpp", "--penalty-last-n", "-3"}, "-3"},
            {{"dist", m, "--text", "a", "--repeat-penalty", "1.2"}, "--chain"},
            {{"dist", m, "--text", "a", "--preset", "vllm"}, "--preset"},
            {{"dist", m, "--text", "a", "--stages"}, "--stages needs"},
        };
        ps::test::expect_cli_errors(cases);
    }
};

PARAMSCOPE_TEST_GUILESS_MAIN(TestCliChain)
#include "test_cli_chain.moc"
