// The lesson (View > Lesson, --lesson) on the stories260K sample, a real pretrained model
// (offscreen): at most eight steps; the head step shows the head with the highest
// previous-token or induction score and the neuron step the most active neuron, both found
// again here from the trace's own numbers; each step shows only the views it needs and leaving
// the lesson gives the layout back; stray clicks are undone unless unlocked; the sampling step
// turns the dials by itself and gives the user's settings back.
#include <QCheckBox>
#include <QDockWidget>
#include <QSignalSpy>
#include <QtTest>
#include <cmath>
#include <memory>

#include "app/gui/main_window.h"
#include "app/gui/presenter.h"
#include "app/gui/samples.h"
#include "app/session/session.h"
#include "tests/support/gui_session.h"
#include "tests/support/gui_window.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "views/walk/guided_walk.h"

using namespace ps;
using ps::test::settled;

namespace {

const QString kPrompt =
    "Once upon a time, there was a little girl named Lily. She went to the park. Lily";

struct Best {
    int layer = -1, head = -1;
    double score = -1;
};

// The head with the largest mean A[i][i-1] (over queries 1..T-1) or induction score (mean over
// queries with an earlier occurrence of their token of the weight on the tokens that followed
// it), from the patterns, written out here rather than through core/analysis.
Best best_head(const Trace& t, int n_heads) {
    const int T = static_cast<int>(t.ids.size());
    Best best;
    for (int l = 0; l < static_cast<int>(t.layers.size()); ++l)
        for (int h = 0; h < n_heads; ++h) {
            const auto A = t.layers[size_t(l)].head_pattern(h);
            double prev = 0, induction = 0;
            int with_targets = 0;
            for (int i = 1; i < T; ++i) {
                prev += A(i, i - 1);
                double on_targets = 0;
                bool any = false;
                for (int j = 0; j + 1 < i; ++j)
                    if (t.ids[size_t(j)] == t.ids[size_t(i)]) {
                        on_targets += A(i, j + 1);
                        any = true;
                    }
                if (any) {
                    induction += on_targets;
                    ++with_targets;
                }
            }
            for (double score : {prev / (T - 1), with_targets ? induction / with_targets : -1.0})
                if (score > best.score) best = {l, h, score};
        }
    return best;
}

}  // namespace

class TestGuiLesson : public QObject {
    Q_OBJECT
    std::unique_ptr<Session> session_;
    std::unique_ptr<MainWindow> window_;

    GuidedWalk* walk() { return window_->walk(); }
    int last() const { return static_cast<int>(session_->trace()->ids.size()) - 1; }
    int stepOf(WalkStepKind kind) {
        for (int i = 0; i < walk()->stepCount(); ++i)
            if (walk()->step(i).kind == kind) return i;
        return -1;
    }

  private slots:
    void initTestCase() {
        QVERIFY(ps::test::open_main_window(session_, window_, QSize(1280, 720), kPrompt,
                                           sample_path("stories260K")));
    }

    void cleanupTestCase() {
        window_.reset();
        session_.reset();
    }

    void the_lesson_has_at_most_eight_steps_each_with_only_its_view() {
        QDockWidget* distribution =
            qobject_cast<QDockWidget*>(window_->view("distribution")->parentWidget());
        QVERIFY(distribution->isVisible());
        const auto docks = [&] {
            QStringList out;
            for (QDockWidget* d : window_->findChildren<QDockWidget*>())
                if (d->objectName() != "walkDock")
                    out << QString("%1 %2 %3")
                               .arg(d->objectName())
                               .arg(d->isVisible())
                               .arg(int(window_->dockWidgetArea(d)));
            out.sort();
            return out;
        };
        const QStringList before = docks();
        window_->presenter()->startLesson(0);
        QVERIFY(walk()->lesson());
        QVERIFY(walk()->stepCount() >= 7 && walk()->stepCount() <= 8);
        for (int i = 0; i < walk()->stepCount(); ++i) {
            walk()->go(i);
            const WalkStep& step = walk()->step(i);
            QWidget* view = window_->view(step.view);
            QVERIFY2(view->isVisible(), qPrintable(step.title));
            QVERIFY2(!walk()->numbersText().isEmpty(), qPrintable(step.title));
            QCOMPARE(session_->position(), last());  // the lesson predicts the next word
            for (QDockWidget* d : window_->findChildren<QDockWidget*>())
                if (d->objectName() != "walkDock" && d->widget() != view)
                    QVERIFY2(!d->isVisible(), qPrintable(step.title + ": " + d->objectName()));
        }
        // Back to the full walk: the layout from before the lesson, distribution included.
        window_->presenter()->endLesson();
        QVERIFY(!walk()->lesson());
        QVERIFY(walk()->stepCount() > 8);
        QCOMPARE(docks(), before);
        QVERIFY(distribution->isVisible());
        // Closing the walk ends a lesson too.
        window_->presenter()->startLesson(2);
        window_->walk()->parentWidget()->hide();
        QTRY_VERIFY(!walk()->lesson());
        QCOMPARE(docks(), before);
    }

