// The sweep and the steering panel in the window, on stories260K: sweeping head 1.6 (from its
// buttons or a head's right-click menu) draws `paramscope sweep`'s probabilities, one line per
// token; a sweep can be cancelled and goes stale with the prompt; steering added from the panel
// runs the two prompts on the worker and the Interventions view's KL read-out is the CLI's for
// the same steer; a patch of the whole stream from the same prompt changes nothing; the
// lesson's "turn a dial" step silences the head `paramscope importance` ranks first.
#include <QAction>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QtTest>
#include <cmath>
#include <memory>

#include "app/gui/main_window.h"
#include "app/session/session.h"
#include "tests/support/cli_json.h"
#include "tests/support/gui_window.h"
#include "tests/support/menu_action.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "views/attention/attention_view.h"
#include "views/interventions/interventions_view.h"
#include "views/interventions/steering_panel.h"
#include "views/interventions/sweep_view.h"
#include "views/walk/guided_walk.h"
#include "views/widgets/custom_plot.h"

using namespace ps;
using nlohmann::json;
using ps::test::run_json;
using ps::test::settled;
using ps::test::trigger;

namespace {

const char* kPrompt =
    "Once upon a time, there was a little girl named Lily. She went to the park. Lily";

}  // namespace

class TestGuiSweepSteering : public QObject {
    Q_OBJECT
    std::unique_ptr<Session> session_;
    std::unique_ptr<MainWindow> window_;
    QString model_;

    // The plot's lines are the CLI's sweep of the same unit, token by token and step by step.
    void expect_cli_sweep(SweepView* view, const QString& unit) {
        const json cli = run_json({"sweep", model_, "--text", kPrompt, "--component", unit});
        QVERIFY(!cli.is_null());
        QCOMPARE(view->plot()->graphCount(), int(cli["targets"].size()));
        const std::vector<float> factors = cli["factors"].get<std::vector<float>>();
        for (int g = 0; g < view->plot()->graphCount(); ++g) {
            const auto data = view->plot()->graph(g)->data();
            const json& target = cli["targets"][size_t(g)];
            QCOMPARE(data->size(), int(factors.size()));
            QCOMPARE(session_->sweep()->targets[size_t(g)], target["id"].get<int>());
            for (int f = 0; f < data->size(); ++f) {
                QCOMPARE(float(data->at(f)->key), factors[size_t(f)]);
                QVERIFY(std::abs(data->at(f)->value - target["p"][size_t(f)].get<double>()) < 1e-4);
            }
        }
    }

