// The next-token distribution view on stories260K, driven through its widgets: the top-k
// slider, temperature 0, the token strip, exports, and the --screenshot command line.
#include <QComboBox>
#include <QDoubleSpinBox>
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QSignalSpy>
#include <QSlider>
#include <QTemporaryDir>
#include <QtTest>
#include <cmath>
#include <memory>

#include "app/gui/main_window.h"
#include "app/session/session.h"
#include "tests/support/gui_session.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "views/distribution/distribution_chart.h"
#include "views/distribution/distribution_view.h"
#include "views/distribution/sampling_controls.h"
#include "views/prompt/token_strip.h"
#include "views/widgets/slider_spin.h"
#include "views/widgets/token_text.h"

using namespace ps;
using ps::test::settled;

namespace {

// Line `position` of a reference logits file: the input id, then the vocabulary's logits.
std::vector<double> reference_logits(const QString& path, int position) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) return {};
    for (int i = 0; i < position; i++) f.readLine();
    const QList<QByteArray> fields = f.readLine().simplified().split(' ');
    std::vector<double> logits;
    for (int i = 1; i < fields.size(); i++) logits.push_back(fields[i].toDouble());
    return logits;
}

int argmax(const std::vector<double>& v) {
    int best = 0;
    for (int i = 1; i < static_cast<int>(v.size()); i++)
        if (v[static_cast<size_t>(i)] > v[static_cast<size_t>(best)]) best = i;
    return best;
}

double softmax_at(const std::vector<double>& logits, int id) {
    double max = logits[static_cast<size_t>(argmax(logits))], sum = 0;
    for (double l : logits) sum += std::exp(l - max);
    return std::exp(logits[static_cast<size_t>(id)] - max) / sum;
}

}  // namespace

class TestGuiDistribution : public QObject {
    Q_OBJECT
    std::unique_ptr<Session> session_;
    std::unique_ptr<DistributionView> view_;
    QString model_path_;