    void the_head_step_shows_the_clearest_head() {
        window_->presenter()->startLesson(0);
        walk()->go(stepOf(WalkStepKind::Attention));
        const Best best = best_head(*session_->trace(), session_->model()->config.n_heads);
        QCOMPARE(session_->layer(), best.layer);
        QCOMPARE(session_->head(), best.head);
        // stories260K has a clear previous-token head; the text gives its score.
        QVERIFY2(best.score > 0.6, qPrintable(QString::number(best.score)));
        QVERIFY2(walk()->numbersText().contains(QString::number(best.score, 'f', 2)),
                 qPrintable(walk()->numbersText()));
    }

    void the_neuron_step_shows_the_most_active_neuron() {
        walk()->go(stepOf(WalkStepKind::Mlp));
        const Trace& t = *session_->trace();
        int layer = -1, neuron = -1;
        float top = -INFINITY;
        for (int l = 0; l < static_cast<int>(t.layers.size()); ++l)
            for (int n = 0; n < t.layers[size_t(l)].mlp_post.cols(); ++n)
                if (t.layers[size_t(l)].mlp_post(last(), n) > top) {
                    top = t.layers[size_t(l)].mlp_post(last(), n);
                    layer = l;
                    neuron = n;
                }
        QCOMPARE(session_->layer(), layer);
        QCOMPARE(session_->neuron(), neuron);
        QVERIFY(walk()->numbersText().contains(QString("#%1 of layer %2").arg(neuron).arg(layer)));
        QVERIFY(walk()->numbersText().contains(QString::number(top, 'f', 2)));
    }

    void stray_clicks_are_undone_unless_unlocked() {
        walk()->go(stepOf(WalkStepKind::Attention));
        const int layer = session_->layer(), head = session_->head();
        session_->selectPosition(3);  // a click on a token
        QCOMPARE(session_->position(), last());
        session_->selectHead(0, (head + 1) % session_->model()->config.n_heads);  // on a head
        QCOMPARE(session_->layer(), layer);
        QCOMPARE(session_->head(), head);
        walk()->setUnlocked(true);
        session_->selectPosition(3);
        QCOMPARE(session_->position(), 3);
        walk()->setUnlocked(false);
        walk()->go(walk()->current());
        QCOMPARE(session_->position(), last());
    }

    void the_sampling_step_turns_the_dials_and_gives_them_back() {
        SamplingSettings mine;
        mine.temperature = 0.8f;
        mine.top_k = 40;
        session_->setSampling(mine);
        walk()->go(stepOf(WalkStepKind::Sampling));
        // The step's own settings, one after the other: temperatures, then top-k, then top-p.
        QSignalSpy turned(session_.get(), &Session::samplingChanged);
        QTRY_VERIFY_WITH_TIMEOUT(turned.count() >= 2, 10000);
        QVERIFY(session_->sampling().temperature != mine.temperature ||
                session_->sampling().top_k != mine.top_k);
        QVERIFY(walk()->numbersText().contains("tokens can be drawn"));
        walk()->go(0);
        QCOMPARE(session_->sampling().temperature, mine.temperature);
        QCOMPARE(session_->sampling().top_k, mine.top_k);
        window_->presenter()->endLesson();
    }

    void lesson_from_the_command_line() {
        QTemporaryDir dir;
        const QString png = dir.filePath("lesson.png");
        const auto r =
            test::run_cli({sample_path("stories260K"), "--prompt", kPrompt, "--lesson",
                           "--walk-step", "3", "--size", "1280x720", "--screenshot", png});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QCOMPARE(QImage(png).size(), QSize(1280, 720));
        const auto bad = test::run_cli(
            {sample_path("stories260K"), "--lesson", "--view", "attention", "--screenshot", png});
        QCOMPARE(bad.exit_code, 1);
        QVERIFY2(bad.err.contains("--lesson"), bad.err.constData());
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiLesson)
#include "test_gui_lesson.moc"
