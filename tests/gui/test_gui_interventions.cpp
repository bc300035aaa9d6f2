// Turning a dial in the window, on stories260K: head 1.6 ablated from the attention view's
// right-click menu changes what the distribution view draws to the intervened distribution,
// and the Interventions view's KL read-out is the CLI's for the same spec; its importance grid
// holds `paramscope importance`'s numbers, cell by cell; a neuron's menu scales it; the view
// is readable at 1280x720.
#include <QAction>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QPushButton>
#include <QtTest>
#include <cmath>
#include <memory>

#include "app/gui/main_window.h"
#include "app/session/session.h"
#include "core/sampling/sampling.h"
#include "tests/support/cli_json.h"
#include "tests/support/gui_window.h"
#include "tests/support/menu_action.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "views/attention/attention_view.h"
#include "views/distribution/distribution_chart.h"
#include "views/distribution/distribution_view.h"
#include "views/interventions/importance_chart.h"
#include "views/interventions/interventions_view.h"
#include "views/layers/neurons_view.h"

using namespace ps;
using nlohmann::json;
using ps::test::run_json;
using ps::test::settled;
using ps::test::trigger;

namespace {

const char* kPrompt =
    "Once upon a time, there was a little girl named Lily. She went to the park. Lily";

}  // namespace

class TestGuiInterventions : public QObject {
    Q_OBJECT
    std::unique_ptr<Session> session_;
    std::unique_ptr<MainWindow> window_;
    QString model_;

  private slots:
    void initTestCase() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        model_ = QString::fromStdString(bin);
        QVERIFY(ps::test::open_main_window(session_, window_, QSize(1280, 720), kPrompt, model_));
    }

    void ablating_head_1_6_from_the_attention_view() {
        auto* attention = qobject_cast<AttentionView*>(window_->view("attention"));
        auto* interventions = qobject_cast<InterventionsView*>(window_->view("interventions"));
        auto* distribution = qobject_cast<DistributionView*>(window_->view("distribution"));
        QVERIFY(attention && interventions && distribution);
        const int top_before = distribution->chart()->tokenAtBar(0);
        QVERIFY(trigger(attention->headMenu(1, 6), "ablate"));
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_) && interventions->effect(), 10000);
        QCOMPARE(interventions->list()->count(), 1);
        QCOMPARE(interventions->list()->item(0)->text(), QString("head 1.6 ablated"));

        // The distribution view draws the intervened run: the CLI's top tokens and p_final.
        const json cli = run_json(
            {"dist", model_, "--text", kPrompt, "--intervene", "ablate:blocks.1.attn.hook_z:6"});
        QVERIFY(!cli.is_null());
        for (int rank = 0; rank < 3; ++rank) {
            QCOMPARE(distribution->chart()->tokenAtBar(rank),
                     cli["tokens"][size_t(rank)]["id"].get<int>());
            QVERIFY(std::abs(distribution->chart()->finalBarValue(rank) -
                             cli["tokens"][size_t(rank)]["p_final"].get<double>()) < 1e-5);
        }
        QVERIFY(distribution->chart()->tokenAtBar(0) != top_before);  // " lo" -> " saw"

        const double kl = cli["intervention"]["kl_divergence"];
        QVERIFY2(std::abs(interventions->effect()->kl_divergence - kl) < 1e-4 * std::max(1.0, kl),
                 qPrintable(QString::number(interventions->effect()->kl_divergence)));
        QVERIFY(interventions->effectLabel()->text().contains(
            QString::number(interventions->effect()->kl_divergence, 'g', 4)));
        QVERIFY(interventions->effectLabel()->text().contains("changes"));
        // Ghost and intervened bars: the two runs' probabilities of the same tokens.
        const std::vector<double> before = interventions->barValues(false);
        const std::vector<double> after = interventions->barValues(true);
        QCOMPARE(before.size(), after.size());
        QVERIFY(std::abs(after[0] - cli["intervention"]["changes"][0]["p_after"].get<double>()) <
                1e-5);

        // Unticked: the model as trained again, the read-out says so.
        interventions->list()->item(0)->setCheckState(Qt::Unchecked);
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_) && !interventions->effect(), 10000);
        QCOMPARE(distribution->chart()->tokenAtBar(0), top_before);
        // Restore from the same menu removes it.
        QVERIFY(trigger(attention->headMenu(1, 6), "restore"));
        QCOMPARE(interventions->list()->count(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
    }

    void a_neuron_is_scaled_from_the_neurons_view() {
        auto* neurons = qobject_cast<NeuronsView*>(window_->view("neurons"));
        QVERIFY(neurons && !neurons->bars().empty());
        const int neuron = neurons->bars()[0].neuron, layer = session_->layer();
        QVERIFY(trigger(neurons->neuronMenu(neuron), "scale-double"));
        QCOMPARE(session_->interventions().size(), size_t{1});
        const Intervention& iv = session_->interventions()[0];
        QVERIFY(iv.hook == Hook::MlpPost && iv.layer == layer && iv.unit == neuron &&
                iv.factor == 2.0f);
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
        // The neuron's bar shows the doubled activation of the intervened trace.
        const float shown =
            session_->trace()->layers[size_t(layer)].mlp_post(session_->position(), neuron);
        QCOMPARE(neurons->bars()[0].neuron, neuron);
        QVERIFY(std::abs(neurons->bars()[0].activation - shown) < 1e-6);
        session_->clearInterventions();
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
    }

    void the_importance_grid_is_the_clis() {
        auto* interventions = qobject_cast<InterventionsView*>(window_->view("interventions"));
        QVERIFY(interventions);
        QTest::mouseClick(interventions->sweepButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(session_->importance().has_value(), 30000);
        const json cli = run_json({"importance", model_, "--text", kPrompt});
        QVERIFY(!cli.is_null());
        const ImportanceChart* chart = interventions->importanceChart();
        for (size_t l = 0; l < cli["heads"].size(); ++l)
            for (size_t h = 0; h < cli["heads"][l].size(); ++h)
                QVERIFY(std::abs(chart->cellValue(int(l), int(h)) -
                                 cli["heads"][l][h].get<double>()) < 1e-5);
        QVERIFY(std::isnan(chart->cellValue(5, 0)));
        // A click on a cell selects that head in every view.
        QTest::mouseClick(const_cast<ImportanceChart*>(chart), Qt::LeftButton, {},
                          chart->headCenter(1, 6));
        QCOMPARE(session_->layer(), 1);
        QCOMPARE(session_->head(), 6);
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiInterventions)
#include "test_gui_interventions.moc"
