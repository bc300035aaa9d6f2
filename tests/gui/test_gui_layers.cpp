// The layer views on stories260K, driven like a user would: the logit lens's last row is the
// model's output (the distribution view's top token), the PCA trajectories have one point per
// layer boundary, the neuron bars are the trace's sorted activations, clicks move the shared
// selection, exports write what is shown; and a GPT-2 124M shaped model is analyzed on the
// worker while the GUI thread keeps turning.
#include <QFile>
#include <QImage>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <memory>
#include <numeric>

#include "app/session/session.h"
#include "core/analysis/layer_analysis.h"
#include "core/model/random_model.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "views/distribution/distribution_chart.h"
#include "views/distribution/distribution_view.h"
#include "views/layers/embeddings_chart.h"
#include "views/layers/embeddings_view.h"
#include "views/layers/logit_lens_view.h"
#include "views/layers/neurons_view.h"
#include "views/widgets/plot_export.h"
#include "views/widgets/token_text.h"

using namespace ps;

namespace {

bool settled(const Session& s) {
    return s.trace() && s.trace()->ids == s.tokens() && !s.analyzing() && !s.loading() &&
           s.layerAnalysis() && s.layerAnalysis()->ids == s.tokens();
}

int argmax_row(const MatrixRM& logits, int row) {
    Eigen::Index best;
    logits.row(row).maxCoeff(&best);
    return static_cast<int>(best);
}

QList<QByteArray> csv_lines(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) return {};
    QList<QByteArray> lines = f.readAll().split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty()) lines.removeLast();
    return lines;
}

// Every (key, value) of the bars on a plot, sorted by key.
std::vector<std::pair<double, double>> bar_data(QCustomPlot* plot) {
    std::vector<std::pair<double, double>> out;
    for (int i = 0; i < plot->plottableCount(); i++)
        if (auto* bars = qobject_cast<QCPBars*>(plot->plottable(i)))
            for (auto it = bars->data()->constBegin(); it != bars->data()->constEnd(); ++it)
                out.emplace_back(it->key, it->value);
    std::sort(out.begin(), out.end());
    return out;
}

void check_exports(QCustomPlot* plot, const QString& dir, const QString& name) {
    for (const char* suffix : {".png", ".svg", ".pdf"}) {
        const QString path = dir + "/" + name + suffix;
        QVERIFY2(export_plot(plot, path, 900, 600), qPrintable(path));
        QVERIFY2(QFileInfo(path).size() > 1000, qPrintable(path));
    }
    QCOMPARE(QImage(dir + "/" + name + ".png").width(), 1800);  // 2x scale
}

}  // namespace

class TestGuiLayers : public QObject {
    Q_OBJECT
    std::unique_ptr<Session> session_;
    std::unique_ptr<LogitLensView> lens_;
    std::unique_ptr<NeuronsView> neurons_;
    std::unique_ptr<EmbeddingsView> embeddings_;
    std::unique_ptr<DistributionView> distribution_;

