// The main window: the prompt and its tokens in the middle, every other view in a dock (layout
// remembered with QSettings), File > Open / Open Recent / drag-and-drop, and a status bar with
// the model, the token count and the time of the last forward pass.
#pragma once

#include <QMainWindow>
#include <QMap>
#include <QStringList>

class QDockWidget;
class QLabel;
class QMenu;

namespace ps {

class GuidedWalk;
class Presenter;
class Session;
class SessionFiles;

class MainWindow : public QMainWindow {
    Q_OBJECT
  public:
    explicit MainWindow(Session* session, QWidget* parent = nullptr);

    // The views by the names `--view` takes: "prompt", "tokens", "distribution".
    QWidget* view(const QString& name) const { return views_.value(name, nullptr); }
    QStringList viewNames() const { return views_.keys(); }

    void openModel(const QString& path);
    void openDialog();
    void saveLayout() const;
    void resetLayout();  // the default dock layout
    // The dock layout (QMainWindow::saveState with this window's layout version).
    QByteArray layoutState() const;
    bool restoreLayoutState(const QByteArray& state);
    // File > Open Session / Save Session, the autosave and the window title.
    SessionFiles* sessionFiles() const { return session_files_; }

    static QStringList recentModels();

    // The guided walk ("Follow the prompt") and presentation mode, theme and font size.
    GuidedWalk* walk() const { return walk_; }
    Presenter* presenter() const { return presenter_; }

  protected:
    void closeEvent(QCloseEvent* event) override;
    void dragEnterEvent(QDragEnterEvent* event) override;
    void dropEvent(QDropEvent* event) override;

  private:
    QDockWidget* addDock(const QString& name, const QString& title, QWidget* view,
                         Qt::DockWidgetArea area);
    void createMenus();
    void rebuildRecentMenu();
    void onModelChanged();
    void updateStatus();

    Session* session_;
    Presenter* presenter_;
    SessionFiles* session_files_ = nullptr;
    GuidedWalk* walk_ = nullptr;
    QMap<QString, QWidget*> views_;
    QMenu* recent_menu_ = nullptr;
    QMenu* view_menu_ = nullptr;
    QLabel* model_label_;
    QLabel* tokens_label_;
    QLabel* time_label_;
    QByteArray default_state_;
};

}  // namespace ps
