// Editing a parameter and patching a position from the window, on stories260K: the parameters
// view's menu zeroes a tensor (the distribution view then draws the CLI's `--intervene
// weight:...` run, the histogram shows the zeros, the Interventions dock lists the edit, undo
// restores the trained run exactly); a token chip's menu patches the residual stream there
// from another prompt, as `--intervene patch:... --source-text` does.
#include <QApplication>
#include <QInputDialog>
#include <QListWidget>
#include <QMenu>
#include <QTimer>
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
#include "views/distribution/distribution_chart.h"
#include "views/distribution/distribution_view.h"
#include "views/interventions/interventions_view.h"
#include "views/parameters/parameter_histogram.h"
#include "views/parameters/parameter_inventory.h"
#include "views/parameters/parameters_view.h"
#include "views/prompt/token_strip.h"

using namespace ps;
using nlohmann::json;
using ps::test::run_json;
using ps::test::settled;
using ps::test::trigger;

namespace {

const char* kPrompt =
    "Once upon a time, there was a little girl named Lily. She went to the park. Lily";

// The distribution view's top three bars are the CLI's tokens and p_final.
bool shows_cli(DistributionView* view, const json& cli) {
    for (int rank = 0; rank < 3; ++rank) {
        if (view->chart()->tokenAtBar(rank) != cli["tokens"][size_t(rank)]["id"].get<int>())
            return false;
        if (std::abs(view->chart()->finalBarValue(rank) -
                     cli["tokens"][size_t(rank)]["p_final"].get<double>()) > 1e-5)
            return false;
    }
    return true;
}

}  // namespace

class TestGuiWeightEdits : public QObject {
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

    void zeroing_a_tensor_from_the_parameters_view() {
        auto* parameters = qobject_cast<ParametersView*>(window_->view("parameters"));
        auto* distribution = qobject_cast<DistributionView*>(window_->view("distribution"));
        auto* interventions = qobject_cast<InterventionsView*>(window_->view("interventions"));
        QVERIFY(parameters && distribution && interventions);
        const std::string name = "layers.3.attention.wo.weight";
        int tensor = -1;
        const auto& tensors = session_->model()->tensors;
        for (size_t i = 0; i < tensors.size(); ++i)
            if (tensors[i].name == name) tensor = static_cast<int>(i);
        QVERIFY(tensor >= 0);
        const json plain = run_json({"dist", model_, "--text", kPrompt});
        QVERIFY(!plain.is_null());
        QVERIFY(shows_cli(distribution, plain));

        QVERIFY(trigger(parameters->editMenu(tensor), "zero-tensor"));
        QCOMPARE(session_->weightEdits().size(), size_t(1));
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_) && !session_->trace()->weight_edits.empty(),
                                 10000);
        QCOMPARE(session_->trace()->weight_edits[0], "weight:" + name + "[:,:]=0");
        QCOMPARE(interventions->list()->count(), 1);
        QCOMPARE(interventions->list()->item(0)->text(),
                 QString::fromStdString("weight " + name + "[:,:]=0"));
        const json cli = run_json({"dist", model_, "--text", kPrompt, "--intervene",
                                   QString::fromStdString("weight:" + name + "[:,:]=0")});
        QVERIFY(!cli.is_null());
        QVERIFY(shows_cli(distribution, cli));
        QVERIFY(cli["tokens"][0]["p_final"] != plain["tokens"][0]["p_final"]);
        QTRY_VERIFY_WITH_TIMEOUT(interventions->effect().has_value(), 10000);
        const double kl = cli["intervention"]["kl_divergence"];
        QVERIFY(std::abs(interventions->effect()->kl_divergence - kl) < 1e-4 * std::max(1.0, kl));

        // The histogram of that tensor shows the edited values: all zero.
        parameters->inventory()->selectTensors({tensor});
        QTRY_VERIFY_WITH_TIMEOUT(parameters->histogram()->result(), 10000);
        const ValueStats& stats = parameters->histogram()->result()->stats[0];
        QCOMPARE(stats.count, int64_t(64 * 64));
        QCOMPARE(stats.min, 0.0);
        QCOMPARE(stats.max, 0.0);

        // Undo from the same menu: the trained run again, exactly.
        QVERIFY(trigger(parameters->editMenu(tensor), "undo-edits"));
        QCOMPARE(interventions->list()->count(), 0);
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_) && session_->trace()->weight_edits.empty(),
                                 10000);
        QVERIFY(session_->runModel() == session_->model());
        QVERIFY(shows_cli(distribution, plain));
        // The file's weights were never written.
        QTRY_VERIFY_WITH_TIMEOUT(parameters->histogram()->result(), 10000);
        QVERIFY(parameters->histogram()->result()->stats[0].max > 0.0);
    }

    void patching_from_a_token_chip() {
        auto* strip = window_->findChild<TokenStrip*>("tokens");
        auto* distribution = qobject_cast<DistributionView*>(window_->view("distribution"));
        QVERIFY(strip && distribution);
        const QString source =
            "Once upon a time, there was a little boy named Tom. He went to the "
            "park. Tom";
        // The first position where the two prompts' tokens differ (" boy" for " girl"): patching
        // the stream entering layer 0 there swaps the word.
        const Tokenizer& tok = *session_->model()->tokenizer;
        const std::vector<int> a = tok.encode(kPrompt), b = tok.encode(source.toStdString());
        int position = 0;
        while (a[size_t(position)] == b[size_t(position)]) ++position;
        if (tok.add_bos && tok.bos_id >= 0) ++position;  // the prompt starts with BOS
        std::unique_ptr<QMenu> menu(strip->chipMenu(position));
        QMenu* patch = menu->findChild<QMenu*>("patch");
        QVERIFY(patch);
        QAction* layer0 = nullptr;
        for (QAction* a : patch->actions())
            if (a->objectName() == "patch-layer-0") layer0 = a;
        QVERIFY(layer0);
        // The action asks for the source prompt in a dialog: type it there and accept.
        QTimer::singleShot(0, [source] {
            auto* dialog = qobject_cast<QInputDialog*>(QApplication::activeModalWidget());
            QVERIFY(dialog);
            dialog->setTextValue(source);
            dialog->accept();
        });
        layer0->trigger();
        QTRY_VERIFY_WITH_TIMEOUT(session_->interventions().size() == 1 && settled(*session_),
                                 10000);
        QCOMPARE(QString::fromStdString(session_->interventions()[0].spec()),
                 QString("patch:blocks.0.hook_resid_pre@%1").arg(position));
        const json cli = run_json({"dist", model_, "--text", kPrompt, "--intervene",
                                   QString("patch:blocks.0.hook_resid_pre@%1").arg(position),
                                   "--source-text", source});
        QVERIFY(!cli.is_null());
        QTRY_VERIFY_WITH_TIMEOUT(shows_cli(distribution, cli), 10000);
        const json plain = run_json({"dist", model_, "--text", kPrompt});
        QVERIFY(cli["tokens"][0]["p_final"] != plain["tokens"][0]["p_final"]);
        session_->clearInterventions();
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiWeightEdits)
#include "test_gui_weight_edits.moc"
