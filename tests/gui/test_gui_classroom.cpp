// The Classroom display preset, projected (offscreen) at 1280x720 and 1920x1080 on the
// stories260K sample: every lesson step has no cut text, no overlapping tick labels and no plot
// squeezed below a readable size (tests/support/layout_check.h), and the window keeps the size
// the projector gives it. The preset is high contrast, large text and thick lines, and leaving
// it gives the system look back.
#include <QAction>
#include <QtTest>
#include <memory>

#include "app/gui/main_window.h"
#include "app/gui/presenter.h"
#include "app/gui/samples.h"
#include "app/session/session.h"
#include "tests/support/gui_window.h"
#include "tests/support/layout_check.h"
#include "tests/support/suite.h"
#include "views/walk/guided_walk.h"
#include "views/widgets/theme.h"

using namespace ps;

namespace {

const QString kPrompt =
    "Once upon a time, there was a little girl named Lily. She went to the park. Lily";

// Lays out and replots everything, so the checks see what a frame would show.
void settle_layout(QWidget* window) {
    for (int i = 0; i < 3; ++i) QCoreApplication::processEvents();
    // Twice: a plot places its ticks from the size and labels of its previous frame.
    for (int pass = 0; pass < 2; ++pass)
        for (QCustomPlot* plot : window->findChildren<QCustomPlot*>())
            if (plot->isVisible()) plot->replot(QCustomPlot::rpImmediateRefresh);
    QCoreApplication::processEvents();
}

}  // namespace

class TestGuiClassroom : public QObject {
    Q_OBJECT
    std::unique_ptr<Session> session_;
    std::unique_ptr<MainWindow> window_;

    QStringList lessonProblems(QSize size) {
        Appearance::instance().setClassroom(true);
        // As from the command line: the lesson starts in a window sized for every view, which
        // the projector's size then replaces.
        window_->presenter()->endLesson();
        window_->resize(size);
        settle_layout(window_.get());
        window_->presenter()->startLesson(0);
        window_->resize(size);
        QStringList problems;
        GuidedWalk* walk = window_->walk();
        for (int i = 0; i < walk->stepCount(); ++i) {
            walk->go(i);
            settle_layout(window_.get());
            // The window keeps the projector's size: what the step shows fits in it.
            if (window_->size() != size)
                problems << QString("%1x%2 step %3: the window grew to %4x%5")
                                .arg(size.width())
                                .arg(size.height())
                                .arg(i + 1)
                                .arg(window_->width())
                                .arg(window_->height());
            for (const QString& p : ps::test::layout_problems(window_.get()))
                problems << QString("%1x%2 step %3 (%4): %5")
                                .arg(size.width())
                                .arg(size.height())
                                .arg(i + 1)
                                .arg(walk->step(i).title, p);
        }
        window_->presenter()->endLesson();
        return problems;
    }

  private slots:
    void initTestCase() {
        QVERIFY(ps::test::open_main_window(session_, window_, QSize(1280, 720), kPrompt,
                                           sample_path("stories260K")));
    }

    void cleanupTestCase() {
        Appearance::instance().setClassroom(false);
        window_.reset();
        session_.reset();
    }

    void the_preset_is_contrast_text_and_lines() {
        auto* action = window_->findChild<QAction*>("classroomAction");
        QVERIFY(action && action->isCheckable() && !action->isChecked());
        action->trigger();
        Appearance& a = Appearance::instance();
        QVERIFY(a.classroom());
        QCOMPARE(a.theme(), Theme::HighContrastLight);
        QCOMPARE(a.fontScale(), Appearance::kClassroomScale);
        QVERIFY(action->isChecked());
        // Plot lines are thicker: the axes of every plot.
        settle_layout(window_.get());
        for (QCustomPlot* plot : window_->findChildren<QCustomPlot*>())
            for (QCPAxis* axis : plot->isVisible() ? plot->axisRect()->axes() : QList<QCPAxis*>())
                if (axis->visible() && axis->basePen().style() != Qt::NoPen)
                    QVERIFY2(axis->basePen().widthF() >= Appearance::kClassroomLines,
                             qPrintable(plot->objectName()));
        action->trigger();
        QVERIFY(!a.classroom());
        QCOMPARE(a.theme(), Theme::System);
        QCOMPARE(a.fontScale(), 1.0);
        a.setClassroom(true);
    }

    void every_lesson_step_reads_at_1280x720() {
        const QStringList problems = lessonProblems(QSize(1280, 720));
        for (const QString& p : problems) qWarning().noquote() << p;  // the whole list
        QVERIFY2(problems.isEmpty(), qPrintable("\n" + problems.join("\n")));
    }

    void every_lesson_step_reads_at_1920x1080() {
        const QStringList problems = lessonProblems(QSize(1920, 1080));
        for (const QString& p : problems) qWarning().noquote() << p;
        QVERIFY2(problems.isEmpty(), qPrintable("\n" + problems.join("\n")));
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiClassroom)
#include "test_gui_classroom.moc"
