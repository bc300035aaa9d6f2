// The parameters view: its totals agree with `paramscope info` and the configuration formula,
// the "all biases" histogram counts every bias, stats match a naive computation, the step
// slider shows the values of a training snapshot, and nearest tokens fill the table.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <fstream>

#include "app/session/session.h"
#include "core/analysis/param_stats.h"
#include "core/formats/safetensors.h"
#include "core/tensor/half.h"
#include "tests/support/hf_writer.h"
#include "tests/support/random_gpt2.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "views/parameters/parameter_histogram.h"
#include "views/parameters/parameter_inventory.h"
#include "views/parameters/parameters_view.h"
#include "views/widgets/plot_export.h"

using namespace ps;

namespace {

bool open_and_wait(Session& s, const std::string& path) {
    QSignalSpy changed(&s, &Session::modelChanged);
    s.openModel(QString::fromStdString(path));
    return changed.wait(30000);
}

// Waits until the histogram has finished the latest request.
bool histogram_ready(ParameterHistogram* h) {
    return QTest::qWaitFor([h] { return h->result() != nullptr; }, 20000);
}

}  // namespace

class TestGuiParameters : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    std::string gpt2_dir_;

  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
        QVERIFY(tmp_.isValid());
    }

    void totals_agree_with_info_and_formula() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        Session s;
        ParametersView view(&s);
        QVERIFY(open_and_wait(s, bin));
        const auto info = ps::test::run_cli({"info", QString::fromStdString(bin), "--json"});
        QCOMPARE(info.exit_code, 0);
        const QJsonObject by_kind = QJsonDocument::fromJson(info.out)
                                        .object()["parameters"]
                                        .toObject()["by_kind"]
                                        .toObject();
        for (const char* kind : {"embedding", "weight", "bias", "norm"})
            QCOMPARE(view.inventory()->shownTotal(kind),
                     static_cast<int64_t>(by_kind[kind].toInteger()));
        const int64_t total = view.inventory()->shownTotal("all");
        QCOMPARE(total, int64_t(QJsonDocument::fromJson(info.out)
                                    .object()["parameters"]
                                    .toObject()["total"]
                                    .toInteger()));
        QCOMPARE(total, parameter_formula(s.model()->config).value);
        QVERIFY(view.inventory()->formulaText().contains("✓"));
    }

    void all_biases_histogram_counts_every_bias() {
        PS_REQUIRE_SHARED(gpt2_tok, "tokenizers/gpt2-hf");
        ps::test::RandomGpt2 g;
        g.vocab = 50257;
        g.randomize(7);
        gpt2_dir_ = (tmp_.path() + "/gpt2").toStdString();
        ps::test::write_hf_model(gpt2_dir_, g.config(), g.hf_tensors(""));
        ps::test::copy_gpt2_tokenizer(gpt2_tok, gpt2_dir_);

        Session s;
        ParametersView view(&s);
        QVERIFY(open_and_wait(s, gpt2_dir_));
        const int64_t biases = s.model()->totals().bias;
        QVERIFY(biases > 0);
        QCOMPARE(view.inventory()->shownTotal("bias"), biases);

        view.inventory()->selectKind("bias", -1);
        QVERIFY(histogram_ready(view.histogram()));
        const auto* r = view.histogram()->result();
        QVERIFY(r->present[0]);
        QCOMPARE(r->histogram[0].total(), biases);
        QCOMPARE(r->histogram[0].outside, int64_t(0));
        QCOMPARE(r->stats[0].count, biases);

        // The mean of layer 1's biases, naively.
        view.inventory()->selectKind("bias", 1);
        QVERIFY(histogram_ready(view.histogram()));
        double sum = 0;
        int64_t n = 0;
        for (const TensorInfo& t : s.model()->tensors)
            if (t.kind == ParamKind::Bias && t.layer == 1)
                for (int64_t i = 0; i < t.count; ++i, ++n) sum += t.data[i];
        QCOMPARE(view.histogram()->result()->stats[0].count, n);
        QVERIFY(std::abs(view.histogram()->result()->stats[0].mean - sum / double(n)) < 1e-9);

        // Bins follow the spin box and still count everything; CSV has one row per bin.
        view.histogram()->setBins(17);
        QVERIFY(histogram_ready(view.histogram()));
        QCOMPARE(view.histogram()->result()->histogram[0].counts.size(), size_t(17));
        const QString csv = tmp_.path() + "/hist.csv";
        QVERIFY(view.histogram()->exportCsv(csv));
        QFile f(csv);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.filter(QRegularExpression("^[-0-9]")).size(), 17);
        const QString png = tmp_.path() + "/hist.png";
        QVERIFY(export_plot(view.histogram()->plot(), png));
        QVERIFY(QFileInfo(png).size() > 1000);
    }

    void step_slider_shows_snapshot_values() {
        if (gpt2_dir_.empty()) QSKIP("needs the model of the previous test");
        // A snapshot at step 0 holding every parameter halved, and a training log.
        Session s;
        QVERIFY(open_and_wait(s, gpt2_dir_));
        QDir(QString::fromStdString(gpt2_dir_)).mkpath("snapshots");
        std::vector<std::vector<uint16_t>> halves;
        std::vector<TensorToWrite> tensors;
        for (const TensorInfo& t : s.model()->tensors) {
            std::vector<uint16_t> h(static_cast<size_t>(t.count));
            for (int64_t i = 0; i < t.count; ++i) h[size_t(i)] = f32_to_f16(0.5f * t.data[i]);
            halves.push_back(std::move(h));
            tensors.push_back(
                {t.name, "F16", t.shape, halves.back().data(), uint64_t(t.count) * 2});
        }
        write_safetensors(gpt2_dir_ + "/snapshots/step_000000.safetensors", tensors);
        std::ofstream(gpt2_dir_ + "/training_log.csv")
            << "step,train_loss,val_loss,lr,grad_norm\n0,10.8,10.9,0,1.5\n1,10.1,,0.001,1.2\n";

        // Reopen so the view finds the history.
        ParametersView view(&s);
        QVERIFY(open_and_wait(s, gpt2_dir_));
        QCOMPARE(view.history().steps, std::vector<int>{0});
        QCOMPARE(view.history().log.size(), size_t(2));
        QVERIFY(std::isnan(view.history().log[1].val_loss));
        view.inventory()->selectKind("weight", 0);
        QVERIFY(histogram_ready(view.histogram()));
        const double trained_mean = view.histogram()->result()->stats[0].mean;
        const double trained_max = view.histogram()->result()->stats[0].max;
        view.showStep(0);
        QCOMPARE(view.shownStep(), 0);
        QVERIFY(histogram_ready(view.histogram()));
        const ValueStats& at0 = view.histogram()->result()->stats[0];
        QVERIFY(std::abs(at0.mean - 0.5 * trained_mean) < 1e-3 * std::abs(trained_max));
        QVERIFY(std::abs(at0.max - 0.5 * trained_max) <= 1e-3 * std::abs(trained_max));
        // Pin step 0 as B, go back to the trained values: both show, over one range.
        view.pinComparison();
        view.showStep(-1);
        QVERIFY(histogram_ready(view.histogram()));
        const auto* r = view.histogram()->result();
        QVERIFY(r->present[0] && r->present[1]);
        QCOMPARE(r->histogram[0].lo, r->histogram[1].lo);
        QCOMPARE(r->stats[1].count, r->stats[0].count);
    }

    void nearest_tokens_fill_the_table() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        Session s;
        ParametersView view(&s);
        QVERIFY(open_and_wait(s, bin));
        view.showNearest("#300");
        const auto expected = nearest_tokens(*s.model(), 300, 20);
        QCOMPARE(view.nearestTable()->rowCount(), 20);
        for (int r = 0; r < 20; ++r)
            QCOMPARE(view.nearestTable()->item(r, 1)->text().toInt(), expected[size_t(r)].first);
        // The map: the token, its 20 nearest and an even spread of the vocabulary, no repeats.
        QVERIFY(view.mapPointCount() > 21);
        QVERIFY(view.mapPointCount() <= 21 + 200);
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiParameters)
#include "test_gui_parameters.moc"
