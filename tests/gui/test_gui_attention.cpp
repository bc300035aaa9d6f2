// The attention view on stories260K (5 layers, 8 query heads, 4 kv heads), driven like a user
// would: the heatmap holds exactly the trace's blocks.L.attn.hook_pattern[h], rows sum to 1
// with the future masked, thumbnails are the patterns (max-pooled when long), clicks and
// pickers move the shared selection, the lines are the weights above the threshold, exports
// write what is shown; and a GPT-2 124M shaped model renders, with its repaint times reported.
#include <QFile>
#include <QImage>
#include <QLabel>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTemporaryDir>
#include <QTimer>
#include <QtTest>
#include <chrono>
#include <cmath>
#include <memory>

#include "app/session/session.h"
#include "core/analysis/attention_stats.h"
#include "core/model/random_model.h"
#include "tests/support/gui_session.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "views/attention/attention_heatmap.h"
#include "views/attention/attention_lines.h"
#include "views/attention/attention_view.h"
#include "views/attention/head_grid.h"
#include "views/widgets/plot_export.h"
#include "views/widgets/token_text.h"

using namespace ps;
using ps::test::settled;

namespace {

QList<QByteArray> csv_lines(const QString& path) {
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly | QIODevice::Text)) return {};
    QList<QByteArray> lines = f.readAll().split('\n');
    if (!lines.isEmpty() && lines.last().isEmpty()) lines.removeLast();
    return lines;
}

// One CSV line's fields, quoted fields unquoted ("a,b" -> a,b; "" inside quotes -> ").
QStringList split_csv(const QString& line) {
    QStringList fields;
    QString field;
    bool quoted = false;
    for (int i = 0; i < line.size(); ++i) {
        const QChar c = line[i];
        if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
            field += '"';
            ++i;
        } else if (c == '"') {
            quoted = !quoted;
        } else if (c == ',' && !quoted) {
            fields << field;
            field.clear();
        } else {
            field += c;
        }
    }
    return fields << field;
}

double ms_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// Every line the lines view should draw for `heads` of `layer`: the selected query's weights
// >= kMinWeight, the other queries' >= kMinFadedWeight.
int expected_lines(const LayerTrace& layer, const std::vector<int>& heads, int selected) {
    int n = 0;
    for (int h : heads) {
        const auto p = layer.head_pattern(h);
        for (int q = 0; q < p.rows(); ++q)
            for (int k = 0; k < p.cols(); ++k)
                n += p(q, k) >=
                     (q == selected ? AttentionLines::kMinWeight : AttentionLines::kMinFadedWeight);
    }
    return n;
}

}  // namespace

class TestGuiAttention : public QObject {
    Q_OBJECT
    std::unique_ptr<Session> session_;
    std::unique_ptr<AttentionView> view_;

