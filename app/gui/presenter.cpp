#include "app/gui/presenter.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QDockWidget>
#include <QKeyEvent>
#include <QLabel>
#include <QMenu>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

#include "app/gui/main_window.h"
#include "app/session/session.h"
#include "views/parameters/parameter_inventory.h"
#include "views/parameters/parameters_view.h"
#include "views/walk/explanations.h"
#include "views/walk/guided_walk.h"
#include "views/walk/help_button.h"
#include "views/widgets/overlays.h"
#include "views/widgets/theme.h"

namespace ps {

Presenter::Presenter(MainWindow* window, Session* session)
    : QObject(window), window_(window), session_(session), frame_(new HighlightFrame(window)) {
    // Presentation mode shows the view the user last worked in.
    connect(qApp, &QApplication::focusChanged, this, [this](QWidget*, QWidget* now) {
        if (!now) return;
        for (const QString& name : window_->viewNames()) {
            QWidget* v = window_->view(name);
            if (v && (v == now || v->isAncestorOf(now)) && name != "walk") current_ = name;
        }
    });
}

void Presenter::setWalk(GuidedWalk* walk, QDockWidget* dock) {
    walk_ = walk;
    walk_dock_ = dock;
    connect(walk, &GuidedWalk::stepChanged, this, &Presenter::showStep);
    connect(walk, &GuidedWalk::updated, this, &Presenter::updateCaption);
    // Closing the walk takes its frame away.
    connect(dock->toggleViewAction(), &QAction::toggled, this, [this](bool on) {
        if (on) return;
        frame_->frame(nullptr);
        // The lesson's layout goes with it; later, not inside the hiding (which may be the
        // window closing: then this presenter is gone first and nothing happens).
        QTimer::singleShot(0, this, [this] {
            if (window_->isVisible() && walk_dock_ && !walk_dock_->isVisible()) endLesson();
        });
    });
}

void Presenter::startWalk(int step) {
    if (!walk_) return;
    walk_dock_->show();
    walk_dock_->raise();
    // The walk on the left, and the views it raises on the right at a readable width.
    QList<QDockWidget*> docks = {walk_dock_.data()};
    QList<int> widths = {340};
    for (QDockWidget* d : window_->findChildren<QDockWidget*>())
        if (window_->dockWidgetArea(d) == Qt::RightDockWidgetArea && d->isVisible() &&
            !d->isFloating()) {
            docks << d;
            widths << (window_->width() - 340) * 55 / 100;
            break;
        }
    window_->resizeDocks(docks, widths, Qt::Horizontal);
    walk_->setFocus();
    const auto& trace = session_->trace();
    if (trace && trace->ids == session_->tokens() && walk_->stepCount() > 0) {
        walk_->go(step);
        return;
    }
    // The MLP steps pick their neuron from the analysis: wait for it.
    connect(
        session_, &Session::analysisReady, walk_,
        [this, step] {
            walk_->go(step);
            walk_->setFocus();
        },
        Qt::SingleShotConnection);
}

void Presenter::startLesson(int step) {
    if (!walk_) return;
    window_->installEventFilter(this);  // a resized window lays the step out again
    if (!walk_->lesson()) layout_before_lesson_ = window_->layoutState();
    walk_->setLesson(true);
    startWalk(step);
}

void Presenter::endLesson() {
    if (!walk_ || !walk_->lesson()) return;
    window_->removeEventFilter(this);
    walk_->setLesson(false);
    const bool walk_open = walk_dock_->isVisible();
    window_->restoreLayoutState(layout_before_lesson_);
    walk_dock_->setVisible(walk_open);
    layout_before_lesson_.clear();
}

void Presenter::layOutLessonStep(const QString& view_name) {
    // Only what the step is about: the walk, the prompt and its tokens, and the step's view,
    // wide enough to read from the back of the room.
    QDockWidget* shown = qobject_cast<QDockWidget*>(window_->view(view_name)->parentWidget());
    for (QDockWidget* d : window_->findChildren<QDockWidget*>())
        if (d != walk_dock_ && d != shown && !d->isFloating()) d->hide();
    if (!shown) return;
    // On the right, full height: under the prompt (the distribution's place) its controls
    // would leave its chart a sliver at projector sizes. endLesson() puts it back.
    if (window_->dockWidgetArea(shown) != Qt::RightDockWidgetArea)
        window_->addDockWidget(Qt::RightDockWidgetArea, shown);
    shown->show();
    shown->raise();
    window_->resizeDocks({walk_dock_.data(), shown}, {300, (window_->width() - 300) * 72 / 100},
                         Qt::Horizontal);
}

QWidget* Presenter::highlighted() const {
    return frame_->target();
}

void Presenter::showStep(int index) {
    const WalkStep& step = walk_->step(index);
    QWidget* view = window_->view(step.view);
    if (!view) return;
    current_ = step.view;
    if (presenting()) {
        if (presented_ != step.view) {
            returnView();
            takeView(step.view);
        }
    } else if (walk_->lesson()) {
        layOutLessonStep(step.view);
    } else if (auto* dock = qobject_cast<QDockWidget*>(view->parentWidget())) {
        dock->show();
        dock->raise();
    }
    // The embedding step is about the table the row is looked up in.
    if (step.kind == WalkStepKind::Embeddings)
        if (auto* params = qobject_cast<ParametersView*>(view)) {
            params->inventory()->selectKind("embedding", -1);
            const int p = session_->position();
            if (p >= 0) params->showNearest(QString("#%1").arg(session_->trace()->ids[size_t(p)]));
        }
    QWidget* target = step.target.isEmpty() ? nullptr : view->findChild<QWidget*>(step.target);
    frame_->frame(target ? target : view);
    updateCaption();
}

QAction* Presenter::action(QMenu* menu, const QString& text, const QList<QKeySequence>& keys,
                           const std::function<void()>& slot) {
    QAction* a = menu->addAction(text, this, slot);
    a->setShortcuts(keys);
    // Also in the presentation window, which is a window of its own.
    a->setShortcutContext(Qt::ApplicationShortcut);
    return a;
}

void Presenter::addMenus(QMenu* view_menu) {
    view_menu->addSeparator();
    QAction* lesson = view_menu->addAction(tr("&Lesson (eight steps for a class)"), this,
                                           [this] { startLesson(); });
    lesson->setObjectName("lessonAction");
    lesson->setShortcut(QKeySequence(Qt::Key_F7));
    QAction* walk = view_menu->addAction(tr("&Follow the Prompt (guided walk)"), this, [this] {
        endLesson();
        startWalk(walk_ ? walk_->current() : 0);
    });
    walk->setObjectName("followPromptAction");
    walk->setShortcut(QKeySequence(Qt::Key_F6));
    QAction* present = action(view_menu, tr("&Presentation Mode"),
                              {QKeySequence(Qt::Key_F5), QKeySequence(Qt::Key_F11)},
                              [this] { togglePresentation(); });
    present->setObjectName("presentationAction");

    QMenu* theme = view_menu->addMenu(tr("&Theme"));
    auto* group = new QActionGroup(theme);
    const std::pair<Theme, QString> themes[] = {
        {Theme::System, tr("&System")},
        {Theme::HighContrastLight, tr("High-contrast &light")},
        {Theme::Dark, tr("&Dark")}};
    for (const auto& [theme_value, label] : themes) {
        const Theme t = theme_value;  // clang 14 cannot capture a structured binding
        QAction* a = theme->addAction(label, this, [t] { Appearance::instance().setTheme(t); });
        a->setCheckable(true);
        a->setChecked(Appearance::instance().theme() == t);
        a->setObjectName(QString("theme-") + theme_name(t));
        group->addAction(a);
    }
    connect(&Appearance::instance(), &Appearance::changed, group, [group] {
        for (QAction* a : group->actions())
            if (a->objectName() == QString("theme-") + theme_name(Appearance::instance().theme()))
                a->setChecked(true);
    });

    // The projector preset: large text, high contrast, thick lines.
    QAction* classroom = view_menu->addAction(
        tr("&Classroom Display"), this, [](bool on) { Appearance::instance().setClassroom(on); });
    classroom->setObjectName("classroomAction");
    classroom->setCheckable(true);
    classroom->setChecked(Appearance::instance().classroom());
    connect(&Appearance::instance(), &Appearance::changed, classroom,
            [classroom] { classroom->setChecked(Appearance::instance().classroom()); });

    QMenu* zoom = view_menu->addMenu(tr("Text &Size"));
    action(zoom, tr("&Larger"), {QKeySequence(Qt::CTRL | Qt::Key_Equal), QKeySequence::ZoomIn},
           [] { Appearance::instance().zoomIn(); });
    action(zoom, tr("&Smaller"), {QKeySequence(Qt::CTRL | Qt::Key_Minus), QKeySequence::ZoomOut},
           [] { Appearance::instance().zoomOut(); });
    action(zoom, tr("&Reset"), {QKeySequence(Qt::CTRL | Qt::Key_0)},
           [] { Appearance::instance().setFontScale(1.0); });

    QMenu* nav = view_menu->addMenu(tr("&Navigate"));
    action(nav, tr("Previous layer"), {QKeySequence(Qt::ALT | Qt::Key_Up)},
           [this] { stepLayer(-1); });
    action(nav, tr("Next layer"), {QKeySequence(Qt::ALT | Qt::Key_Down)}, [this] { stepLayer(1); });
    action(nav, tr("Previous head"), {QKeySequence(Qt::ALT | Qt::Key_Left)},
           [this] { stepHead(-1); });
    action(nav, tr("Next head"), {QKeySequence(Qt::ALT | Qt::Key_Right)}, [this] { stepHead(1); });
    action(nav, tr("Previous position"), {QKeySequence(Qt::CTRL | Qt::Key_Left)},
           [this] { stepPosition(-1); });
    action(nav, tr("Next position"), {QKeySequence(Qt::CTRL | Qt::Key_Right)},
           [this] { stepPosition(1); });
}

void Presenter::stepLayer(int delta) {
    if (!session_->model()) return;
    const int n = session_->model()->config.n_layers;
    session_->selectHead(std::clamp(session_->layer() + delta, 0, n - 1), session_->head());
}

void Presenter::stepHead(int delta) {
    if (!session_->model()) return;
    const int n = session_->model()->config.n_heads;
    session_->selectHead(session_->layer(), std::clamp(session_->head() + delta, 0, n - 1));
}

void Presenter::stepPosition(int delta) {
    const auto& trace = session_->trace();
    if (!trace || trace->ids.empty()) return;
    const int last = static_cast<int>(trace->ids.size()) - 1;
    session_->selectPosition(std::clamp(session_->position() + delta, 0, last));
}

void Presenter::togglePresentation() {
    if (presenting())
        leave();
    else
        present(current_);
}

bool Presenter::present(const QString& name) {
    if (!window_->view(name)) return false;
    if (presenting()) {
        returnView();
        return takeView(name);
    }
    stage_ = new QWidget(window_, Qt::Window);
    stage_->setObjectName("presentation");
    stage_->setWindowTitle(tr("ParamScope — presentation"));
    auto* layout = new QVBoxLayout(stage_);
    layout->setContentsMargins(8, 4, 8, 8);
    stage_title_ = new QLabel(stage_);
    stage_title_->setObjectName("presentationTitle");
    QFont bold = stage_title_->font();
    bold.setBold(true);
    stage_title_->setFont(bold);
    layout->addWidget(stage_title_);
    caption_ = new QLabel(stage_);
    caption_->setObjectName("presentationCaption");
    caption_->setWordWrap(true);
    caption_->setTextFormat(Qt::RichText);
    caption_->hide();
    layout->addWidget(caption_);  // the view goes in between (takeView)
    // Leaving, and the walk's keys (a presentation clicker sends Page Up / Page Down), are
    // caught before any widget of the stage sees them: a focused scroll area would otherwise
    // scroll on Page Down, and a spin box claim Escape.
    qApp->installEventFilter(this);
    takeView(name);
    ring_ = new PointerRing(stage_);
    stage_->showFullScreen();
    stage_->activateWindow();  // its keys (Escape, Page Up / Down) work at once
    emit presentationChanged(true);
    return true;
}

bool Presenter::takeView(const QString& name) {
    QWidget* view = window_->view(name);
    if (!view || !stage_) return false;
    auto* placeholder = new QLabel(tr("Shown in presentation mode (Esc returns it)"));
    placeholder->setObjectName("presentationPlaceholder");
    placeholder->setAlignment(Qt::AlignCenter);
    placeholder->setSizePolicy(view->sizePolicy());
    placeholder->setMinimumSize(view->minimumSize());
    placeholder->resize(view->size());
    QWidget* parent = view->parentWidget();
    auto* dock = qobject_cast<QDockWidget*>(parent);
    const QString title = dock ? dock->windowTitle() : explanation_title("view-" + name);
    if (dock) {
        dock->setWidget(placeholder);
    } else if (auto* splitter = qobject_cast<QSplitter*>(parent)) {
        splitter->replaceWidget(splitter->indexOf(view), placeholder);  // keeps the sizes
    } else if (parent && parent->layout()) {
        delete parent->layout()->replaceWidget(view, placeholder);
    } else {
        delete placeholder;
        return false;
    }
    placeholder_ = placeholder;
    presented_ = name;
    current_ = name;
    auto* layout = static_cast<QVBoxLayout*>(stage_->layout());
    layout->insertWidget(1, view, 1);
    view->show();
    // The keys go to the stage (Escape, the walk's keys) or to the presented view, never to
    // a widget left behind in the main window.
    if (view->focusPolicy() != Qt::NoFocus)
        view->setFocus();
    else
        stage_->setFocus();
    stage_title_->setText(
        tr("%1    ·    Esc leave   Ctrl +/− text   Alt+↑↓ layer   Alt+←→ head   Ctrl+←→ position")
            .arg(title));
    if (ring_) ring_->raise();
    updateCaption();
    return true;
}

void Presenter::returnView() {
    QWidget* view = window_->view(presented_);
    presented_.clear();
    QWidget* placeholder = placeholder_;
    placeholder_ = nullptr;
    if (!view || !placeholder) return;
    QWidget* parent = placeholder->parentWidget();
    if (auto* dock = qobject_cast<QDockWidget*>(parent)) {
        dock->setWidget(view);
    } else if (auto* splitter = qobject_cast<QSplitter*>(parent)) {
        splitter->replaceWidget(splitter->indexOf(placeholder), view);
    } else if (parent && parent->layout()) {
        delete parent->layout()->replaceWidget(placeholder, view);
    }
    view->show();
    placeholder->hide();
    placeholder->deleteLater();
}

void Presenter::leave() {
    if (!stage_) return;
    returnView();
    QWidget* stage = stage_;
    stage_ = nullptr;
    ring_ = nullptr;
    stage_title_ = caption_ = nullptr;
    qApp->removeEventFilter(this);
    stage->hide();
    stage->deleteLater();  // may be inside one of its key events
    window_->activateWindow();
    emit presentationChanged(false);
}

bool Presenter::eventFilter(QObject* watched, QEvent* event) {
    if (watched == window_ && event->type() == QEvent::Resize && walk_ && walk_->lesson() &&
        walk_->currentStep() && !presenting()) {
        const QString view = walk_->currentStep()->view;
        QTimer::singleShot(0, this, [this, view] {
            if (walk_ && walk_->lesson()) layOutLessonStep(view);
        });
    }
    auto* widget = qobject_cast<QWidget*>(watched);
    if (stage_ && widget && widget->window() == stage_ && event->type() == QEvent::KeyPress) {
        const int key = static_cast<QKeyEvent*>(event)->key();
        const bool walking = walk_ && caption_ && caption_->isVisible();
        if (key == Qt::Key_Escape) {
            leave();
            return true;
        }
        if (walking && (key == Qt::Key_PageDown || key == Qt::Key_PageUp)) {
            key == Qt::Key_PageDown ? walk_->next() : walk_->back();
            return true;
        }
    }
    return QObject::eventFilter(watched, event);
}

void Presenter::updateCaption() {
    if (!caption_) return;
    // The walk goes on in presentation mode while its panel is open: its step under the title.
    const bool walking = walk_ && walk_dock_ && walk_dock_->isVisible() && walk_->currentStep();
    caption_->setVisible(walking);
    if (walking)
        caption_->setText(QString("<b>%1</b> (%2/%3, Page Up / Page Down)<br>%4")
                              .arg(walk_->titleText().toHtmlEscaped())
                              .arg(walk_->current() + 1)
                              .arg(walk_->stepCount())
                              .arg(walk_->numbersText()));
}

}  // namespace ps
