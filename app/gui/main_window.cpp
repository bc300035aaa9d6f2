#include "app/gui/main_window.h"

#include <QAction>
#include <QApplication>
#include <QCloseEvent>
#include <QDockWidget>
#include <QDragEnterEvent>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QLayout>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QSettings>
#include <QSplitter>
#include <QStatusBar>
#include <QVBoxLayout>

#include "app/gui/presenter.h"
#include "app/gui/samples.h"
#include "app/gui/session_files.h"
#include "app/gui/view_export.h"
#include "app/session/session.h"
#include "views/attention/attention_view.h"
#include "views/compare/compare_view.h"
#include "views/distribution/distribution_view.h"
#include "views/interventions/interventions_view.h"
#include "views/interventions/steering_panel.h"
#include "views/interventions/sweep_view.h"
#include "views/layers/embeddings_view.h"
#include "views/layers/logit_lens_view.h"
#include "views/layers/neurons_view.h"
#include "views/parameters/parameters_view.h"
#include "views/prompt/chat_bar.h"
#include "views/prompt/context_banner.h"
#include "views/prompt/model_warnings_banner.h"
#include "views/prompt/prompt_editor.h"
#include "views/prompt/token_strip.h"
#include "views/walk/guided_walk.h"
#include "views/walk/help_button.h"

