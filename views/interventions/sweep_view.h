// "Turn one dial slowly": the probability of the next few tokens as one component (the selected
// head, or the selected neuron) is scaled from 0 (silenced) through 1 (as trained) to 2
// (doubled), one line per token (core/analysis/sweep.h). The sweep runs on the worker with
// progress and cancel; right-click a head or a neuron anywhere offers it too.
#pragma once

#include <QWidget>

class QLabel;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QCustomPlot;

namespace ps {

class Session;

class SweepView : public QWidget {
    Q_OBJECT
  public:
    explicit SweepView(Session* session, QWidget* parent = nullptr);

    QPushButton* headButton() const { return head_; }
    QPushButton* neuronButton() const { return neuron_; }
    QPushButton* cancelButton() const { return cancel_; }
    QSpinBox* steps() const { return steps_; }
    QLabel* title() const { return title_; }
    QCustomPlot* plot() const { return plot_; }

  private:
    void refresh();
    void refreshButtons();

    Session* session_;
    QLabel* title_;
    QPushButton* head_;
    QPushButton* neuron_;
    QSpinBox* steps_;
    QPushButton* cancel_;
    QProgressBar* progress_;
    QCustomPlot* plot_;
};

}  // namespace ps
