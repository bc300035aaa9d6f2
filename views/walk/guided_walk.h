// "Follow the prompt": the guided walk's panel. It shows one step of walk_steps() at a time —
// where we are, the step's numbers from the current prompt, the concept's explanation — with
// Back / Next and a step list. Keys: Right, Page Down or Space go forward; Left or Page Up go
// back (a presentation clicker sends Page Up / Page Down). Entering a step points the session's
// selection at it and emits stepChanged, on which the main window raises and frames the view.
#pragma once

#include <QWidget>
#include <optional>
#include <vector>

#include "core/model/intervention.h"
#include "core/sampling/sampling.h"
#include "views/walk/walk_steps.h"

class QCheckBox;
class QComboBox;
class QTimer;
class QLabel;
class QPushButton;
class QTextBrowser;

namespace ps {

class Session;

class GuidedWalk : public QWidget {
    Q_OBJECT
  public:
    explicit GuidedWalk(Session* session, QWidget* parent = nullptr);

    int stepCount() const { return static_cast<int>(steps_.size()); }
    int current() const { return current_; }
    const WalkStep& step(int index) const { return steps_.at(size_t(index)); }
    const WalkStep* currentStep() const;
    void go(int index);  // clamped; re-entering the current step re-emits stepChanged
    void next() { go(current_ + 1); }
    void back() { go(current_ - 1); }

    // The lesson (lesson_steps.h) instead of the full walk. In a lesson the selection is the
    // lesson's — the last token, the picked head and neuron — and stray clicks in the views are
    // undone until the presenter unlocks them; the sampling step turns the dials itself and
    // puts the user's settings back when left.
    void setLesson(bool on);
    bool lesson() const { return lesson_; }
    void setUnlocked(bool unlocked);
    bool unlocked() const;

    // What the panel shows (tests, the presentation caption).
    QString titleText() const;
    QString numbersText() const;      // rich text
    QString explanationText() const;  // Markdown

  signals:
    void stepChanged(int index);
    void updated();  // the shown text changed

  protected:
    void keyPressEvent(QKeyEvent* event) override;

  private:
    void rebuild();
    void refresh();
    void holdLessonSelection();  // undoes a stray click (locked lesson)
    void applyStep();
    void animateSampling(bool on);
    void turnDial();
    // The "turn a dial" step: finds the head the prediction needs most (the importance sweep)
    // and silences it; leaving the step puts the user's interventions back.
    void silenceMostImportantHead(bool on);
    void applyImportance();

    Session* session_;
    std::vector<WalkStep> steps_;
    int current_ = 0;
    QLabel* progress_;
    QComboBox* jump_;
    QLabel* title_;
    QLabel* numbers_;
    QTextBrowser* explanation_;
    QPushButton* back_;
    QPushButton* next_;
    QCheckBox* unlock_;
    bool lesson_ = false;
    bool applying_ = false;  // the walk itself is moving the selection
    QTimer* dials_;          // the sampling step's animation
    int dial_ = 0;
    std::optional<SamplingSettings> saved_sampling_;    // the user's, while the step turns them
    std::optional<Interventions> saved_interventions_;  // the user's, while a head is silenced
    bool head_silenced_ = false;
};

}  // namespace ps
