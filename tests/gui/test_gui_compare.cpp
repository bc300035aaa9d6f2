// The comparison view on the stories sample, driven through its widgets: entropy against
// temperature, simulated draws against the probabilities, continuations generated on the
// session's worker (deterministic per seed, stale ones dropped, each token's probability the
// one it was drawn with), adding and removing columns, and `--view compare --screenshot`.
#include <QImage>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>
#include <cmath>
#include <memory>

#include "app/gui/samples.h"
#include "app/session/session.h"
#include "core/sampling/compare.h"
#include "core/sampling/generate.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "views/compare/compare_chart.h"
#include "views/compare/compare_column.h"
#include "views/compare/compare_view.h"
#include "views/compare/continuation_text.h"
#include "views/widgets/slider_spin.h"
#include "views/widgets/token_text.h"

using namespace ps;

namespace {

bool settled(const Session& s, const CompareView& v) {
    return s.trace() && s.trace()->ids == s.tokens() && !s.analyzing() && !s.loading() &&
           !v.generating();
}

std::vector<int> tokens_of(const Generation* g) {
    return g ? g->continuation() : std::vector<int>{};
}

}  // namespace

class TestGuiCompare : public QObject {
    Q_OBJECT
    std::unique_ptr<Session> session_;
    std::unique_ptr<CompareView> view_;

    // Changes something through `change` and waits for the continuations it causes.
    template <typename F>
    bool regenerate(F change) {
        QSignalSpy ready(view_.get(), &CompareView::continuationsReady);
        change();
        return ready.wait(20000) && settled(*session_, *view_);
    }