  private slots:
    void initTestCase() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        model_ = QString::fromStdString(bin);
        QVERIFY(ps::test::open_main_window(session_, window_, QSize(1280, 720), kPrompt, model_));
    }

    void sweeping_head_1_6_draws_the_clis_sweep() {
        auto* view = qobject_cast<SweepView*>(window_->view("sweep"));
        QVERIFY(view);
        session_->selectHead(1, 6);
        QCOMPARE(view->headButton()->text(), QString("Sweep head 1.6"));
        view->headButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(!session_->sweepRunning() && session_->sweep(), 10000);
        expect_cli_sweep(view, "blocks.1.attn.hook_z:6");
        QVERIFY(view->title()->text().contains("head 1.6"));
        // Silencing the head costs " lo" probability; doubling it adds some (the lines move).
        const auto top = view->plot()->graph(0)->data();
        QVERIFY(top->at(0)->value < top->at(top->size() - 1)->value - 0.05);
    }

    void a_heads_menu_sweeps_it() {
        auto* attention = qobject_cast<AttentionView*>(window_->view("attention"));
        auto* view = qobject_cast<SweepView*>(window_->view("sweep"));
        QVERIFY(attention && view);
        QVERIFY(trigger(attention->headMenu(0, 2), "sweep"));
        QVERIFY(session_->sweepRunning() || session_->sweep());
        QTRY_VERIFY_WITH_TIMEOUT(!session_->sweepRunning() && session_->sweep(), 10000);
        QCOMPARE(session_->sweepComponent()->layer, 0);
        QCOMPARE(session_->sweepComponent()->unit, 2);
        expect_cli_sweep(view, "blocks.0.attn.hook_z:2");
    }

    void a_sweep_is_cancelled_and_goes_stale() {
        QVERIFY(session_->sweep());
        session_->setPrompt(QString(kPrompt) + " and");
        QVERIFY(!session_->sweep());  // a new prompt: the old lines no longer apply
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
        Intervention unit;
        unit.hook = Hook::MlpPost;
        unit.layer = 2;
        unit.unit = 5;
        session_->computeSweep(unit, {}, 41);
        QSignalSpy ready(session_.get(), &Session::sweepReady);
        session_->cancelSweep();
        // The worker stops at its next step and says so; the cancelled result is never shown.
        QTRY_VERIFY_WITH_TIMEOUT(!session_->sweepRunning(), 10000);
        QVERIFY(ready.count() >= 2);
        QVERIFY(!session_->sweep());
        session_->setPrompt(kPrompt);
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
    }

    void steering_from_the_panel_is_the_clis() {
        auto* panel = qobject_cast<SteeringPanel*>(window_->view("steering"));
        auto* interventions = qobject_cast<InterventionsView*>(window_->view("interventions"));
        QVERIFY(panel && interventions);
        QCOMPARE(panel->layer()->maximum(), session_->model()->config.n_layers - 1);
        panel->plus()->setText(" happy");
        panel->minus()->setText(" sad");
        panel->layer()->setValue(2);
        panel->alpha()->setValue(3);
        panel->addButton()->click();
        QTRY_VERIFY_WITH_TIMEOUT(!session_->preparingIntervention() &&
                                     session_->interventions().size() == 1 && settled(*session_) &&
                                     interventions->effect(),
                                 10000);
        const Intervention& steer = session_->interventions().front();
        QCOMPARE(steer.action, Intervention::Action::Steer);
        QCOMPARE(QString::fromStdString(steer.spec()), QString("steer:blocks.2.hook_resid_pre=3"));
        const json cli = run_json({"dist", model_, "--text", kPrompt, "--intervene",
                                   "steer:blocks.2.hook_resid_pre=3", "--steer-plus", " happy",
                                   "--steer-minus", " sad"});
        QVERIFY(!cli.is_null());
        const double kl = cli["intervention"]["kl_divergence"];
        QVERIFY2(kl > 0.01, qPrintable(QString::number(kl)));
        QVERIFY2(std::abs(interventions->effect()->kl_divergence - kl) < 1e-4 * std::max(1.0, kl),
                 qPrintable(QString::number(interventions->effect()->kl_divergence)));
        QCOMPARE(interventions->effect()->argmax_after,
                 cli["intervention"]["argmax_after"].get<int>());
        session_->clearInterventions();
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
    }

    // The whole stream entering layer 0, patched from a run of the same prompt: nothing moves.
    void patching_from_the_same_prompt_changes_nothing() {
        const std::vector<float> plain(
            session_->logitsAt(session_->position()),
            session_->logitsAt(session_->position()) + session_->model()->config.vocab_size);
        session_->addPatch(
            parse_intervention("patch:blocks.0.hook_resid_pre", session_->model()->config),
            kPrompt);
        QTRY_VERIFY_WITH_TIMEOUT(!session_->preparingIntervention() &&
                                     session_->interventions().size() == 1 && settled(*session_),
                                 10000);
        QVERIFY(session_->interventions().front().values);
        const float* patched = session_->logitsAt(session_->position());
        for (size_t v = 0; v < plain.size(); ++v) QCOMPARE(patched[v], plain[v]);
        session_->clearInterventions();
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
    }

    // The lesson's last step silences the head `paramscope importance` ranks first, says what
    // that does with the Interventions view's numbers, and gives the user's list back when left.
    void the_turn_a_dial_step_silences_the_most_important_head() {
        const json cli = run_json({"importance", model_, "--text", kPrompt});
        QVERIFY(!cli.is_null());
        int best_layer = 0, best_head = 0;
        double best = -1;
        for (size_t l = 0; l < cli["heads"].size(); ++l)
            for (size_t h = 0; h < cli["heads"][l].size(); ++h)
                if (cli["heads"][l][h].get<double>() > best) {
                    best = cli["heads"][l][h];
                    best_layer = int(l);
                    best_head = int(h);
                }
        session_->addIntervention(
            parse_intervention("scale:blocks.0.mlp.hook_post:1=0.5", session_->model()->config));
        const Interventions mine = session_->interventions();
        GuidedWalk* walk = window_->walk();
        walk->setLesson(true);
        walk->go(walk->stepCount() - 1);
        QCOMPARE(walk->currentStep()->kind, WalkStepKind::TurnDial);
        QTRY_VERIFY_WITH_TIMEOUT(session_->interventions().size() == 2 && settled(*session_) &&
                                     walk->numbersText().contains("KL divergence"),
                                 20000);
        const Intervention& silenced = session_->interventions().back();
        QCOMPARE(silenced.layer, best_layer);
        QCOMPARE(silenced.unit, best_head);
        QCOMPARE(silenced.factor, 0.0f);
        QVERIFY(walk->numbersText().contains(QString("%1.%2").arg(best_layer).arg(best_head)));
        auto* interventions = qobject_cast<InterventionsView*>(window_->view("interventions"));
        QTRY_VERIFY_WITH_TIMEOUT(interventions->effect(), 10000);
        QVERIFY(walk->numbersText().contains(
            QString::number(interventions->effect()->kl_divergence, 'g', 4)));
        walk->back();
        QCOMPARE(session_->interventions().size(), mine.size());
        QVERIFY(session_->interventions().front().same_as(mine.front()));
        walk->setLesson(false);
        session_->clearInterventions();
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiSweepSteering)
#include "test_gui_sweep_steering.moc"
