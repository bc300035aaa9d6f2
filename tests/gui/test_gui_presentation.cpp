// Presentation mode and the layout, on the stories sample (offscreen): F5 and Escape at every
// walk step, and on every view, put everything back where it was (every dock visible, in its
// area and at its place; the prompt editor and the tokens in the middle); typing in a presented
// prompt editor types, it does not move the walk; View > Reset Layout brings back every view,
// also when it is used while presenting.
#include <QDockWidget>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSplitter>
#include <QtTest>
#include <memory>

#include "app/gui/main_window.h"
#include "app/gui/presenter.h"
#include "app/gui/samples.h"
#include "app/session/session.h"
#include "tests/support/gui_session.h"
#include "tests/support/gui_window.h"
#include "tests/support/suite.h"
#include "views/walk/guided_walk.h"

using namespace ps;
using ps::test::settled;

namespace {

// Where every view is: its window, whether it is visible, its rectangle in the main window,
// and its dock's area, tab group and floating state. Two equal layouts compare equal.
QStringList layout_of(MainWindow& window) {
    QStringList out;
    for (const QString& name : window.viewNames()) {
        QWidget* view = window.view(name);
        // A dock behind another tab has no meaningful place: only the shown ones have one.
        QRect r(view->mapTo(view->window(), QPoint(0, 0)), view->size());
        if (!view->window()->rect().intersects(r)) r = QRect();
        QString line = QString("%1: %2 %3 %4,%5 %6x%7")
                           .arg(name, view->window() == &window ? "main" : "elsewhere",
                                view->isVisible() ? "visible" : "hidden")
                           .arg(r.x())
                           .arg(r.y())
                           .arg(r.width())
                           .arg(r.height());
        if (auto* dock = qobject_cast<QDockWidget*>(view->parentWidget()))
            line += QString(" dock %1 area %2 floating %3 tabs %4")
                        .arg(dock->isVisible())
                        .arg(int(window.dockWidgetArea(dock)))
                        .arg(dock->isFloating())
                        .arg(window.tabifiedDockWidgets(dock).size());
        out << line;
    }
    out << QString("center %1").arg([&] {
        QStringList sizes;
        for (int s : window.findChild<QSplitter*>("center")->sizes()) sizes << QString::number(s);
        return sizes.join(",");
    }());
    return out;
}

}  // namespace

class TestGuiPresentation : public QObject {
    Q_OBJECT
    std::unique_ptr<Session> session_;
    std::unique_ptr<MainWindow> window_;

    Presenter* presenter() { return window_->presenter(); }

    // F5 on the main window, then Escape on whatever has the focus in the stage.
    void presentAndLeave(const QString& expected_view) {
        // (An activation asked for when the window is active already would be handled late,
        // taking the focus back from the stage.)
        if (!window_->isActiveWindow()) window_->activateWindow();
        QTRY_VERIFY(window_->isActiveWindow());
        QTest::keyClick(window_.get(), Qt::Key_F5);
        QVERIFY(presenter()->presenting());
        QCOMPARE(presenter()->presentedView(), expected_view);
        QCOMPARE(window_->view(expected_view)->window(), presenter()->stage());
        // (qWaitForWindowActive answers for the native window, before QApplication has moved
        // the focus: wait for the widget's side.)
        QTRY_VERIFY(presenter()->stage()->isActiveWindow());
        // The key goes where a keyboard's would: the stage's focus widget.
        QWidget* focus = QApplication::focusWidget();
        QVERIFY2(!focus || focus->window() == presenter()->stage(),
                 qPrintable(focus ? focus->objectName() + " " + focus->metaObject()->className()
                                  : QString()));
        QTest::keyClick(focus ? focus : presenter()->stage(), Qt::Key_Escape);
        QVERIFY(!presenter()->presenting());
    }

