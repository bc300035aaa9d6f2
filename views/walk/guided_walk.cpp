#include "views/walk/guided_walk.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QPushButton>
#include <QTextBrowser>
#include <QTimer>
#include <QVBoxLayout>

#include "app/session/session.h"
#include "views/walk/explanations.h"
#include "views/walk/help_button.h"
#include "views/walk/lesson_steps.h"

namespace ps {

GuidedWalk::GuidedWalk(Session* session, QWidget* parent) : QWidget(parent), session_(session) {
    setObjectName("walk");
    // The panel keeps the keyboard focus so the walk keys always reach it; its parts are
    // clicked, never focused.
    setFocusPolicy(Qt::StrongFocus);
    progress_ = new QLabel(this);
    progress_->setObjectName("walkProgress");
    jump_ = new QComboBox(this);
    jump_->setObjectName("walkSteps");
    jump_->setToolTip(tr("jump to a step"));
    jump_->setFocusPolicy(Qt::NoFocus);
    title_ = new QLabel(this);
    title_->setObjectName("walkTitle");
    QFont big = title_->font();
    big.setBold(true);
    big.setPointSizeF(big.pointSizeF() * 1.3);
    title_->setFont(big);
    title_->setWordWrap(true);
    numbers_ = new QLabel(this);
    numbers_->setObjectName("walkNumbers");
    numbers_->setWordWrap(true);
    numbers_->setTextFormat(Qt::RichText);
    numbers_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    numbers_->setFocusPolicy(Qt::NoFocus);
    numbers_->setFrameShape(QFrame::StyledPanel);
    numbers_->setMargin(6);
    numbers_->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    numbers_->setAutoFillBackground(true);
    numbers_->setBackgroundRole(QPalette::Base);
    explanation_ = new QTextBrowser(this);
    explanation_->setObjectName("walkExplanation");
    explanation_->setFocusPolicy(Qt::NoFocus);
    explanation_->setFrameShape(QFrame::NoFrame);
    back_ = new QPushButton(tr("◀ Back"), this);
    next_ = new QPushButton(tr("Next ▶"), this);
    for (QPushButton* b : {back_, next_}) b->setFocusPolicy(Qt::NoFocus);
    back_->setToolTip(tr("previous step (Left, Page Up)"));
    next_->setToolTip(tr("next step (Right, Page Down, Space)"));
    auto* hint = new QLabel(tr("← → keys"), this);
    hint->setEnabled(false);
    unlock_ = new QCheckBox(tr("Follow clicks"), this);
    unlock_->setObjectName("lessonUnlock");
    unlock_->setToolTip(
        tr("In a lesson, clicks in the views do not move what the lesson "
           "shows, unless this is on"));
    unlock_->setFocusPolicy(Qt::NoFocus);
    unlock_->hide();
    dials_ = new QTimer(this);
    dials_->setInterval(1500);

    // The step list has a row of its own: its titles are read from the back of a room too.
    auto* top = new QVBoxLayout;
    top->addWidget(progress_);
    top->addWidget(jump_);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(back_);
    buttons->addStretch(1);
    buttons->addWidget(hint);
    buttons->addStretch(1);
    buttons->addWidget(next_);
    auto* layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(title_);
    layout->addWidget(numbers_);
    layout->addWidget(explanation_, 1);
    layout->addWidget(unlock_);
    layout->addLayout(buttons);
    setMinimumWidth(240);

    connect(back_, &QPushButton::clicked, this, &GuidedWalk::back);
    connect(next_, &QPushButton::clicked, this, &GuidedWalk::next);
    connect(jump_, &QComboBox::activated, this, [this](int index) { go(index); });
    connect(session_, &Session::modelChanged, this, &GuidedWalk::rebuild);
    connect(session_, &Session::selectionChanged, this, &GuidedWalk::holdLessonSelection);
    // A new prompt (Sample appended a token): the lesson picks its head and neuron again.
    connect(session_, &Session::analysisReady, this, [this] {
        if (lesson_ && !unlocked() && currentStep()) applyStep();
    });
    connect(dials_, &QTimer::timeout, this, &GuidedWalk::turnDial);
    for (auto signal :
         {&Session::analysisReady, &Session::layerAnalysisReady, &Session::selectionChanged,
          &Session::distributionChanged, &Session::samplingChanged})
        connect(session_, signal, this, &GuidedWalk::refresh);
    connect(session_, &Session::importanceReady, this, &GuidedWalk::applyImportance);
    connect(session_, &Session::analysisReady, this, [this] {
        // A new prompt dropped the search: start it again for this prompt.
        if (saved_interventions_ && !head_silenced_) silenceMostImportantHead(true);
    });
    connect(session_, &Session::interventionsChanged, this, &GuidedWalk::refresh);
    connect(session_, &Session::modelChanged, this, [this] {
        saved_interventions_.reset();  // the model's interventions went with the old one
        head_silenced_ = false;
    });
    rebuild();
}

const WalkStep* GuidedWalk::currentStep() const {
    return current_ < stepCount() ? &steps_[size_t(current_)] : nullptr;
}

void GuidedWalk::rebuild() {
    const Model* model = session_->model().get();
    steps_ = !model    ? std::vector<WalkStep>()
             : lesson_ ? lesson_steps(model->config)
                       : walk_steps(model->config);
    current_ = std::clamp(current_, 0, std::max(0, stepCount() - 1));
    const QSignalBlocker block(jump_);
    jump_->clear();
    for (int i = 0; i < stepCount(); ++i) jump_->addItem(steps_[size_t(i)].title);
    refresh();
}

void GuidedWalk::go(int index) {
    if (steps_.empty()) return;
    current_ = std::clamp(index, 0, stepCount() - 1);
    applyStep();
    animateSampling(lesson_ && steps_[size_t(current_)].kind == WalkStepKind::Sampling);
    silenceMostImportantHead(steps_[size_t(current_)].kind == WalkStepKind::TurnDial);
    refresh();
    emit stepChanged(current_);
}

void GuidedWalk::applyStep() {
    applying_ = true;
    if (lesson_) session_->selectPosition(-1);  // the lesson predicts after the last token
    select_for_step(steps_[size_t(current_)], *session_);
    applying_ = false;
}

void GuidedWalk::setLesson(bool on) {
    if (on == lesson_) return;
    animateSampling(false);
    silenceMostImportantHead(false);
    lesson_ = on;
    unlock_->setVisible(on);
    unlock_->setChecked(false);
    current_ = 0;
    rebuild();
}

void GuidedWalk::setUnlocked(bool unlocked) {
    unlock_->setChecked(unlocked);
}

bool GuidedWalk::unlocked() const {
    return unlock_->isChecked();
}

void GuidedWalk::holdLessonSelection() {
    if (!lesson_ || applying_ || unlocked() || !currentStep() || !isVisible()) return;
    // Re-applying the step gives the same selection, so this does not loop.
    const int before[] = {session_->position(), session_->layer(), session_->head(),
                          session_->neuron()};
    applyStep();
    const int after[] = {session_->position(), session_->layer(), session_->head(),
                         session_->neuron()};
    if (!std::equal(std::begin(before), std::end(before), std::begin(after))) refresh();
}

void GuidedWalk::turnDial() {
    const std::vector<SamplingSettings> sequence = lesson_sampling_sequence();
    SamplingSettings s = sequence[size_t(dial_++) % sequence.size()];
    if (saved_sampling_) s.order = saved_sampling_->order;
    session_->setSampling(s);
}

void GuidedWalk::animateSampling(bool on) {
    if (on == dials_->isActive()) return;
    if (on) {
        saved_sampling_ = session_->sampling();
        dial_ = 0;
        dials_->start();
        turnDial();  // the first setting at once
    } else {
        dials_->stop();
        if (saved_sampling_) session_->setSampling(*saved_sampling_);
        saved_sampling_.reset();
    }
}

void GuidedWalk::silenceMostImportantHead(bool on) {
    if (on == saved_interventions_.has_value()) {
        if (on && !head_silenced_ && !session_->importanceRunning()) session_->computeImportance();
        return;
    }
    if (on) {
        saved_interventions_ = session_->interventions();
        head_silenced_ = false;
        session_->computeImportance();
    } else {
        session_->cancelImportance();
        if (head_silenced_) session_->setInterventions(*saved_interventions_);
        saved_interventions_.reset();
        head_silenced_ = false;
    }
}

void GuidedWalk::applyImportance() {
    const auto& result = session_->importance();
    if (!saved_interventions_ || head_silenced_ || !result) return;
    int best_layer = 0, best_head = 0;
    for (size_t l = 0; l < result->delta.size(); ++l)
        for (size_t h = 0; h < result->delta[l].size(); ++h)
            if (result->delta[l][h] > result->delta[size_t(best_layer)][size_t(best_head)]) {
                best_layer = int(l);
                best_head = int(h);
            }
    head_silenced_ = true;
    Intervention ablate;
    ablate.hook = Hook::AttnZ;
    ablate.layer = best_layer;
    ablate.unit = best_head;
    session_->selectHead(best_layer, best_head);
    session_->addIntervention(ablate);
}

QString GuidedWalk::titleText() const {
    return title_->text();
}
QString GuidedWalk::numbersText() const {
    return numbers_->text();
}
QString GuidedWalk::explanationText() const {
    const WalkStep* step = currentStep();
    return step ? explanation_markdown(step->topic) : QString();
}

void GuidedWalk::refresh() {
    const WalkStep* step = currentStep();
    back_->setEnabled(step && current_ > 0);
    next_->setEnabled(step && current_ + 1 < stepCount());
    if (!step) {
        progress_->setText(QString());
        title_->setText(tr("Open a model to follow a prompt through it."));
        numbers_->clear();
        explanation_->clear();
        return;
    }
    progress_->setText(tr("Step %1 of %2").arg(current_ + 1).arg(stepCount()));
    {
        const QSignalBlocker block(jump_);
        jump_->setCurrentIndex(current_);
    }
    title_->setText(step->title);
    const QString numbers = step_numbers(*step, *session_);
    numbers_->setText(numbers.isEmpty() ? tr("<i>Waiting for the analysis…</i>") : numbers);
    // Re-set only when the topic changes, so the reader's scroll position survives updates.
    if (explanation_->property("topic").toString() != step->topic) {
        explanation_->setMarkdown(demote_heading(explanation_markdown(step->topic)));
        explanation_->setProperty("topic", step->topic);
    }
    emit updated();
}

void GuidedWalk::keyPressEvent(QKeyEvent* event) {
    switch (event->key()) {
        case Qt::Key_Right:
        case Qt::Key_PageDown:
        case Qt::Key_Space:
            next();
            return;
        case Qt::Key_Left:
        case Qt::Key_PageUp:
            back();
            return;
        case Qt::Key_Home:
            go(0);
            return;
        case Qt::Key_End:
            go(stepCount() - 1);
            return;
        default:
            QWidget::keyPressEvent(event);
    }
}

}  // namespace ps
