// The Session's interventions on stories260K: an ablated head changes the analysis the views
// read, the plain run stays beside it for the before/after read-out, whose KL divergence is the
// CLI's for the same spec; the importance sweep runs on the worker, reports progress, equals
// `paramscope importance` cell by cell, and is dropped when the prompt changes.
#include <QSignalSpy>
#include <QtTest>
#include <cmath>
#include <nlohmann/json.hpp>

#include "app/session/session.h"
#include "core/analysis/intervention_effect.h"
#include "tests/support/cli_json.h"
#include "tests/support/gui_session.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

using namespace ps;
using nlohmann::json;
using ps::test::run_json;
using ps::test::settled;

namespace {

const char* kPrompt =
    "Once upon a time, there was a little girl named Lily. She went to the park. Lily";
const char* kAblate = "ablate:blocks.1.attn.hook_z:6";

}  // namespace

class TestGuiSessionInterventions : public QObject {
    Q_OBJECT
  private slots:
    void an_ablated_head_changes_the_analysis_and_the_kl_is_the_clis() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        Session s;
        s.setPrompt(kPrompt);
        QVERIFY(ps::test::open_and_wait(s, QString::fromStdString(bin)));
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 10000);
        const int last = s.position();
        const int vocab = s.model()->config.vocab_size;
        const std::vector<float> plain(s.logitsAt(last), s.logitsAt(last) + vocab);
        QVERIFY(!s.baselineLogitsAt(last));  // nothing to compare with yet

        QSignalSpy changed(&s, &Session::interventionsChanged);
        s.addIntervention(parse_intervention(kAblate, s.model()->config));
        QCOMPARE(changed.count(), 1);
        QCOMPARE(s.findIntervention(Hook::AttnZ, 1, 6), 0);
        QTRY_VERIFY_WITH_TIMEOUT(settled(s) && s.baselineLogitsAt(last), 10000);
        QCOMPARE(s.trace()->interventions.size(), size_t{1});
        // The plain run beside it is the earlier analysis; the trace is the ablated one.
        for (int v = 0; v < vocab; ++v) QCOMPARE(s.baselineLogitsAt(last)[v], plain[size_t(v)]);
        const InterventionEffect e =
            intervention_effect(s.baselineLogitsAt(last), s.logitsAt(last), vocab);
        const json cli = run_json(
            {"dist", QString::fromStdString(bin), "--text", kPrompt, "--intervene", kAblate});
        QVERIFY(!cli.is_null());
        const double kl = cli["intervention"]["kl_divergence"];
        QVERIFY2(std::abs(e.kl_divergence - kl) < 1e-4 * std::max(1.0, kl),
                 qPrintable(QString("%1 vs %2").arg(e.kl_divergence).arg(kl)));
        QVERIFY(e.argmax_before != e.argmax_after);  // " lo" loses its lead to " saw"
        QCOMPARE(e.argmax_after, cli["tokens"][0]["id"].get<int>());
        QCOMPARE(s.distribution()->ranked[0], e.argmax_after);

        // Off again: the plain numbers come back and the comparison goes away.
        s.setInterventionEnabled(0, false);
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 10000);
        QVERIFY(!s.baselineLogitsAt(last));
        for (int v = 0; v < vocab; ++v)
            QVERIFY(std::abs(s.logitsAt(last)[v] - plain[size_t(v)]) < 1e-4);
        s.removeIntervention(0);
        QVERIFY(s.interventions().empty());
    }

    void importance_equals_the_clis_and_goes_stale() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        Session s;
        s.setPrompt(kPrompt);
        QVERIFY(ps::test::open_and_wait(s, QString::fromStdString(bin)));
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 10000);
        QSignalSpy progress(&s, &Session::importanceProgress);
        s.computeImportance();
        QVERIFY(s.importanceRunning());
        QTRY_VERIFY_WITH_TIMEOUT(s.importance().has_value(), 30000);
        QVERIFY(progress.count() > 0);
        const HeadImportance& hi = *s.importance();
        const json cli = run_json({"importance", QString::fromStdString(bin), "--text", kPrompt});
        QVERIFY(!cli.is_null());
        QCOMPARE(hi.target_id, cli["target_id"].get<int>());
        QCOMPARE(hi.delta.size(), cli["heads"].size());
        for (size_t l = 0; l < hi.delta.size(); ++l)
            for (size_t h = 0; h < hi.delta[l].size(); ++h)
                QVERIFY(std::abs(hi.delta[l][h] - cli["heads"][l][h].get<double>()) < 1e-5);

        s.setPrompt(QString(kPrompt) + " and");
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 10000);
        QVERIFY(!s.importance().has_value());

        // A cancelled sweep leaves nothing behind.
        s.computeImportance();
        s.cancelImportance();
        QTRY_VERIFY_WITH_TIMEOUT(!s.importanceRunning(), 30000);
        QVERIFY(!s.importance().has_value());
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiSessionInterventions)
#include "test_gui_session_interventions.moc"
