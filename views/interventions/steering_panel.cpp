// The steering panel (views/interventions/steering_panel.h).
#include "views/interventions/steering_panel.h"

#include <QDoubleSpinBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "app/session/session.h"

namespace ps {

SteeringPanel::SteeringPanel(Session* session, QWidget* parent)
    : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    auto* intro = new QLabel(
        tr("Push the model towards one idea and away from another: the difference of the "
           "residual streams of two short prompts (their last tokens), times alpha, is added "
           "to the stream entering a layer."));
    intro->setWordWrap(true);
    layout->addWidget(intro);
    auto* form = new QFormLayout;
    plus_ = new QLineEdit(QStringLiteral(" happy"));
    minus_ = new QLineEdit(QStringLiteral(" sad"));
    layer_ = new QSpinBox;
    alpha_ = new QDoubleSpinBox;
    alpha_->setRange(-50, 50);
    alpha_->setSingleStep(0.5);
    alpha_->setValue(2);
    from_ = new QSpinBox;
    from_->setRange(-1, 100000);
    from_->setValue(-1);
    from_->setSpecialValueText(tr("every position"));
    form->addRow(tr("Towards (A)"), plus_);
    form->addRow(tr("Away from (B)"), minus_);
    form->addRow(tr("At the stream entering layer"), layer_);
    form->addRow(tr("alpha"), alpha_);
    form->addRow(tr("From position"), from_);
    layout->addLayout(form);
    add_ = new QPushButton(tr("Add steering"));
    add_->setObjectName("add-steering");
    layout->addWidget(add_);
    status_ = new QLabel;
    status_->setWordWrap(true);
    layout->addWidget(status_);
    layout->addStretch();

    connect(add_, &QPushButton::clicked, this, &SteeringPanel::addSteering);
    connect(session_, &Session::modelChanged, this, &SteeringPanel::refresh);
    connect(session_, &Session::interventionsChanged, this, &SteeringPanel::refresh);
    connect(session_, &Session::promptChanged, this, &SteeringPanel::refresh);
    refresh();
}

void SteeringPanel::refresh() {
    const auto& model = session_->model();
    add_->setEnabled(model != nullptr);
    if (!model) return;
    const int layers = model->config.n_layers;
    if (layer_->maximum() != layers - 1) {
        layer_->setRange(0, layers - 1);
        layer_->setValue(layers / 2);
    }
    from_->setMaximum(std::max(0, int(session_->tokens().size()) - 1));
    int steering = 0;
    for (const Intervention& iv : session_->interventions())
        steering += iv.action == Intervention::Action::Steer;
    status_->setText(steering ? tr("%n steering(s) in the Interventions list.", "", steering)
                              : QString());
}

void SteeringPanel::addSteering() {
    Intervention steer;
    steer.action = Intervention::Action::Steer;
    steer.hook = Hook::ResidPre;
    steer.layer = layer_->value();
    steer.factor = float(alpha_->value());
    steer.position = from_->value();
    status_->setText(tr("Running the two prompts…"));
    session_->addSteering(steer, plus_->text(), minus_->text());
}

}  // namespace ps
