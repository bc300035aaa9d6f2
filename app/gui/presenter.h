// Everything for showing the app to a room: the guided walk's view raising and framing,
// presentation mode (one view alone, full screen, with a pointer ring), the theme and font
// size, and keyboard navigation of the selection (layer, head, position). Owned by the main
// window, which gives it the walk and adds its menu entries.
#pragma once

#include <QByteArray>
#include <QKeySequence>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QString>
#include <functional>

class QAction;
class QDockWidget;
class QLabel;
class QMenu;
class QWidget;

namespace ps {

class GuidedWalk;
class HighlightFrame;
class MainWindow;
class PointerRing;
class Session;
struct WalkStep;

class Presenter : public QObject {
    Q_OBJECT
  public:
    Presenter(MainWindow* window, Session* session);

    // The walk and its dock; the walk's steps then raise and frame their views.
    void setWalk(GuidedWalk* walk, QDockWidget* dock);
    // Shows the walk and goes to `step` (once the current prompt is analyzed).
    void startWalk(int step = 0);
    // The same with the lesson's eight steps (GuidedWalk::setLesson).
    void startLesson(int step = 0);
    // Back to the full walk and the layout from before the lesson (also when the walk closes).
    void endLesson();
    // The widget the walk's frame is on (null: none).
    QWidget* highlighted() const;

    // View > Follow the Prompt, Presentation Mode, Theme, Zoom and Navigate.
    void addMenus(QMenu* view_menu);

    // Presentation mode: view `name` alone in a full-screen window; leave() puts it back.
    bool present(const QString& name);
    void leave();
    void togglePresentation();
    bool presenting() const { return stage_ != nullptr; }
    QString presentedView() const { return presented_; }
    QWidget* stage() const { return stage_; }
    PointerRing* pointerRing() const { return ring_; }
    // The view presentation mode shows: the last one used or raised.
    QString currentView() const { return current_; }

    // Keyboard navigation of the shared selection, clamped to the model and the prompt.
    void stepLayer(int delta);
    void stepHead(int delta);
    void stepPosition(int delta);

  signals:
    void presentationChanged(bool presenting);

  protected:
    bool eventFilter(QObject* watched, QEvent* event) override;

  private:
    void showStep(int index);
    void layOutLessonStep(const QString& view_name);
    bool takeView(const QString& name);
    void returnView();
    void updateCaption();
    QAction* action(QMenu* menu, const QString& text, const QList<QKeySequence>& keys,
                    const std::function<void()>& slot);

    MainWindow* window_;
    Session* session_;
    QPointer<GuidedWalk> walk_;
    QPointer<QDockWidget> walk_dock_;
    HighlightFrame* frame_;
    QString current_ = "distribution";
    QByteArray layout_before_lesson_;

    // Presentation mode: the window, the view in it and where that view came from.
    QWidget* stage_ = nullptr;
    PointerRing* ring_ = nullptr;
    QLabel* stage_title_ = nullptr;
    QLabel* caption_ = nullptr;
    QString presented_;
    // Holds the presented view's place in the main window (its dock, splitter or layout),
    // size and all, so that leaving puts the view back exactly where it was.
    QPointer<QWidget> placeholder_;
};

}  // namespace ps