    const Trace& trace() const { return *session_->trace(); }
    int tokens() const { return static_cast<int>(trace().ids.size()); }

  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        session_ = std::make_unique<Session>();
        view_ = std::make_unique<AttentionView>(session_.get());
        view_->resize(1200, 800);
        view_->show();
        QSignalSpy changed(session_.get(), &Session::modelChanged);
        session_->openModel(bin_q);
        QVERIFY(changed.wait(20000));
        session_->setPrompt("Once upon a time, there was a cat. The cat was happy.");
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
        QVERIFY(QTest::qWaitForWindowExposed(view_.get()));
        QCOMPARE(session_->model()->config.n_heads, 8);
        QCOMPARE(session_->model()->config.n_kv_heads, 4);
    }

    void selected_head_is_the_trace_pattern() {
        session_->selectHead(2, 3);
        QCOMPARE(view_->shownLayer(), 2);
        QCOMPARE(view_->shownHead(), 3);
        const auto pattern = trace().layers[2].head_pattern(3);
        const int T = tokens();
        QCOMPARE(view_->heatmap()->tokenCount(), T);
        for (int q = 0; q < T; ++q) {
            double row = 0;
            for (int k = 0; k < T; ++k) {
                QCOMPARE(view_->cellValue(q, k), double(pattern(q, k)));
                if (k > q) QCOMPARE(view_->cellValue(q, k), 0.0);
                row += view_->cellValue(q, k);
            }
            QVERIFY2(std::abs(row - 1.0) < 1e-5,
                     qPrintable(QString("row %1 sums to %2").arg(q).arg(row, 0, 'g', 10)));
        }
        // Another head of the same layer is different data (the test could fail).
        QVERIFY(!trace().layers[2].head_pattern(2).isApprox(pattern));
        // The pickers and the grouped-query read-out follow.
        QCOMPARE(view_->findChild<QSpinBox*>("layer")->value(), 2);
        QCOMPARE(view_->findChild<QSpinBox*>("head")->value(), 3);
        QCOMPARE(view_->kvLabel()->text(), QString("kv head 1 · shared by query heads 2, 3"));
        const QString tip = view_->heatmap()->cellTooltip(T - 1, 0);
        QVERIFY2(
            tip.contains(" → key 0 ") && tip.endsWith(QString::number(pattern(T - 1, 0), 'f', 4)),
            qPrintable(tip));
        QVERIFY(view_->heatmap()->cellTooltip(0, 1).contains("masked"));
    }

    void pickers_move_the_selection() {
        view_->findChild<QSpinBox*>("layer")->setValue(4);
        QCOMPARE(session_->layer(), 4);
        view_->findChild<QSpinBox*>("head")->setValue(6);
        QCOMPARE(session_->head(), 6);
        QCOMPARE(view_->shownLayer(), 4);
        QCOMPARE(view_->shownHead(), 6);
        QCOMPARE(view_->cellValue(5, 2), double(trace().layers[4].head_pattern(6)(5, 2)));
        QCOMPARE(view_->kvLabel()->text(), QString("kv head 3 · shared by query heads 6, 7"));
    }

    void thumbnails_are_the_patterns() {
        HeadGrid* grid = view_->thumbnails();
        const int T = tokens();
        QCOMPARE(grid->layers(), 5);
        QCOMPARE(grid->heads(), 8);
        QVERIFY(T <= HeadGrid::kMaxThumbnail);  // one cell per token
        QCOMPARE(grid->thumbnailSize(), T);
        for (int l : {0, 3})
            for (int h : {1, 7})
                for (int q = 0; q < T; ++q)
                    for (int k = 0; k < T; ++k) {
                        const double cell = grid->thumbnailCell(l, h, q, k);
                        if (k <= q)
                            QCOMPARE(cell, double(trace().layers[size_t(l)].head_pattern(h)(q, k)));
                        else
                            QVERIFY(cell < 0);  // drawn as masked
                    }
        QVERIFY(std::isnan(grid->thumbnailCell(0, 0, T, 0)));
        QCOMPARE(grid->columnLabel(5), QString("h5\nkv2"));
    }

    void clicks_move_the_selection() {
        HeadGrid* grid = view_->thumbnails();
        grid->replot();
        QTest::mouseClick(grid, Qt::LeftButton, {}, grid->headCenter(1, 5));
        QCOMPARE(session_->layer(), 1);
        QCOMPARE(session_->head(), 5);
        QCOMPARE(view_->shownLayer(), 1);
        QCOMPARE(view_->shownHead(), 5);
        QCOMPARE(view_->cellValue(4, 4), double(trace().layers[1].head_pattern(5)(4, 4)));

        HeadGrid* summary = view_->summary();
        summary->replot();
        QTest::mouseClick(summary, Qt::LeftButton, {}, summary->headCenter(3, 0));
        QCOMPARE(session_->layer(), 3);
        QCOMPARE(session_->head(), 0);

        // A heatmap row and a token of the lines select that query position.
        AttentionHeatmap* heatmap = view_->heatmap();
        heatmap->replot();
        QTest::mouseClick(heatmap, Qt::LeftButton, {}, heatmap->cellCenter(6, 2));
        QCOMPARE(session_->position(), 6);
        QCOMPARE(heatmap->selectedQuery(), 6);
        QCOMPARE(view_->lines()->selectedQuery(), 6);
        session_->selectPosition(-1);
        QCOMPARE(heatmap->selectedQuery(), tokens() - 1);
    }

    void summary_scores_are_the_stats() {
        const AttentionStats expected = attention_stats(trace());
        const AttentionStats& shown = view_->stats();
        QCOMPARE(shown.n_layers, 5);
        QCOMPARE(shown.n_heads, 8);
        int best = 0;
        for (size_t i = 0; i < expected.heads.size(); ++i) {
            QCOMPARE(shown.heads[i].previous_token, expected.heads[i].previous_token);
            QCOMPARE(shown.heads[i].entropy_bits, expected.heads[i].entropy_bits);
            if (expected.heads[i].previous_token > expected.heads[size_t(best)].previous_token)
                best = static_cast<int>(i);
        }
        // "The cat ... The cat": some queries have induction targets.
        QVERIFY(!std::isnan(shown.heads[0].induction));
        qInfo("strongest previous-token head: layer %d head %d, score %.3f (prompt of %d tokens)",
              best / 8, best % 8, expected.heads[size_t(best)].previous_token, tokens());
        QVERIFY(view_->summary()->headTooltip(best / 8, best % 8).contains("previous token"));
    }

    void lines_are_the_weights() {
        session_->selectHead(2, 3);
        AttentionLines* lines = view_->lines();
        view_->setLinesAllHeads(false);
        const LayerTrace& layer = trace().layers[2];
        QCOMPARE(static_cast<int>(lines->lines().size()),
                 expected_lines(layer, {3}, session_->position()));
        for (const AttentionLine& line : lines->lines()) {
            QCOMPARE(line.weight, layer.head_pattern(3)(line.query, line.key));
            QVERIFY(line.key <= line.query);
        }
        // The selected query's lines come last, drawn over the others.
        QCOMPARE(lines->lines().back().query, session_->position());
        view_->setLinesAllHeads(true);
        QCOMPARE(static_cast<int>(lines->lines().size()),
                 expected_lines(layer, {0, 1, 2, 3, 4, 5, 6, 7}, session_->position()));
        view_->setLinesAllHeads(false);
    }

    void exports() {
        session_->selectHead(2, 3);
        QTemporaryDir dir;
        const int T = tokens();
        for (QCustomPlot* plot : std::initializer_list<QCustomPlot*>{
                 view_->heatmap(), view_->lines(), view_->thumbnails(), view_->summary()})
            for (const char* suffix : {".png", ".svg", ".pdf"}) {
                const QString path = dir.filePath(plot->objectName() + suffix);
                QVERIFY2(export_plot(plot, path, 900, 700), qPrintable(path));
                QVERIFY2(QFileInfo(path).size() > 1000, qPrintable(path));
            }

        QVERIFY(view_->exportPatternCsv(dir.filePath("pattern.csv")));
        auto lines = csv_lines(dir.filePath("pattern.csv"));
        QCOMPARE(lines.size(), 1 + T * (T + 1) / 2);
        QCOMPARE(lines[0], QByteArray("layer,head,kv_head,query,query_token,key,key_token,weight"));
        std::vector<double> row_sums(size_t(T), 0.0);
        const Tokenizer& tok = *session_->model()->tokenizer;
        const auto pattern = trace().layers[2].head_pattern(3);
        for (int i = 1; i < lines.size(); ++i) {
            const QStringList f = split_csv(QString::fromUtf8(lines[i]));
            QCOMPARE(f.size(), 8);
            QCOMPARE(f[0].toInt(), 2);
            QCOMPARE(f[1].toInt(), 3);
            QCOMPARE(f[2].toInt(), 1);
            const int q = f[3].toInt(), k = f[5].toInt();
            QVERIFY(k <= q);
            QCOMPARE(f[4], token_display(tok, trace().ids[size_t(q)]));
            QCOMPARE(f[6], token_display(tok, trace().ids[size_t(k)]));
            QCOMPARE(f[7].toFloat(), pattern(q, k));  // 9 digits: the float exactly
            row_sums[size_t(q)] += f[7].toDouble();
        }
        for (double s : row_sums) QVERIFY(std::abs(s - 1.0) < 1e-5);

        QVERIFY(view_->exportPatternCsv(dir.filePath("layer.csv"), true));
        QCOMPARE(csv_lines(dir.filePath("layer.csv")).size(), 1 + 8 * T * (T + 1) / 2);

        QVERIFY(view_->exportSummaryCsv(dir.filePath("summary.csv")));
        lines = csv_lines(dir.filePath("summary.csv"));
        QCOMPARE(lines.size(), 1 + 5 * 8);
        QCOMPARE(lines[0], QByteArray("layer,head,kv_head,previous_token,first_token,self,"
                                      "entropy_bits,induction"));
        const QList<QByteArray> f = lines[1 + 2 * 8 + 3].split(',');
        QCOMPARE(f[0].toInt(), 2);
        QCOMPARE(f[1].toInt(), 3);
        QCOMPARE(f[2].toInt(), 1);
        QVERIFY(std::abs(f[3].toDouble() - view_->stats().at(2, 3).previous_token) < 1e-9);
        QVERIFY(std::abs(f[6].toDouble() - view_->stats().at(2, 3).entropy_bits) < 1e-8);
    }

    void long_prompt_shrinks_thumbnails() {
        // gpt2-tiny: byte-level tokens, so 200 characters are 200 positions.
        Session s;
        AttentionView view(&s);
        view.resize(1000, 700);
        view.show();
        s.setPrompt(QString("abcdefghij").repeated(20));
        s.setModel(std::shared_ptr<const Model>(make_random_model("gpt2-tiny")));
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 30000);
        const int T = static_cast<int>(s.trace()->ids.size());
        QVERIFY(T > 2 * HeadGrid::kMaxThumbnail);
        const int S = HeadGrid::kMaxThumbnail;
        QCOMPARE(view.thumbnails()->thumbnailSize(), S);
        const auto p = s.trace()->layers[1].head_pattern(2);
        for (int v : {0, 7, S - 1})
            for (int u : {0, 7, S - 1}) {
                if (u * T / S > (v + 1) * T / S - 1) continue;  // masked block
                const int r0 = v * T / S, r1 = (v + 1) * T / S, c0 = u * T / S,
                          c1 = (u + 1) * T / S;
                QCOMPARE(view.thumbnails()->thumbnailCell(1, 2, v, u),
                         double(p.block(r0, c0, r1 - r0, c1 - c0).maxCoeff()));
            }
        // Too many tokens for every query's lines: only the selected query's are drawn.
        for (const AttentionLine& line : view.lines()->lines()) QCOMPARE(line.query, s.position());
        QVERIFY(view.heatmap()->labelsThinned());
        // A repeated 10-token sequence: an induction score is defined for every head.
        QVERIFY(!std::isnan(view.stats().at(0, 0).induction));
    }

    void gpt2_124m_renders() {
        auto model = std::shared_ptr<const Model>(make_random_model("gpt2-124m"));
        Session s;
        AttentionView view(&s);
        view.resize(1200, 800);
        view.show();
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
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 120000);
        const double total_ms = ms_since(t0);
        QVERIFY2(ticks >= 5,
                 qPrintable(QString("only %1 ticks in %2 ms").arg(ticks).arg(total_ms)));
        QCOMPARE(view.stats().n_layers, 12);
        QCOMPARE(view.stats().n_heads, 12);
        QCOMPARE(view.thumbnails()->heads(), 12);
        QVERIFY(view.kvLabel()->text().isEmpty());  // no grouped-query attention in GPT-2

        // The GUI-thread work, measured (reported, not asserted).
        auto r0 = std::chrono::steady_clock::now();
        AttentionView fresh(&s);  // builds everything from the finished trace
        const double build_ms = ms_since(r0);
        r0 = std::chrono::steady_clock::now();
        s.selectHead(7, 9);
        QApplication::processEvents();  // the queued repaints
        const double select_ms = ms_since(r0);
        QCOMPARE(view.cellValue(20, 19), double(s.trace()->layers[7].head_pattern(9)(20, 19)));
        double repaint_ms[4];
        QCustomPlot* plots[] = {view.heatmap(), view.thumbnails(), view.summary(), view.lines()};
        for (int i = 0; i < 4; ++i) {
            r0 = std::chrono::steady_clock::now();
            plots[i]->replot(QCustomPlot::rpImmediateRefresh);
            repaint_ms[i] = ms_since(r0);
        }
        view.setLinesAllHeads(true);
        QApplication::processEvents();
        r0 = std::chrono::steady_clock::now();
        view.lines()->replot(QCustomPlot::rpImmediateRefresh);
        const double all_lines_ms = ms_since(r0);
        qInfo(
            "gpt2-124m, %d tokens: analysis to screen %.0f ms (%d ticks meanwhile); building "
            "the view %.1f ms; selecting a head %.1f ms; repaint heatmap %.1f, thumbnails "
            "%.1f, scores %.1f, lines %.1f (all 12 heads: %.1f, %zu lines) ms",
            static_cast<int>(s.tokens().size()), total_ms, ticks, build_ms, select_ms,
            repaint_ms[0], repaint_ms[1], repaint_ms[2], repaint_ms[3], all_lines_ms,
            view.lines()->lines().size());
    }

    void cleanupTestCase() {
        view_.reset();
        session_.reset();
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiAttention)
#include "test_gui_attention.moc"