namespace ps {

namespace {

constexpr int kLayoutVersion = 2;
constexpr int kMaxRecent = 10;

QString human_count(int64_t n) {
    if (n < 1000) return QString::number(n);
    if (n < 1000000) return QString::number(n / 1e3, 'f', 1) + "K";
    if (n < 1000000000) return QString::number(n / 1e6, 'f', 1) + "M";
    return QString::number(n / 1e9, 'f', 2) + "B";
}

}  // namespace

MainWindow::MainWindow(Session* session, QWidget* parent)
    : QMainWindow(parent), session_(session), presenter_(new Presenter(this, session)) {
    setObjectName("mainWindow");
    setWindowTitle("ParamScope");
    setAcceptDrops(true);
    setDockNestingEnabled(true);
    // The right-hand views take the full height; the distribution stays under the prompt.
    setCorner(Qt::BottomRightCorner, Qt::RightDockWidgetArea);
    setCorner(Qt::TopRightCorner, Qt::RightDockWidgetArea);
    // The guided walk (left) takes the full height when open.
    setCorner(Qt::BottomLeftCorner, Qt::LeftDockWidgetArea);

    // The prompt and its tokens are the middle of the window; views dock around them.
    auto* prompt = new PromptEditor(session, this);
    auto* tokens = new TokenStrip(session, this);
    auto* center = new QSplitter(Qt::Vertical, this);
    center->setObjectName("center");
    auto* prompt_area = new QWidget(this);
    auto* prompt_layout = new QVBoxLayout(prompt_area);
    prompt_layout->setContentsMargins(0, 0, 0, 0);
    prompt_layout->setSpacing(0);
    prompt_layout->addWidget(new ChatBar(session, prompt_area));  // models with a chat template
    prompt_layout->addWidget(with_context_banner(session, prompt, prompt_area), 1);  // too long
    center->addWidget(prompt_area);
    center->addWidget(tokens);
    center->setStretchFactor(0, 2);
    center->setStretchFactor(1, 3);
    center->setChildrenCollapsible(false);
    center->setSizes({80, 120});
    setCentralWidget(with_model_warnings(session, center, this));  // banner: model warnings
    views_["prompt"] = prompt;
    views_["tokens"] = tokens;
    add_corner_help(prompt, "view-prompt");
    add_corner_help(tokens, "view-tokens");

    addDock("distribution", tr("Next-token distribution"), new DistributionView(session, this),
            Qt::BottomDockWidgetArea);
    addDock("parameters", tr("Parameters"), new ParametersView(session, this),
            Qt::RightDockWidgetArea);
    // The layer views, tabbed together with the parameters on the right (stacked, their
    // minimum heights would add up and force a tall window).
    QDockWidget* lens = addDock("logit-lens", tr("Logit lens"), new LogitLensView(session, this),
                                Qt::RightDockWidgetArea);
    tabifyDockWidget(qobject_cast<QDockWidget*>(views_["parameters"]->parentWidget()), lens);
    tabifyDockWidget(lens, addDock("neurons", tr("Neurons"), new NeuronsView(session, this),
                                   Qt::RightDockWidgetArea));
    tabifyDockWidget(lens, addDock("embeddings", tr("Embeddings"),
                                   new EmbeddingsView(session, this), Qt::RightDockWidgetArea));
    tabifyDockWidget(lens, addDock("attention", tr("Attention"), new AttentionView(session, this),
                                   Qt::RightDockWidgetArea));
    tabifyDockWidget(lens, addDock("compare", tr("Compare sampling"),
                                   new CompareView(session, this), Qt::RightDockWidgetArea));
    tabifyDockWidget(lens, addDock("interventions", tr("Interventions"),
                                   new InterventionsView(session, this), Qt::RightDockWidgetArea));
    QDockWidget* sweep =
        addDock("sweep", tr("Sweep a dial"), new SweepView(session, this), Qt::RightDockWidgetArea);
    tabifyDockWidget(lens, sweep);
    tabifyDockWidget(lens, addDock("steering", tr("Steering"), new SteeringPanel(session, this),
                                   Qt::RightDockWidgetArea));
    // A sweep asked for from a context menu shows where its lines are drawn.
    connect(session, &Session::sweepReady, sweep, [session, sweep] {
        if (session->sweepRunning()) sweep->raise();
    });
    lens->raise();
    // The guided walk, on the left, opened from the View menu (or --view walk).
    QDockWidget* walk_dock = addDock("walk", tr("Follow the prompt"),
                                     walk_ = new GuidedWalk(session, this), Qt::LeftDockWidgetArea);
    walk_dock->hide();
    presenter_->setWalk(walk_, walk_dock);

    model_label_ = new QLabel(tr("no model"), this);
    tokens_label_ = new QLabel(this);
    time_label_ = new QLabel(this);
    statusBar()->addPermanentWidget(model_label_);
    statusBar()->addPermanentWidget(tokens_label_);
    statusBar()->addPermanentWidget(time_label_);
    session_files_ = new SessionFiles(session, this);
    createMenus();

    connect(session_, &Session::modelChanged, this, &MainWindow::onModelChanged);
    connect(session_, &Session::promptChanged, this, &MainWindow::updateStatus);
    connect(session_, &Session::analysisReady, this, &MainWindow::updateStatus);
    connect(session_, &Session::busyChanged, this, &MainWindow::updateStatus);
    connect(session_, &Session::modelLoading, this,
            [this](const QString& path) { statusBar()->showMessage(tr("Opening %1…").arg(path)); });
    connect(
        session_, &Session::modelLoadFailed, this, [this](const QString& path, const QString& msg) {
            statusBar()->showMessage(tr("Could not open %1").arg(path), 10000);
            auto* box = new QMessageBox(QMessageBox::Warning, tr("Could not open model"),
                                        tr("Could not open %1").arg(path), QMessageBox::Ok, this);
            box->setInformativeText(msg);
            box->setAttribute(Qt::WA_DeleteOnClose);
            box->open();  // not exec(): the event loop keeps running
        });
    connect(session_, &Session::error, this,
            [this](const QString& msg) { statusBar()->showMessage(msg, 10000); });

    resize(1280, 860);
    resizeDocks({qobject_cast<QDockWidget*>(views_["distribution"]->parentWidget())}, {600},
                Qt::Vertical);
    default_state_ = saveState(kLayoutVersion);
    QSettings settings;
    restoreGeometry(settings.value("mainWindow/geometry").toByteArray());
    restoreState(settings.value("mainWindow/state").toByteArray(), kLayoutVersion);
    updateStatus();
}

QDockWidget* MainWindow::addDock(const QString& name, const QString& title, QWidget* view,
                                 Qt::DockWidgetArea area) {
    auto* dock = new QDockWidget(title, this);
    dock->setObjectName(name + "Dock");
    dock->setWidget(view);
    dock->setTitleBarWidget(
        new DockTitleBar(dock, "view-" + name, [this, name] { presenter_->present(name); }));
    addDockWidget(area, dock);
    views_[name] = view;
    if (view_menu_) view_menu_->addAction(dock->toggleViewAction());
    return dock;
}

void MainWindow::createMenus() {
    QMenu* file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open Model…"), QKeySequence::Open, this, &MainWindow::openDialog);
    file->addAction(tr("Open Model &Directory…"), this, [this] {
        const QString dir =
            QFileDialog::getExistingDirectory(this, tr("Open a Hugging Face model directory"));
        if (!dir.isEmpty()) openModel(dir);
    });
    QMenu* samples = file->addMenu(tr("Open &Sample"));
    samples->setObjectName("samplesMenu");
    for (const QString& name : sample_names())
        samples->addAction(name, this, [this, name] { openModel(sample_path(name)); });
    samples->setEnabled(!samples->isEmpty());
    recent_menu_ = file->addMenu(tr("Open &Recent"));
    rebuildRecentMenu();
    file->addSeparator();
    session_files_->addActions(file);
    file->addSeparator();
    add_export_menu(file, this, session_);
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);

