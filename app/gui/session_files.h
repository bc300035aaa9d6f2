// The main window's session files: File > Open Session / Save Session / Save Session As, the
// window title naming the session file, and the autosave (on a timer when something changed,
// and on quit). Errors are shown in a dialog and change nothing.
//
// Opening a session whose model differs from the current one loads that model first and applies
// the rest (prompt, sampling, seed, selection, layout) once it has loaded; if it fails to load,
// the current model, prompt and settings stay as they were.
//
// The autosave is off until setAutosavePath() (the app turns it on; tests and screenshot runs
// never touch the user's autosave).
#pragma once

#include <QObject>
#include <QString>
#include <QTimer>
#include <optional>

#include "app/session/session_file.h"

class QMenu;

namespace ps {

class MainWindow;
class Session;

class SessionFiles : public QObject {
    Q_OBJECT
  public:
    SessionFiles(Session* session, MainWindow* window);

    // What the window shows now, as a session.
    SessionState capture() const;
    // The same without the layout (cheap: what changes as the user works).
    SessionState captureWork() const;
    // Shows `state` (see above). Asynchronous when the model has to be loaded.
    void apply(const SessionState& state);
    // True while a session's model is loading and the rest waits for it.
    bool applying() const { return pending_.has_value(); }

    // Read / write a file; on error a dialog (and lastError()), false, nothing changed.
    bool open(const QString& path);
    bool saveTo(const QString& path);
    bool save();  // to currentPath(), else asks for a name
    void openDialog();
    bool saveAsDialog();
    // File menu entries: Open Session…, Save Session, Save Session As….
    void addActions(QMenu* file);

    // The session file the window shows ("" until one is opened or saved).
    const QString& currentPath() const { return current_path_; }
    // The work (all but the layout) differs from when the file was opened or saved.
    bool modified() const;
    // "notes.paramscope[*] — stories — ParamScope" (QWidget's [*] shows modified()).
    QString title() const;
    void updateTitle();
    const QString& lastError() const { return last_error_; }

    // Autosave: `path` ("" = off), every `interval_ms` when something changed.
    void setAutosavePath(const QString& path, int interval_ms = 30000);
    const QString& autosavePath() const { return autosave_path_; }
    // Writes the autosave now (if on). Errors go to stderr and the status bar, never a dialog:
    // this runs on quit.
    bool autosave();

  signals:
    void errorShown(const QString& message);
    void sessionApplied();  // a state was applied in full (the model loaded, if it had to)

  private:
    void markChanged();
    void finishApply(const SessionState& state);
    void setCurrentPath(const QString& path);
    void showError(const QString& title, const QString& message);

    Session* session_;
    MainWindow* window_;
    QString current_path_;
    QString pending_path_;  // the session file whose model is loading
    std::optional<SessionState> pending_;
    SessionState saved_;  // captureWork() when the current file was opened or saved
    bool changed_since_autosave_ = false;
    QString autosave_path_;
    QTimer autosave_timer_;
    QString last_error_;
};

}  // namespace ps