  private slots:
    // Without a distribution the overlay keeps its full width for the axes and the message (an
    // empty legend used to squeeze them into a narrow strip).
    void an_empty_overlay_keeps_its_width() {
        CompareOverlayChart chart;
        chart.resize(700, 350);
        chart.QWidget::show();
        chart.clear("No analysis yet.");
        QVERIFY(QTest::qWaitForWindowExposed(&chart));
        chart.replot();
        QVERIFY2(chart.axisRect()->width() > 500,
                 qPrintable(QString::number(chart.axisRect()->width())));
    }

    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
        QVERIFY2(!sample_path("stories").isEmpty(), "sample_models/stories not found");
        session_ = std::make_unique<Session>();
        view_ = std::make_unique<CompareView>(session_.get());
        view_->resize(1400, 800);
        view_->show();
        QVERIFY(QTest::qWaitForWindowExposed(view_.get()));
        QSignalSpy ready(view_.get(), &CompareView::continuationsReady);
        session_->openModel(sample_path("stories"));
        // A position where the model hesitates between many places, so the settings differ.
        session_->setPrompt(
            "Once upon a time, there was a little girl named Lily. She went to the");
        QVERIFY(ready.wait(30000));
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_, *view_), 20000);
    }

    void lower_temperature_has_lower_entropy() {
        view_->column(0)->temperature()->setValue(0.5);
        view_->column(1)->temperature()->setValue(1.5);
        QCOMPARE(view_->column(0)->settings().temperature, 0.5f);
        QCOMPARE(view_->column(1)->settings().temperature, 1.5f);
        const double a = view_->column(0)->entropyBits(), b = view_->column(1)->entropyBits();
        QVERIFY2(a < b, qPrintable(QString("A %1 bits, B %2 bits").arg(a).arg(b)));
        // The numbers are the full-vocabulary softmax of the session's logits.
        const float* logits = session_->logitsAt(session_->position());
        const int vocab = session_->model()->config.vocab_size;
        for (int i = 0; i < 2; i++) {
            const Distribution d = apply_sampling(logits, vocab, view_->column(i)->settings());
            QCOMPARE(view_->column(i)->entropyBits(), d.entropy_final_bits);
            QCOMPARE(view_->column(i)->kept(), vocab);
            QVERIFY(view_->column(i)->readout()->text().contains(
                QString::number(d.entropy_final_bits, 'f', 3)));
            // The overlay draws each setting's final probabilities over the shared ranking.
            for (int r = 0; r < 5; r++)
                QCOMPARE(view_->overlay()->value(i, r), double(d.p_final[d.ranked[size_t(r)]]));
        }
        // Colder puts more on the top token, less on the tail.
        QVERIFY(view_->overlay()->value(0, 0) > view_->overlay()->value(1, 0));
        QVERIFY(view_->overlay()->value(0, 9) < view_->overlay()->value(1, 9));
    }

    void simulated_frequencies_are_within_three_standard_errors() {
        view_->setSamples(10000);
        view_->column(1)->topP()->setValue(0.9);  // a filtered setting too
        for (int i = 0; i < view_->columnCount(); i++) {
            const Distribution* d = view_->distribution(i);
            const std::vector<int64_t>& counts = view_->sampleCounts(i);
            QVERIFY(d && counts.size() == d->p_final.size());
            int64_t total = 0;
            for (size_t id = 0; id < counts.size(); id++) {
                total += counts[id];
                if (d->p_final[id] == 0) QCOMPARE(counts[id], int64_t(0));
            }
            QCOMPARE(total, int64_t(10000));
            // A spread distribution, so the comparison below means something.
            QVERIFY(d->p_final[size_t(d->ranked[9])] > 0.01);
            const FrequencyChart* chart = view_->column(i)->chart();
            for (int r = 0; r < 10 && r < d->kept; r++) {
                const auto id = size_t(d->ranked[size_t(r)]);
                const double p = d->p_final[id], freq = double(counts[id]) / 10000.0;
                QVERIFY2(std::abs(freq - p) <= 3 * frequency_standard_error(p, 10000),
                         qPrintable(QString("column %1 rank %2: frequency %3, p %4")
                                        .arg(i)
                                        .arg(r)
                                        .arg(freq)
                                        .arg(p)));
                QCOMPARE(chart->tokenAtRank(r), int(id));
                QCOMPARE(chart->probabilityAt(r), p);
                QCOMPARE(chart->frequencyAt(r), freq);
            }
            QVERIFY(view_->column(i)->largestDeviationSe() <= 3);
        }
        QVERIFY(view_->distribution(1)->kept < view_->distribution(0)->kept);
        // The draws are the ones the app's Sampler makes with the view's seed.
        const std::vector<int64_t> again =
            simulate_samples(*view_->distribution(0), 10000, uint64_t(view_->seed()));
        QCOMPARE(view_->sampleCounts(0), again);
        view_->column(1)->topP()->setValue(1.0);
        view_->setSamples(1000);
    }

    void continuations_are_deterministic_for_a_seed() {
        QVERIFY(regenerate([this] { view_->setSeed(7); }));
        const std::vector<int> a = tokens_of(view_->continuation(0)),
                               b = tokens_of(view_->continuation(1));
        QVERIFY(!a.empty() && !b.empty());
        QVERIFY(regenerate([this] { view_->setSeed(8); }));
        QVERIFY(regenerate([this] { view_->setSeed(7); }));
        QCOMPARE(tokens_of(view_->continuation(0)), a);
        QCOMPARE(tokens_of(view_->continuation(1)), b);
        // The same tokens the core loop draws from the same prompt and seed, and the prompt is
        // the session's up to the selected position.
        const std::vector<int>& prompt = view_->continuationPrompt();
        QCOMPARE(prompt, session_->tokens());
        for (int i = 0; i < 2; i++) {
            Sampler sampler(7);
            GenerateOptions o;
            o.steps = view_->steps();
            const Generation g = generate_tokens(*session_->model(), prompt,
                                                 view_->column(i)->settings(), sampler, o);
            QCOMPARE(tokens_of(view_->continuation(i)), g.continuation());
            // The first token was drawn from the distribution the column shows (the worker's
            // forward pass computes only the last position: equal up to float rounding).
            const GeneratedStep& first = view_->continuation(i)->steps.at(0);
            const double shown = view_->distribution(i)->p_final[size_t(first.token)];
            QVERIFY(std::abs(first.p_final - shown) <= 1e-5 * shown);
            QVERIFY(std::abs(first.entropy_final_bits - view_->column(i)->entropyBits()) < 1e-5);
        }
    }

    void continuation_tokens_show_their_step_on_hover() {
        ContinuationText* text = view_->column(0)->continuation();
        const Generation& g = text->generation();
        QVERIFY(!g.steps.empty());
        QCOMPARE(text->chipRects().size(), g.steps.size());
        const QPoint inside = text->chipRects()[0].center();
        QCOMPARE(text->stepAt(inside), 0);
        QCOMPARE(text->stepAt(QPoint(-5, -5)), -1);
        const QString details = text->stepDetails(0);
        const Tokenizer& tok = *session_->model()->tokenizer;
        QVERIFY(details.contains(token_display(tok, g.steps[0].token).toHtmlEscaped()));
        QVERIFY(details.contains(QString::number(g.steps[0].p_final, 'g', 4)));
        for (const TokenProbability& t : g.steps[0].top)
            QVERIFY(details.contains(token_display(tok, t.id).toHtmlEscaped()));
        // Fill colors follow the probability: more likely, greener (higher hue).
        QVERIFY(probability_color(0.9).hueF() > probability_color(0.05).hueF());
    }

    void stale_continuations_are_dropped() {
        session_->runner().setExtraLatencyForTesting(300);
        QSignalSpy ready(view_.get(), &CompareView::continuationsReady);
        view_->setSeed(21);
        QTRY_VERIFY_WITH_TIMEOUT(view_->generating(), 5000);  // submitted, still on the worker
        view_->setSeed(22);
        QVERIFY(ready.wait(20000));
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_, *view_), 20000);
        session_->runner().setExtraLatencyForTesting(0);
        QCOMPARE(ready.count(), 1);  // the seed-21 result never reached the screen
        Sampler sampler(22);
        GenerateOptions o;
        o.steps = view_->steps();
        QCOMPARE(tokens_of(view_->continuation(0)),
                 generate_tokens(*session_->model(), view_->continuationPrompt(),
                                 view_->column(0)->settings(), sampler, o)
                     .continuation());
    }

    void columns_can_be_added_and_removed() {
        QCOMPARE(view_->columnCount(), 2);
        QVERIFY(!view_->column(0)->removeButton()->isEnabled());  // at least two
        QVERIFY(regenerate([this] { view_->addButton()->click(); }));
        QCOMPARE(view_->columnCount(), 3);
        QVERIFY(view_->column(0)->removeButton()->isEnabled());
        // The new column is the model's own distribution: temperature 1, no filter.
        QCOMPARE(view_->column(2)->entropyBits(), session_->distribution()->entropy_raw_bits);
        QCOMPARE(view_->overlay()->seriesCount(), 3);
        QVERIFY(view_->continuation(2) && !view_->continuation(2)->steps.empty());
        view_->column(2)->topK()->setValue(5);
        QCOMPARE(view_->column(2)->kept(), 5);
        view_->addButton()->click();
        QCOMPARE(view_->columnCount(), CompareView::kMaxColumns);
        QVERIFY(!view_->addButton()->isEnabled());
        QVERIFY(!view_->addColumn());

        // Removing B moves C up to B, with its settings and its results.
        view_->column(1)->removeButton()->click();
        QCOMPARE(view_->columnCount(), 3);
        QCOMPARE(view_->column(1)->settings().top_k, 5);
        QCOMPARE(view_->column(1)->objectName(), QString("columnB"));
        QCOMPARE(view_->column(1)->kept(), 5);
        QCOMPARE(view_->overlay()->seriesCount(), 3);
        QVERIFY(view_->removeColumn(2));
        QCOMPARE(view_->columnCount(), 2);
        QVERIFY(!view_->removeColumn(0));
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_, *view_), 20000);
        QCOMPARE(static_cast<int>(view_->continuationPrompt().size()),
                 static_cast<int>(session_->tokens().size()));
    }

    void settings_from_text() {
        view_->setColumnSettings(parse_settings_list("t=0.7,k=3;t=1.2,p=0.5;t=0"));
        QCOMPARE(view_->columnCount(), 3);
        QCOMPARE(view_->column(0)->kept(), 3);
        QCOMPARE(view_->column(2)->kept(), 1);  // greedy
        QCOMPARE(view_->column(2)->entropyBits(), 0.0);
        view_->setColumnSettings(parse_settings_list("t=0.5;t=1.5"));
        QCOMPARE(view_->columnCount(), 2);
        QCOMPARE(view_->column(1)->settings().temperature, 1.5f);
        QCOMPARE(view_->column(1)->settings().top_p, 1.0f);
    }

    void exports_csv() {
        QTemporaryDir dir;
        QVERIFY(view_->exportCsv(dir.filePath("c.csv")));
        QFile csv(dir.filePath("c.csv"));
        QVERIFY(csv.open(QIODevice::ReadOnly | QIODevice::Text));
        const QList<QByteArray> lines = csv.readAll().split('\n');
        const int vocab = session_->model()->config.vocab_size;
        QCOMPARE(lines.size(), vocab + 2);  // header, the vocabulary, empty after the last newline
        QVERIFY(lines[0].startsWith("rank,id,token,piece,p_raw,\"A (t=0.5) p_final\""));
        QVERIFY(lines[0].contains("\"B (t=1.5) frequency\""));
        // Per column, the counts add up to the draws, and the first row is the top token.
        int64_t total = 0;
        // Counted from the end: a token or piece (quoted) may hold a comma.
        const int a_count = 3 * view_->columnCount() - 1;  // fields from the end
        for (int r = 1; r <= vocab; r++) {
            const QList<QByteArray> fields = lines[r].split(',');
            total += fields.at(fields.size() - a_count).toLongLong();
        }
        QCOMPARE(total, int64_t(view_->samples()));
        const Distribution* a = view_->distribution(0);
        QVERIFY(lines[1].startsWith("1," + QByteArray::number(a->ranked[0]) + ","));
    }

    void screenshot_command_line() {
        QTemporaryDir dir;
        qputenv("XDG_CONFIG_HOME", dir.filePath("config").toUtf8());  // keep the user's settings
        const QString png = dir.filePath("compare.png");
        auto r = test::run_cli({sample_path("stories"), "--prompt", "Lily went to the park",
                                "--view", "compare", "--compare", "t=0.5;t=1.5;t=1,k=5", "--size",
                                "1400x800", "--screenshot", png});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        const QImage image(png);
        QCOMPARE(image.size(), QSize(1400, 800));
        // Each column's color is drawn (A, B and C lines in the overlay).
        for (int i = 0; i < 3; i++) {
            bool found = false;
            for (int y = 0; y < image.height() && !found; y++)
                for (int x = 0; x < image.width() && !found; x++)
                    found = image.pixelColor(x, y) == compare_color(i);
            QVERIFY2(found, qPrintable(compare_letter(i)));
        }
        // The continuations are in the image: chip fills (hue red to green, saturation 0.35,
        // full value, as probability_color makes them; no bar color is such) in the lower half,
        // away from the header's color scale.
        QVERIFY(std::abs(probability_color(0.5).hsvSaturationF() - 0.35) < 0.006);
        int chip_pixels = 0;
        for (int y = image.height() / 2; y < image.height(); y++)
            for (int x = 0; x < image.width(); x++) {
                const QColor c = image.pixelColor(x, y);
                chip_pixels += c.value() == 255 && c.hsvHue() <= 120 &&
                               std::abs(c.hsvSaturationF() - 0.35) < 0.006;
            }
        QVERIFY2(chip_pixels > 5000, qPrintable(QString::number(chip_pixels)));
        r = test::run_cli({sample_path("stories"), "--view", "compare", "--compare", "t=abc",
                           "--screenshot", png});
        QCOMPARE(r.exit_code, 1);
        QVERIFY(r.err.contains("--compare"));
    }

    void cleanupTestCase() {
        view_.reset();
        session_.reset();
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiCompare)
#include "test_gui_compare.moc"