    view_menu_ = menuBar()->addMenu(tr("&View"));
    for (QDockWidget* dock : findChildren<QDockWidget*>())
        view_menu_->addAction(dock->toggleViewAction());
    presenter_->addMenus(view_menu_);
    view_menu_->addSeparator();
    view_menu_->addAction(tr("&Reset Layout"), this, &MainWindow::resetLayout);
    // Drops the running analysis or generation (a no-op when idle); Escape is presentation's.
    view_menu_
        ->addAction(tr("&Stop Analysis"), QKeySequence(Qt::CTRL | Qt::Key_Period), session_,
                    &Session::cancelAnalysis)
        ->setObjectName("stopAnalysis");
}

QStringList MainWindow::recentModels() {
    return QSettings().value("recentModels").toStringList();
}

void MainWindow::rebuildRecentMenu() {
    recent_menu_->clear();
    const QStringList recent = recentModels();
    for (const QString& path : recent)
        recent_menu_->addAction(path, this, [this, path] { openModel(path); });
    recent_menu_->setEnabled(!recent.isEmpty());
}

void MainWindow::openModel(const QString& path) {
    session_->openModel(path);
}

void MainWindow::openDialog() {
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open a model"), QFileInfo(recentModels().value(0)).absolutePath(),
        tr("Models (*.bin *.gguf *.safetensors config.json);;All files (*)"));
    if (path.isEmpty()) return;
    // A Hugging Face directory is opened through its config.json.
    openModel(QFileInfo(path).fileName() == "config.json" ? QFileInfo(path).absolutePath() : path);
}

void MainWindow::onModelChanged() {
    const auto& model = session_->model();
    if (!model) return;
    const QString path = QString::fromStdString(model->path);
    QSettings settings;
    QStringList recent = recentModels();
    recent.removeAll(path);
    recent.prepend(path);
    while (recent.size() > kMaxRecent) recent.removeLast();
    settings.setValue("recentModels", recent);
    settings.setValue("lastModel", path);
    rebuildRecentMenu();
    statusBar()->showMessage(tr("Opened %1").arg(path), 5000);
    session_files_->updateTitle();  // "session — model — ParamScope"
    updateStatus();
}

void MainWindow::updateStatus() {
    const auto& model = session_->model();
    if (model) {
        model_label_->setText(tr("%1 · %2 · %3 parameters · %4")
                                  .arg(QString::fromStdString(model->name))
                                  .arg(arch_name(model->config.arch))
                                  .arg(human_count(model->totals().total()))
                                  .arg(QString::fromStdString(model->format)));
        model_label_->setToolTip(QString::fromStdString(model->path));
    }
    // "N / C tokens": the count against the model's context window.
    const int n_tokens = static_cast<int>(session_->tokens().size());
    tokens_label_->setText(model ? tr("%1 / %2 tokens").arg(n_tokens).arg(session_->contextLength())
                                 : tr("%n token(s)", "", n_tokens));
    time_label_->setText(session_->loading()     ? tr("loading…")
                         : session_->analyzing() ? tr("analyzing…")
                         : session_->trace()
                             ? tr("forward %1 ms").arg(session_->lastForwardMs(), 0, 'f', 1)
                             : QString());
    // A longer time is shown whole at once, not after the status bar's next layout.
    if (QLayout* bar = statusBar()->layout()) bar->activate();
}

QByteArray MainWindow::layoutState() const {
    return saveState(kLayoutVersion);
}

bool MainWindow::restoreLayoutState(const QByteArray& state) {
    return restoreState(state, kLayoutVersion);
}

void MainWindow::resetLayout() {
    presenter_->leave();  // the presented view first goes home
    presenter_->endLesson();
    restoreState(default_state_, kLayoutVersion);
    findChild<QSplitter*>("center")->setSizes({80, 120});
}

void MainWindow::saveLayout() const {
    QSettings settings;
    settings.setValue("mainWindow/geometry", saveGeometry());
    settings.setValue("mainWindow/state", saveState(kLayoutVersion));
}

void MainWindow::closeEvent(QCloseEvent* event) {
    saveLayout();
    session_files_->autosave();
    QSettings().setValue("prompt", session_->prompt());
    event->accept();
}

void MainWindow::dragEnterEvent(QDragEnterEvent* event) {
    const auto urls = event->mimeData()->urls();
    if (urls.size() == 1 && urls.first().isLocalFile()) event->acceptProposedAction();
}

void MainWindow::dropEvent(QDropEvent* event) {
    const auto urls = event->mimeData()->urls();
    if (urls.size() != 1 || !urls.first().isLocalFile()) return;
    QString path = urls.first().toLocalFile();
    if (QFileInfo(path).fileName() == "config.json") path = QFileInfo(path).absolutePath();
    openModel(path);
    event->acceptProposedAction();
}

}  // namespace ps