    // Back to neutral settings through the widgets.
    void reset_controls() {
        SamplingControls* c = view_->controls();
        c->temperature()->setValue(1.0);
        c->topK()->slider()->setValue(0);
        c->topP()->setValue(1.0);
        c->minP()->setValue(0.0);
        c->order()->setCurrentIndex(0);
    }

  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        model_path_ = bin_q;
        session_ = std::make_unique<Session>();
        view_ = std::make_unique<DistributionView>(session_.get());
        view_->resize(1000, 700);
        view_->show();
        QSignalSpy changed(session_.get(), &Session::modelChanged);
        session_->openModel(model_path_);
        QVERIFY(changed.wait(20000));
        session_->setPrompt("Once upon a time");  // typed: debounced
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
    }

    void init() {
        if (view_) reset_controls();
    }

    void neutral_settings_show_raw_equal_final() {
        const Distribution* d = session_->distribution();
        QVERIFY(d);
        QCOMPARE(d->kept, 512);
        QCOMPARE(view_->chart()->nonzeroFinalBars(), 20);  // top 20 shown, all kept
        for (int r = 0; r < 20; r++) {
            const int id = view_->chart()->tokenAtBar(r);
            QCOMPARE(id, d->ranked[static_cast<size_t>(r)]);
            QVERIFY(std::abs(view_->chart()->finalBarValue(r) - d->p_raw[id]) < 1e-6);
        }
    }

    // Without a distribution the chart keeps its full width for the axes and the message (an
    // empty legend used to squeeze them into a 160-pixel strip).
    void an_empty_chart_keeps_its_width() {
        DistributionChart chart;
        chart.resize(700, 350);
        chart.QWidget::show();
        chart.clear("Type a prompt.");
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.replot();
        QVERIFY2(chart.axisRect()->width() > 500,
                 qPrintable(QString::number(chart.axisRect()->width())));
    }

    void top_k_slider_leaves_exactly_three_bars() {
        SliderSpin* top_k = view_->controls()->topK();
        top_k->slider()->setValue(top_k->positionFor(3));
        QCOMPARE(top_k->value(), 3.0);
        QCOMPARE(session_->sampling().top_k, 3);
        QCOMPARE(view_->chart()->nonzeroFinalBars(), 3);
        const Distribution* d = session_->distribution();
        double kept_raw = 0;
        for (int r = 0; r < 3; r++) kept_raw += d->p_raw[d->ranked[static_cast<size_t>(r)]];
        for (int r = 0; r < 3; r++) {
            const int id = view_->chart()->tokenAtBar(r);
            QVERIFY(std::abs(view_->chart()->finalBarValue(r) - d->p_raw[id] / kept_raw) < 1e-6);
        }
        QCOMPARE(view_->chart()->finalBarValue(3), 0.0);
        QVERIFY(view_->readout()->text().contains("kept <b>3</b>"));
        // Every slider position in the first part of the scale reaches its own small k.
        for (int k = 1; k <= 20; k++) QCOMPARE(top_k->valueAt(top_k->positionFor(k)), double(k));
    }

    void temperature_zero_puts_everything_on_the_reference_argmax() {
        PS_REQUIRE_SHARED(ref, "reference/stories260K_logits_p1_once_upon_a_time.txt");
        const int expected = argmax(reference_logits(ref_q, 4));
        view_->controls()->temperature()->slider()->setValue(0);
        QCOMPARE(session_->sampling().temperature, 0.0f);
        QCOMPARE(view_->chart()->nonzeroFinalBars(), 1);
        QCOMPARE(view_->chart()->finalBarValue(0), 1.0);
        QCOMPARE(view_->chart()->tokenAtBar(0), expected);
        QCOMPARE(view_->chart()->tickLabel(0),
                 token_display(*session_->model()->tokenizer, expected));
        QVERIFY(view_->readout()->text().contains("greedy"));
    }

    void order_changes_what_the_filters_see() {
        // At temperature 2 with top-p 0.99, the flatter tempered distribution needs more tokens
        // to reach 0.99 (Hugging Face) than the raw one does (llama.cpp).
        view_->controls()->temperature()->setValue(2.0);
        view_->controls()->topP()->setValue(0.99);
        const int hf = session_->distribution()->kept;
        view_->controls()->order()->setCurrentIndex(1);
        QCOMPARE(session_->sampling().order, SamplingOrder::LlamaCpp);
        const int lc = session_->distribution()->kept;
        QVERIFY2(hf > lc, qPrintable(QString("hf kept %1, llama.cpp kept %2").arg(hf).arg(lc)));
        QCOMPARE(view_->chart()->nonzeroFinalBars(), std::min(lc, 20));
    }

    void clicking_a_chip_selects_the_position() {
        PS_REQUIRE_SHARED(ref, "reference/stories260K_logits_p1_once_upon_a_time.txt");
        TokenStrip strip(session_.get());
        strip.resize(600, 120);
        strip.show();
        QVERIFY(QTest::qWaitForWindowExposed(&strip));
        QCOMPARE(static_cast<int>(strip.chipRects().size()), 5);
        QSignalSpy selected(session_.get(), &Session::selectionChanged);
        QTest::mouseClick(strip.canvas(), Qt::LeftButton, {}, strip.chipRects()[1].center());
        QCOMPARE(selected.count(), 1);
        QCOMPARE(session_->position(), 1);
        // The distribution is now the one after "▁Once"; the prompt's next token is "▁upon".
        const int next = session_->trace()->ids[2];
        const double expected = softmax_at(reference_logits(ref_q, 1), next);
        QVERIFY(std::abs(session_->distribution()->p_raw[next] - expected) < 1e-5);
        QVERIFY(view_->readout()->text().contains("actual next token"));
        session_->selectPosition(-1);
        QCOMPARE(session_->position(), 4);
        QVERIFY(!view_->readout()->text().contains("actual next token"));
    }

    void exports() {
        QTemporaryDir dir;
        for (const char* name : {"d.png", "d.svg", "d.pdf"})
            QVERIFY2(view_->chart()->exportTo(dir.filePath(name), 800, 500), name);
        QImage png(dir.filePath("d.png"));
        QVERIFY(!png.isNull() && png.width() >= 800);
        QFile svg(dir.filePath("d.svg")), pdf(dir.filePath("d.pdf"));
        QVERIFY(svg.open(QIODevice::ReadOnly) && pdf.open(QIODevice::ReadOnly));
        QVERIFY(svg.readAll().contains("<svg"));
        QVERIFY(pdf.read(5) == "%PDF-");
        QVERIFY(!view_->chart()->exportTo(dir.filePath("d.bmpx")));

        view_->controls()->topK()->setValue(2);
        QVERIFY(view_->exportCsv(dir.filePath("d.csv")));
        QFile csv(dir.filePath("d.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly | QIODevice::Text));
        const QList<QByteArray> lines = csv.readAll().split('\n');
        QCOMPARE(lines.size(), 514);  // header, 512 tokens, empty after the last newline
        QCOMPARE(lines[0], QByteArray("rank,id,token,piece,logit,p_raw,p_final,removed_by"));
        const Distribution* d = session_->distribution();
        QVERIFY(lines[1].startsWith("1," + QByteArray::number(d->ranked[0]) + ","));
        QVERIFY(lines[2].endsWith(","));       // rank 2: kept
        QVERIFY(lines[3].endsWith(",top_k"));  // rank 3: removed
    }

    void main_window_shows_model_and_views() {
        MainWindow window(session_.get());
        window.show();
        QVERIFY(QTest::qWaitForWindowExposed(&window));
        for (const char* name : {"prompt", "tokens", "distribution"}) QVERIFY(window.view(name));
        QSignalSpy changed(session_.get(), &Session::modelChanged);
        window.openModel(model_path_);
        QVERIFY(changed.wait(20000));
        QVERIFY(window.windowTitle().contains("stories260K"));
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
        QVERIFY(MainWindow::recentModels().value(0).endsWith("stories260K.bin"));
    }

    void screenshot_command_line() {
        QTemporaryDir dir;
        qputenv("XDG_CONFIG_HOME", dir.filePath("config").toUtf8());  // keep the user's settings
        const QString window_png = dir.filePath("window.png"), view_png = dir.filePath("view.png");
        auto r = test::run_cli({model_path_, "--prompt", "Once upon a time", "--size", "1280x720",
                                "--screenshot", window_png});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QImage window(window_png);
        QCOMPARE(window.size(), QSize(1280, 720));
        r = test::run_cli({model_path_, "--prompt", "Lily and Ben", "--view", "distribution",
                           "--size", "800x500", "--screenshot", view_png});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QImage view(view_png);
        QCOMPARE(view.size(), QSize(800, 500));
        // The chart is drawn: the final-probability bars' orange is in the image.
        bool orange = false;
        for (int y = 0; y < view.height() && !orange; y++)
            for (int x = 0; x < view.width() && !orange; x++)
                orange = view.pixelColor(x, y) == QColor(0xe8, 0x6a, 0x2c);
        QVERIFY(orange);

        r = test::run_cli({dir.filePath("missing.bin"), "--screenshot", window_png});
        QCOMPARE(r.exit_code, 1);
        QVERIFY(r.err.contains("missing.bin"));
        r = test::run_cli({model_path_, "--view", "nope", "--screenshot", window_png});
        QCOMPARE(r.exit_code, 1);
        QVERIFY(r.err.contains("unknown view"));
    }

    void cleanupTestCase() {
        view_.reset();
        session_.reset();
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiDistribution)
#include "test_gui_distribution.moc"
