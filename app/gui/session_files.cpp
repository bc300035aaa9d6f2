#include "app/gui/session_files.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QMenu>
#include <QMessageBox>
#include <QStatusBar>
#include <cstdio>
#include <exception>

#include "app/gui/main_window.h"
#include "app/session/session.h"

namespace ps {

namespace {

QString message_of(const std::exception& e) {
    return QString::fromUtf8(e.what());
}

// Whether two paths name the same model (as typed, or once symlinks and ".." are resolved).
bool same_model_path(const QString& a, const QString& b) {
    if (a == b) return true;
    const QString ca = QFileInfo(a).canonicalFilePath(), cb = QFileInfo(b).canonicalFilePath();
    return !ca.isEmpty() && ca == cb;
}

}  // namespace

SessionFiles::SessionFiles(Session* session, MainWindow* window)
    : QObject(window), session_(session), window_(window) {
    for (auto signal : {&Session::promptChanged, &Session::samplingChanged,
                        &Session::selectionChanged, &Session::seedChanged})
        connect(session_, signal, this, &SessionFiles::markChanged);
    connect(session_, &Session::modelChanged, this, [this] {
        if (pending_) {
            // The session's model has loaded: show the rest of it. Another model (opened by
            // the user meanwhile) cancels the session's.
            const SessionState state = *pending_;
            const QString path = pending_path_;
            pending_.reset();
            if (session_->model() &&
                same_model_path(QString::fromStdString(session_->model()->path),
                                state.model_path)) {
                finishApply(state);
                if (!path.isEmpty()) setCurrentPath(path);
                return;
            }
        }
        markChanged();
    });
    connect(session_, &Session::modelLoadFailed, this, [this](const QString& path) {
        // MainWindow shows the model's error; the session's other settings are not applied.
        if (pending_ && same_model_path(path, pending_->model_path)) pending_.reset();
    });
    autosave_timer_.setInterval(30000);
    connect(&autosave_timer_, &QTimer::timeout, this, [this] {
        if (changed_since_autosave_) autosave();
    });
}

SessionState SessionFiles::capture() const {
    SessionState s = captureWork();
    s.window_geometry = window_->saveGeometry();
    s.window_state = window_->layoutState();
    return s;
}

SessionState SessionFiles::captureWork() const {
    SessionState s;
    if (const auto& model = session_->model())
        s.model_path = QFileInfo(QString::fromStdString(model->path)).absoluteFilePath();
    s.prompt = session_->prompt();
    s.sampling = session_->sampling();
    s.seed = session_->seed();
    // The selection as chosen (-1 follows the last position), not clamped to a trace.
    s.position = session_->selectedPosition();
    s.layer = session_->layer();
    s.head = session_->head();
    s.neuron = session_->neuron();
    for (const Intervention& iv : session_->interventions())
        if (!iv.values)  // patches and steering need their source prompts
            s.interventions.push_back({QString::fromStdString(iv.spec()), iv.enabled});
    for (const WeightEdit& e : session_->weightEdits())
        s.interventions.push_back({QString::fromStdString(e.spec()), e.enabled});
    return s;
}

bool SessionFiles::modified() const {
    return !current_path_.isEmpty() && !(captureWork() == saved_);
}

void SessionFiles::apply(const SessionState& state) {
    pending_.reset();
    const auto& model = session_->model();
    const bool same_model =
        state.model_path.isEmpty() ||
        (model && same_model_path(QString::fromStdString(model->path), state.model_path));
    if (same_model) {
        finishApply(state);
        return;
    }
    pending_ = state;
    pending_path_.clear();
    session_->openModel(state.model_path);
}

void SessionFiles::finishApply(const SessionState& state) {
    session_->setSampling(state.sampling);
    session_->setSeed(state.seed);
    session_->setPrompt(state.prompt);
    session_->selectPosition(state.position);
    session_->selectHead(state.layer, state.head);
    session_->selectNeuron(state.layer, state.neuron);
    for (const QString& message : session_->restoreInterventions(state.interventions))
        showError(tr("Could not restore an intervention"), message);
    if (!state.window_geometry.isEmpty()) window_->restoreGeometry(state.window_geometry);
    if (!state.window_state.isEmpty()) window_->restoreLayoutState(state.window_state);
    session_->analyzeNow();
    saved_ = captureWork();
    updateTitle();
    emit sessionApplied();
}

bool SessionFiles::open(const QString& path) {
    SessionState state;
    try {
        state = read_session_file(path);
    } catch (const std::exception& e) {
        showError(tr("Could not open session"), message_of(e));
        return false;
    }
    if (!state.model_path.isEmpty() && !QFileInfo::exists(state.model_path)) {
        showError(tr("Could not open session"),
                  tr("%1: the model %2 does not exist").arg(path, state.model_path));
        return false;
    }
    apply(state);
    if (pending_)
        pending_path_ = path;  // named once its model has loaded
    else
        setCurrentPath(path);
    return true;
}

bool SessionFiles::saveTo(const QString& path) {
    try {
        write_session_file(path, capture());
    } catch (const std::exception& e) {
        showError(tr("Could not save session"), message_of(e));
        return false;
    }
    setCurrentPath(path);
    window_->statusBar()->showMessage(tr("Saved %1").arg(path), 5000);
    return true;
}

bool SessionFiles::save() {
    return current_path_.isEmpty() ? saveAsDialog() : saveTo(current_path_);
}

void SessionFiles::openDialog() {
    const QString path = QFileDialog::getOpenFileName(
        window_, tr("Open a session"), QFileInfo(current_path_).absolutePath(),
        tr("ParamScope sessions (*.%1);;All files (*)").arg(kSessionSuffix));
    if (!path.isEmpty()) open(path);
}

bool SessionFiles::saveAsDialog() {
    QString path =
        QFileDialog::getSaveFileName(window_, tr("Save the session"), current_path_,
                                     tr("ParamScope sessions (*.%1)").arg(kSessionSuffix));
    if (path.isEmpty()) return false;
    if (QFileInfo(path).suffix().isEmpty()) path += QString(".") + kSessionSuffix;
    return saveTo(path);
}

void SessionFiles::addActions(QMenu* file) {
    file->addAction(tr("Open Sess&ion…"), this, &SessionFiles::openDialog);
    file->addAction(tr("&Save Session"), QKeySequence::Save, this, &SessionFiles::save);
    file->addAction(tr("Save Session &As…"), QKeySequence::SaveAs, this,
                    &SessionFiles::saveAsDialog);
}

QString SessionFiles::title() const {
    QStringList parts;
    if (!current_path_.isEmpty()) parts << QFileInfo(current_path_).fileName() + "[*]";
    if (const auto& model = session_->model()) parts << QString::fromStdString(model->name);
    parts << QStringLiteral("ParamScope");
    return parts.join(QStringLiteral(" — "));
}

void SessionFiles::updateTitle() {
    window_->setWindowTitle(title());
    window_->setWindowModified(modified());
}

void SessionFiles::setCurrentPath(const QString& path) {
    current_path_ = path;
    saved_ = captureWork();
    updateTitle();
}

void SessionFiles::markChanged() {
    changed_since_autosave_ = true;
    updateTitle();
}

void SessionFiles::showError(const QString& title, const QString& message) {
    last_error_ = message;
    auto* box = new QMessageBox(QMessageBox::Warning, title, message, QMessageBox::Ok, window_);
    box->setObjectName("sessionFileError");
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();  // not exec(): the event loop (and the analysis) keeps running
    emit errorShown(message);
}

void SessionFiles::setAutosavePath(const QString& path, int interval_ms) {
    autosave_path_ = path;
    autosave_timer_.setInterval(interval_ms);
    if (path.isEmpty())
        autosave_timer_.stop();
    else
        autosave_timer_.start();
}

bool SessionFiles::autosave() {
    if (autosave_path_.isEmpty()) return false;
    try {
        write_session_file(autosave_path_, capture());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "warning: autosave failed: %s\n", e.what());
        window_->statusBar()->showMessage(tr("Autosave failed: %1").arg(message_of(e)), 10000);
        return false;
    }
    changed_since_autosave_ = false;
    return true;
}

}  // namespace ps