  private slots:
    void initTestCase() {
        QVERIFY(ps::test::open_main_window(session_, window_, QSize(1400, 860),
                                           "Once upon a time, there was a little girl named Lily.",
                                           ps::test::stories()));
    }

    void cleanupTestCase() {
        window_.reset();
        session_.reset();
    }

    void f5_and_escape_at_every_walk_step_restore_the_layout() {
        GuidedWalk* walk = window_->walk();
        presenter()->startWalk(0);
        QTRY_VERIFY(settled(*session_));
        for (int i = 0; i < walk->stepCount(); ++i) {
            walk->go(i);
            QCoreApplication::processEvents();
            const QStringList before = layout_of(*window_);
            presentAndLeave(walk->step(i).view);
            QTRY_COMPARE(layout_of(*window_), before);
            QVERIFY(window_->view("prompt")->isVisible());
        }
    }

    void walking_while_presenting_brings_every_view_home() {
        GuidedWalk* walk = window_->walk();
        walk->go(0);  // the prompt editor's step
        QCoreApplication::processEvents();
        const QStringList before = layout_of(*window_);
        QVERIFY(presenter()->present(walk->step(0).view));
        for (int i = 1; i < walk->stepCount(); ++i) {
            QTest::keyClick(presenter()->stage(), Qt::Key_PageDown);
            QCOMPARE(walk->current(), i);
            // One view on the stage at a time: the one before went home.
            for (const QString& name : window_->viewNames())
                QCOMPARE(window_->view(name)->window() == presenter()->stage(),
                         name == walk->step(i).view);
        }
        presenter()->leave();
        walk->go(0);
        QCoreApplication::processEvents();
        QTRY_COMPARE(layout_of(*window_), before);
    }

    void every_view_presents_and_returns() {
        for (const QString& name : window_->viewNames()) {
            const QStringList before = layout_of(*window_);
            QVERIFY2(presenter()->present(name), qPrintable(name));
            // The place it left is held for it.
            QVERIFY(window_->findChild<QWidget*>("presentationPlaceholder"));
            presenter()->leave();
            QTRY_COMPARE(layout_of(*window_), before);
        }
    }

    void typing_in_the_presented_prompt_types() {
        GuidedWalk* walk = window_->walk();
        walk->go(0);
        QVERIFY(presenter()->present("prompt"));
        auto* editor = qobject_cast<QPlainTextEdit*>(window_->view("prompt"));
        QVERIFY(editor);
        editor->setFocus();
        QTRY_VERIFY(editor->hasFocus());
        editor->moveCursor(QTextCursor::End);
        const QString text = editor->toPlainText();
        QTest::keyClicks(editor, " and a cat");
        QCOMPARE(editor->toPlainText(), text + " and a cat");
        QCOMPARE(walk->current(), 0);
        presenter()->leave();
        QTRY_VERIFY(settled(*session_));
    }

    void reset_layout_brings_back_every_view() {
        presenter()->startWalk(0);
        const QStringList defaults = [&] {
            window_->walk()->parentWidget()->hide();
            window_->resetLayout();
            QCoreApplication::processEvents();
            return layout_of(*window_);
        }();
        // Docks closed and floated, and a view on the stage.
        for (QDockWidget* dock : window_->findChildren<QDockWidget*>()) {
            if (dock->objectName() == "distributionDock") dock->setFloating(true);
            if (dock->objectName() == "attentionDock") dock->hide();
        }
        QVERIFY(presenter()->present("prompt"));
        window_->resetLayout();
        QVERIFY(!presenter()->presenting());
        QCoreApplication::processEvents();
        QTRY_COMPARE(layout_of(*window_), defaults);
        for (const QString& name : window_->viewNames())
            QVERIFY2(window_->view(name)->window() == window_.get(), qPrintable(name));
        QVERIFY(window_->view("prompt")->isVisible() && window_->view("tokens")->isVisible());
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiPresentation)
#include "test_gui_presentation.moc"
