// Steering: add alpha x (resid(plus) - resid(minus)) to the residual stream entering one layer,
// at every position from a chosen one on (Turner et al.'s activation addition), with the two
// prompts, the layer, alpha and the position chosen here. The steering joins the Interventions
// list (where its effect on the next token is shown) and can be added again with other values.
#pragma once

#include <QWidget>

class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QSpinBox;

namespace ps {

class Session;

class SteeringPanel : public QWidget {
    Q_OBJECT
  public:
    explicit SteeringPanel(Session* session, QWidget* parent = nullptr);

    QLineEdit* plus() const { return plus_; }
    QLineEdit* minus() const { return minus_; }
    QSpinBox* layer() const { return layer_; }
    QDoubleSpinBox* alpha() const { return alpha_; }
    QSpinBox* from() const { return from_; }
    QPushButton* addButton() const { return add_; }

  private:
    void refresh();
    void addSteering();

    Session* session_;
    QLineEdit* plus_;
    QLineEdit* minus_;
    QSpinBox* layer_;
    QDoubleSpinBox* alpha_;
    QSpinBox* from_;
    QPushButton* add_;
    QLabel* status_;
};

}  // namespace ps
