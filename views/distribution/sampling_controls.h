// The sampling controls: temperature, top-k, top-p, min-p (slider + spin box each), the order,
// the seed, and Sample / Greedy / Generate N. Every change goes to the Session, which
// recomputes only the sampling step.
#pragma once

#include <QWidget>

class QComboBox;
class QLabel;
class QPushButton;
class QSpinBox;

namespace ps {

class Session;
class SliderSpin;

class SamplingControls : public QWidget {
    Q_OBJECT
  public:
    explicit SamplingControls(Session* session, QWidget* parent = nullptr);

    SliderSpin* temperature() const { return temperature_; }
    SliderSpin* topK() const { return top_k_; }
    SliderSpin* topP() const { return top_p_; }
    SliderSpin* minP() const { return min_p_; }
    QComboBox* order() const { return order_; }

  private:
    void pushToSession();
    void pullFromSession();
    void updateButtons();

    Session* session_;
    SliderSpin* temperature_;
    SliderSpin* top_k_;
    SliderSpin* top_p_;
    SliderSpin* min_p_;
    QComboBox* order_;
    QLabel* order_text_;
    QSpinBox* seed_;
    QSpinBox* steps_;
    QPushButton* sample_;
    QPushButton* greedy_;
    QPushButton* generate_;
};

}  // namespace ps