    const Trace& trace() const { return *session_->trace(); }
    const LayerAnalysis& analysis() const { return *session_->layerAnalysis(); }
    int layers() const { return session_->model()->config.n_layers; }

  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        session_ = std::make_unique<Session>();
        lens_ = std::make_unique<LogitLensView>(session_.get());
        neurons_ = std::make_unique<NeuronsView>(session_.get());
        embeddings_ = std::make_unique<EmbeddingsView>(session_.get());
        distribution_ = std::make_unique<DistributionView>(session_.get());
        for (QWidget* w : std::initializer_list<QWidget*>{lens_.get(), neurons_.get(),
                                                          embeddings_.get(), distribution_.get()}) {
            w->resize(1100, 700);
            w->show();
        }
        QSignalSpy changed(session_.get(), &Session::modelChanged);
        session_->openModel(bin_q);
        QVERIFY(changed.wait(20000));
        session_->setPrompt("Once upon a time, there was a little girl named Lily. She liked to");
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
        QVERIFY(QTest::qWaitForWindowExposed(lens_.get()));
    }

    // Before anyone picks a neuron, the neurons view opens on the most active one of the
    // selected layer at the last position, not on neuron 0.
    void neuron_follows_the_most_active_one() {
        const int T = static_cast<int>(trace().ids.size());
        Eigen::Index top = 0;
        trace().layers[size_t(session_->layer())].mlp_post.row(T - 1).maxCoeff(&top);
        QCOMPARE(session_->neuron(), int(top));
        QVERIFY(top != 0);
    }

    void lens_last_row_is_the_output() {
        const LayerAnalysis* a = lens_->analysis();
        QVERIFY(a);
        const int T = static_cast<int>(trace().ids.size());
        QVERIFY(T > 10);
        QCOMPARE(a->lens.rows, layers() + 1);
        QCOMPARE(a->lens.positions, T);
        const Tokenizer& tok = *session_->model()->tokenizer;
        int hits = 0;
        for (int t = 0; t < T; t++) {
            session_->selectPosition(t);
            const int argmax = argmax_row(trace().logits, t);
            const Distribution* d = session_->distribution();
            QVERIFY(d);
            // The distribution view's top bar, the trace's argmax and the lens's last row.
            QCOMPARE(distribution_->chart()->tokenAtBar(0), argmax);
            const LensCell& cell = a->lens.at(layers(), t);
            QCOMPARE(cell.top_ids[0], argmax);
            QVERIFY(std::abs(cell.top_probs[0] - d->p_raw[argmax]) < 1e-5);
            QCOMPARE(lens_->cellText(layers(), t), token_display(tok, argmax));
            if (t + 1 < T) {
                QVERIFY(std::abs(cell.next_prob - d->p_raw[trace().ids[size_t(t + 1)]]) < 1e-5);
                QCOMPARE(lens_->cellMarked(layers(), t), argmax == trace().ids[size_t(t + 1)]);
                hits += lens_->cellMarked(layers(), t);
            }
        }
        // A trained model predicts some of a familiar sentence.
        QVERIFY2(hits >= 3, qPrintable(QString("%1 positions predicted").arg(hits)));
        QVERIFY(lens_->cellTooltip(layers(), 3).contains("actual next"));
        session_->selectPosition(-1);
    }

    void trajectories_have_a_point_per_boundary() {
        const LayerAnalysis& a = analysis();
        const int T = static_cast<int>(trace().ids.size());
        QCOMPARE(a.trajectories.boundaries, layers() + 1);
        QCOMPARE(a.trajectories.tokens, T);
        for (int t = 0; t < T; t++) {
            const std::vector<QPointF> path = embeddings_->chart()->trajectory(t);
            QCOMPARE(static_cast<int>(path.size()), layers() + 1);
            for (int b = 0; b <= layers(); b++) {
                QCOMPARE(path[size_t(b)].x(), double(a.trajectories.x(t, b)));
                QCOMPARE(path[size_t(b)].y(), double(a.trajectories.y(t, b)));
            }
        }
        QVERIFY(a.trajectories.pca.explained[0] >= a.trajectories.pca.explained[1]);
        QVERIFY(a.trajectories.pca.explained[0] + a.trajectories.pca.explained[1] <= 1.0001f);
        QCOMPARE(embeddings_->chart()->heatmapCells(), QSize(session_->model()->config.dim, T));
    }

    void neuron_bars_are_the_sorted_activations() {
        session_->selectLayer(3);
        session_->selectPosition(5);
        const ps::Activation& post = trace().layers[3].mlp_post;
        std::vector<float> sorted(post.row(5).data(), post.row(5).data() + post.cols());
        std::sort(sorted.begin(), sorted.end(), std::greater<>());
        neurons_->setTopK(12);
        const auto drawn = bar_data(neurons_->plot());
        QCOMPARE(static_cast<int>(drawn.size()), 12);
        for (int r = 0; r < 12; r++) {
            QCOMPARE(drawn[size_t(r)].first, double(r));
            QCOMPARE(drawn[size_t(r)].second, double(sorted[size_t(r)]));
            QCOMPARE(post(5, neurons_->bars()[size_t(r)].neuron), sorted[size_t(r)]);
        }
        // By magnitude, a strongly negative SwiGLU neuron may come first.
        neurons_->setByMagnitude(true);
        std::vector<float> by_size(sorted);
        std::sort(by_size.begin(), by_size.end(),
                  [](float a, float b) { return std::abs(a) > std::abs(b); });
        QCOMPARE(std::abs(neurons_->bars()[0].activation), std::abs(by_size[0]));
        neurons_->setByMagnitude(false);
    }

    void clicks_move_the_selection() {
        lens_->plot()->replot();
        QTest::mouseClick(lens_->plot(), Qt::LeftButton, {}, lens_->cellCenter(3, 2));
        QCOMPARE(session_->layer(), 2);  // row 3 is the output of layer 2
        QCOMPARE(session_->position(), 2);

        neurons_->plot()->replot();
        const int neuron = neurons_->bars()[4].neuron;
        QTest::mouseClick(neurons_->plot(), Qt::LeftButton, {}, neurons_->barCenter(4));
        QCOMPARE(session_->neuron(), neuron);
        QCOMPARE(session_->layer(), 2);
        const std::vector<float> strip = neurons_->strip();
        QCOMPARE(static_cast<int>(strip.size()), static_cast<int>(trace().ids.size()));
        for (size_t t = 0; t < strip.size(); t++)
            QCOMPARE(strip[t], trace().layers[2].mlp_post(static_cast<int>(t), neuron));
        QTest::mouseClick(neurons_->plot(), Qt::LeftButton, {}, neurons_->stripCenter(7));
        QCOMPARE(session_->position(), 7);

        // A trajectory point: the token and the layer whose output it is.
        EmbeddingsChart* chart = embeddings_->chart();
        chart->replot();
        const QPoint p = chart->trajectoryPixel(4, 5);
        int token = -1, boundary = -1;
        QVERIFY(chart->pointAt(p, &token, &boundary));
        QTest::mouseClick(chart, Qt::LeftButton, {}, p);
        QCOMPARE(session_->position(), token);
        QCOMPARE(session_->layer(), std::max(0, boundary - 1));
        // Points may coincide; the one hit is at the same place as the one aimed at.
        QVERIFY((chart->trajectoryPixel(token, boundary) - p).manhattanLength() <= 2);
    }

    void exports() {
        QTemporaryDir dir;
        check_exports(lens_->plot(), dir.path(), "lens");
        check_exports(neurons_->plot(), dir.path(), "neurons");
        check_exports(embeddings_->chart(), dir.path(), "embeddings");
        const int T = static_cast<int>(trace().ids.size()), L = layers();

        QVERIFY(lens_->exportCsv(dir.filePath("lens.csv")));
        auto lines = csv_lines(dir.filePath("lens.csv"));
        QCOMPARE(lines.size(), 1 + (L + 1) * T);
        QVERIFY(lines[0].startsWith("boundary,after,position,input_id,input_token,top1_id,"));
        // The last row, position 0: the output's argmax is top1.
        const QList<QByteArray> last = lines[1 + L * T].split(',');
        QCOMPARE(last[0].toInt(), L);
        QCOMPARE(last[2].toInt(), 0);
        QCOMPARE(last[5].toInt(), argmax_row(trace().logits, 0));

        QVERIFY(embeddings_->exportCsv(dir.filePath("emb.csv")));
        lines = csv_lines(dir.filePath("emb.csv"));
        QCOMPARE(lines.size(), 1 + T * (L + 1));
        const QList<QByteArray> row = lines[1 + 2].split(',');  // token 0, boundary 2
        QCOMPARE(row[2].toInt(), 2);
        QVERIFY(std::abs(row[4].toDouble() - analysis().trajectories.x(0, 2)) <
                1e-5 * (1 + std::abs(row[4].toDouble())));
        QVERIFY(std::abs(row[6].toDouble() - analysis().stats.norm(2, 0)) < 1e-4);

        neurons_->setTopK(7);
        QVERIFY(neurons_->exportCsv(dir.filePath("neurons.csv")));
        lines = csv_lines(dir.filePath("neurons.csv"));
        QCOMPARE(lines.size(), 1 + 7 + T);
        QCOMPARE(lines[0], QByteArray("kind,layer,position,token,neuron,rank,activation"));
        QVERIFY(lines[1].startsWith("top," + QByteArray::number(session_->layer()) + ","));
        QVERIFY(lines[8].startsWith("strip,"));
        QVERIFY(
            lines[1].endsWith("," + QByteArray::number(neurons_->bars()[0].activation, 'g', 9)));
    }

    void gpt2_124m_is_analyzed_off_the_gui_thread() {
        auto model = std::shared_ptr<const Model>(make_random_model("gpt2-124m"));
        Session s;
        LogitLensView lens(&s);
        EmbeddingsView embeddings(&s);
        NeuronsView neurons(&s);
        for (QWidget* w : std::initializer_list<QWidget*>{&lens, &embeddings, &neurons}) {
            w->resize(1200, 800);
            w->show();
        }
        // 64 bytes = 64 tokens of the byte-level tokenizer.
        s.setPrompt("The quick brown fox jumps over the lazy dog; then it sleeps all day");
        int ticks = 0;
        QTimer timer;
        connect(&timer, &QTimer::timeout, [&] {
            if (s.analyzing()) ticks++;
        });
        timer.start(10);
        const auto t0 = std::chrono::steady_clock::now();
        s.setModel(model);
        QVERIFY(s.analyzing());
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 120000);
        const double total_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count();
        const LayerAnalysis& a = *s.layerAnalysis();
        QVERIFY2(ticks >= 5,
                 qPrintable(
                     QString("only %1 timer ticks in %2 ms of analysis").arg(ticks).arg(total_ms)));
        const int T = static_cast<int>(s.tokens().size());
        QCOMPARE(a.lens.rows, 13);
        QCOMPARE(a.trajectories.boundaries, 13);
        for (int t = 0; t < T; t++) {
            QCOMPARE(a.lens.at(12, t).top_ids[0], argmax_row(s.trace()->logits, t));
            QCOMPARE(static_cast<int>(embeddings.chart()->trajectory(t).size()), 13);
        }
        // Rendering happens on the GUI thread: measure it too (reported, not asserted).
        const auto r0 = std::chrono::steady_clock::now();
        s.selectPosition(10);
        QApplication::processEvents();
        const double select_ms =
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - r0)
                .count();
        qInfo(
            "gpt2-124m, %d tokens: forward %.0f ms, logit lens %.0f ms, PCA %.0f ms, analysis "
            "to screen %.0f ms, %d timer ticks meanwhile; one selection change redraws the "
            "three views in %.0f ms",
            T, s.lastForwardMs(), a.lens_ms, a.pca_ms, total_ms, ticks, select_ms);
        QCOMPARE(lens.cellText(12, 0),
                 token_display(*model->tokenizer, argmax_row(s.trace()->logits, 0)));
    }

    void cleanupTestCase() {
        lens_.reset();
        neurons_.reset();
        embeddings_.reset();
        distribution_.reset();
        session_.reset();
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiLayers)
#include "test_gui_layers.moc"
