// The command line's interventions: --intervene on logits, dist and trace gives the engine's
// own intervened numbers, paramscope importance agrees with one ablation run per head, and a
// wrong spec is one "error:" line naming the part that is wrong.
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <map>
#include <nlohmann/json.hpp>

#include "core/analysis/importance.h"
#include "core/analysis/sweep.h"
#include "core/formats/loader.h"
#include "core/formats/safetensors.h"
#include "core/model/forward.h"
#include "core/model/intervention.h"
#include "core/model/weight_edit.h"
#include "tests/support/cli_json.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

using nlohmann::json;
using ps::test::run_cli;
using ps::test::run_json;

namespace {

// The prompt whose next token head 1.6 (the previous-token head) decides (README "Interventions").
const char* kPrompt =
    "Once upon a time, there was a little girl named Lily. She went to the park. Lily";

// Row `r` of a trace's logits.
const float* row_of(const ps::Trace& t, Eigen::Index r) {
    return t.logits.data() + r * t.logits.cols();
}

std::vector<float> last_logits(const json& j) {
    return j["logits"].back().get<std::vector<float>>();
}

}  // namespace

class TestCliInterventions : public QObject {
    Q_OBJECT

  private slots:
    // The CLI's ablated logits are the engine's (to 1e-4: the CLI computes the last position
    // only, another order of the same sums) and differ from the plain run's.
    void logits_with_an_ablated_head_are_the_engines() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QString m = QString::fromStdString(model);
        const json plain = run_json({"logits", m, "--text", kPrompt});
        const json ablated = run_json(
            {"logits", m, "--text", kPrompt, "--intervene", "ablate:blocks.1.attn.hook_z:6"});
        QVERIFY(!plain.is_null() && !ablated.is_null());
        const std::vector<int> ids = ablated["ids"].get<std::vector<int>>();
        auto engine = ps::load_model(model);
        const ps::Interventions ivs{
            ps::parse_intervention("ablate:blocks.1.attn.hook_z:6", engine->config)};
        const ps::Trace trace = ps::forward(*engine, ids, ps::TraceOptions(), nullptr, ivs);
        const std::vector<float> got = last_logits(ablated), base = last_logits(plain);
        QCOMPARE(got.size(), size_t(engine->config.vocab_size));
        double changed = 0;
        for (size_t v = 0; v < got.size(); ++v) {
            QVERIFY(std::abs(got[v] - trace.logits(trace.logits.rows() - 1, Eigen::Index(v))) <
                    1e-4);
            changed = std::max(changed, double(std::abs(got[v] - base[v])));
        }
        QVERIFY2(changed > 0.1, qPrintable(QString::number(changed)));
    }

    // A weight edit on the command line is the engine's edited model; the file stays the same.
    void weight_edit_matches_the_engine() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QString m = QString::fromStdString(model);
        std::shared_ptr<const ps::Model> engine = ps::load_model(model);
        const std::string tensor = engine->tensors.front().name;  // the embedding, in any file
        const std::string spec = "weight:" + tensor + "[403,:]=0";
        const json edited = run_json(
            {"logits", m, "--ids", "1,403,407", "--intervene", QString::fromStdString(spec)});
        QVERIFY(!edited.is_null());
        auto changed = ps::edit_weights(engine, {ps::parse_weight_edit(spec, *engine)});
        const ps::Trace want = ps::forward(*changed, {1, 403, 407});
        const ps::Trace plain = ps::forward(*engine, {1, 403, 407});
        const std::vector<float> got = last_logits(edited);
        double moved = 0;
        for (size_t v = 0; v < got.size(); ++v) {
            QVERIFY(std::abs(got[v] - want.logits(2, Eigen::Index(v))) < 1e-4);
            moved = std::max(moved, double(std::abs(got[v] - plain.logits(2, Eigen::Index(v)))));
        }
        QVERIFY(moved > 1e-3);
    }

    // dist with an intervention: the distribution the engine gives, summing to 1.
    void dist_with_an_intervention() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QString m = QString::fromStdString(model);
        const json d = run_json({"dist", m, "--text", kPrompt, "--all", "--intervene",
                                 "scale:blocks.4.mlp.hook_post:163=4"});
        QVERIFY(!d.is_null());
        auto engine = ps::load_model(model);
        const std::vector<int> ids = run_json({"tokenize", m, "--text", kPrompt})["ids"];
        const ps::Trace trace = ps::forward(
            *engine, ids, ps::TraceOptions(), nullptr,
            {ps::parse_intervention("scale:blocks.4.mlp.hook_post:163=4", engine->config)});
        const Eigen::Index last = trace.logits.rows() - 1;
        double sum = 0;
        for (const json& t : d["tokens"]) {
            const double p = t["p_raw"].get<double>();
            sum += p;
            const double want =
                ps::probability_of(row_of(trace, last), engine->config.vocab_size, t["id"]);
            QVERIFY2(std::abs(p - want) < 1e-6, qPrintable(QString::number(p - want)));
        }
        QVERIFY(std::abs(sum - 1) < 1e-5);

        // The effect read-out: KL(before || after) from the two runs' probabilities.
        const json plain = run_json({"dist", m, "--text", kPrompt, "--all"});
        std::map<int, double> after;
        for (const json& t : d["tokens"]) after[t["id"]] = t["p_raw"].get<double>();
        double kl = 0;
        for (const json& t : plain["tokens"]) {
            const double p = t["p_raw"].get<double>();
            if (p > 0) kl += p * std::log(p / after.at(t["id"]));
        }
        const json& e = d["intervention"];
        QVERIFY2(std::abs(e["kl_divergence"].get<double>() - kl) < 1e-5 * std::max(1.0, kl),
                 qPrintable(QString("%1 vs %2").arg(e["kl_divergence"].get<double>()).arg(kl)));
        QVERIFY(kl > 1e-4);
        QCOMPARE(e["argmax_before"].get<int>(), plain["tokens"][0]["id"].get<int>());
        QCOMPARE(e["argmax_after"].get<int>(), d["tokens"][0]["id"].get<int>());
        QCOMPARE(e["changes"].size(), size_t{10});
        QVERIFY(plain.find("intervention") == plain.end());
    }

    // importance: one delta per head, each the drop one ablation run gives; the baseline is the
    // plain run's probability of the model's top token.
    void importance_agrees_with_single_ablations() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QString m = QString::fromStdString(model);
        const json j = run_json({"importance", m, "--text", kPrompt});
        QVERIFY(!j.is_null());
        auto engine = ps::load_model(model);
        const ps::Config& c = engine->config;
        QCOMPARE(j["heads"].size(), size_t(c.n_layers));
        const std::vector<int> ids = j["ids"].get<std::vector<int>>();
        const int target = j["target_id"];
        const ps::Trace plain = ps::forward(*engine, ids);
        const Eigen::Index last = plain.logits.rows() - 1;
        Eigen::Index top = 0;
        plain.logits.row(last).maxCoeff(&top);
        QCOMPARE(target, int(top));
        const double p0 = ps::probability_of(row_of(plain, last), c.vocab_size, target);
        QVERIFY(std::abs(j["baseline_p"].get<double>() - p0) < 1e-6);
        QCOMPARE(QString::fromStdString(j["target_piece"]),
                 QString::fromStdString(engine->tokenizer->piece(target)));
        for (int l = 0; l < c.n_layers; ++l) {
            QCOMPARE(j["heads"][size_t(l)].size(), size_t(c.n_heads));
            for (int h : {0, c.n_heads - 1, l == 1 ? 6 : 3}) {
                const std::string spec =
                    "ablate:blocks." + std::to_string(l) + ".attn.hook_z:" + std::to_string(h);
                const ps::Trace t = ps::forward(*engine, ids, ps::TraceOptions(), nullptr,
                                                {ps::parse_intervention(spec, c)});
                const double want = p0 - ps::probability_of(row_of(t, last), c.vocab_size, target);
                const double got = j["heads"][size_t(l)][size_t(h)].get<double>();
                QVERIFY2(std::abs(got - want) < 1e-5, spec.c_str());
            }
        }
        // The previous-token head matters for repeating "Lily": its ablation costs the most.
        double best = -1;
        int best_l = -1, best_h = -1;
        for (int l = 0; l < c.n_layers; ++l)
            for (int h = 0; h < c.n_heads; ++h)
                if (j["heads"][size_t(l)][size_t(h)].get<double>() > best)
                    best = j["heads"][size_t(l)][size_t(h)], best_l = l, best_h = h;
        QVERIFY2(best > 0.05, qPrintable(QString("%1 at %2.%3").arg(best).arg(best_l).arg(best_h)));
    }

    // The trace file records what was changed, in the --intervene forms.
    // paramscope sweep is the engine's scale_sweep: the same factors, tokens and probabilities,
    // with the user's other interventions kept on.
    void sweep_is_the_engines() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QString m = QString::fromStdString(model);
        const json cli = run_json({"sweep", m, "--text", kPrompt, "--component",
                                   "blocks.1.attn.hook_z:6", "--steps", "5", "--target", "saw",
                                   "--intervene", "ablate:blocks.2.mlp.hook_post:3"});
        QVERIFY(!cli.is_null());
        auto engine = ps::load_model(model);
        const ps::ScaleSweep sw = ps::scale_sweep(
            *engine, cli["ids"].get<std::vector<int>>(),
            ps::parse_intervention("ablate:blocks.1.attn.hook_z:6", engine->config),
            ps::factor_range(0, 2, 5), {engine->tokenizer->encode("saw")[0]},
            {ps::parse_intervention("ablate:blocks.2.mlp.hook_post:3", engine->config)});
        QCOMPARE(cli["factors"].get<std::vector<float>>(), sw.factors);
        QCOMPARE(cli["targets"].size(), size_t(1));
        QCOMPARE(cli["targets"][0]["id"].get<int>(), sw.targets[0]);
        QCOMPARE(cli["targets"][0]["piece"].get<std::string>(), std::string("\u2581saw"));
        const std::vector<float> p = cli["targets"][0]["p"].get<std::vector<float>>();
        for (size_t f = 0; f < p.size(); ++f) QVERIFY(std::abs(p[f] - sw.p[0][f]) < 1e-6);
        QVERIFY(std::abs(p.front() - p.back()) > 1e-3);  // the dial moves the token
    }

    void trace_records_the_interventions() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        QTemporaryDir dir;
        const QString out = dir.filePath("t.safetensors");
        const json j = run_json({"trace", QString::fromStdString(model), "--text", "Once upon",
                                 "--out", out, "--intervene", "ablate:blocks.1.attn.hook_z:6",
                                 "--intervene", "scale:blocks.0.mlp.hook_post:5=2"});
        QVERIFY(!j.is_null());
        ps::SafetensorsFile file(out.toStdString());
        const auto it = file.metadata().find("interventions");
        QVERIFY(it != file.metadata().end());
        QCOMPARE(QString::fromStdString(it->second),
                 QString("ablate:blocks.1.attn.hook_z:6\nscale:blocks.0.mlp.hook_post:5=2\n"));
    }

    void errors_name_the_part() {
        PS_REQUIRE_SHARED(model, "models/stories260K/stories260K.bin");
        const QString m = QString::fromStdString(model);
        const std::vector<ps::test::CliErrorCase> cases{
            {{"logits", m, "--text", "a", "--intervene", "ablate:blocks.9.attn.hook_z:0"},
             "layer 9"},
            {{"logits", m, "--text", "a", "--intervene", "ablate:blocks.1.attn.hook_z:99"},
             "head 99"},
            {{"logits", m, "--text", "a", "--intervene", "melt:blocks.1.attn.hook_z:0"}, "melt"},
            {{"logits", m, "--text", "a", "--intervene", "patch:blocks.1.hook_resid_pre"},
             "--source-text"},
            {{"logits", m, "--text", "a", "--intervene", "steer:blocks.1.hook_resid_pre=2"},
             "--steer-plus"},
            {{"logits", m, "--text", "a", "--intervene", "weight:nonexistent.weight=0"},
             "nonexistent.weight"},
            {{"importance", m, "--text", "a", "--target-id", "99999"}, "outside the vocabulary"},
            {{"importance", m, "--text", "a", "--target", "once upon"}, "give one token"},
            {{"sweep", m, "--text", "a"}, "--component"},
            {{"sweep", m, "--text", "a", "--component", "blocks.1.attn.hook_z:99"}, "head 99"},
            {{"sweep", m, "--text", "a", "--component", "blocks.1.hook_resid_pre"},
             "hook_resid_pre"},
            {{"sweep", m, "--text", "a", "--component", "blocks.1.hook_mlp_out", "--steps", "1"},
             "2 to 1000 steps"},
        };
        ps::test::expect_cli_errors(cases);
    }
};

PARAMSCOPE_TEST_GUILESS_MAIN(TestCliInterventions)
#include "test_cli_interventions.moc"
