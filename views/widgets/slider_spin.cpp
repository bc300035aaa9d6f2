#include "views/widgets/slider_spin.h"

#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSignalBlocker>
#include <QSlider>
#include <cmath>

namespace ps {

SliderSpin::SliderSpin(const QString& label, double min, double max, int decimals, double step,
                       Scale scale, QWidget* parent)
    : QWidget(parent),
      label_(new QLabel(label, this)),
      slider_(new QSlider(Qt::Horizontal, this)),
      spin_(new QDoubleSpinBox(this)),
      min_(min),
      max_(max),
      step_(step),
      scale_(scale) {
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    label_->setMinimumWidth(label_->fontMetrics().horizontalAdvance("temperature") + 6);
    spin_->setDecimals(decimals);
    spin_->setSingleStep(step);
    spin_->setRange(min, max);
    spin_->setKeyboardTracking(false);
    spin_->setMinimumWidth(spin_->fontMetrics().horizontalAdvance("50257.000") + 30);
    spin_->setAlignment(Qt::AlignRight);
    layout->addWidget(label_);
    layout->addWidget(slider_, 1);
    layout->addWidget(spin_);
    setMaximum(max);
    connect(slider_, &QSlider::valueChanged, this, &SliderSpin::onSlider);
    connect(spin_, &QDoubleSpinBox::valueChanged, this, &SliderSpin::onSpin);
}

void SliderSpin::setSpecialValueText(const QString& text) {
    spin_->setSpecialValueText(text);
}

double SliderSpin::value() const {
    return spin_->value();
}

void SliderSpin::setValue(double v) {
    spin_->setValue(v);
}

void SliderSpin::setMaximum(double max) {
    max_ = max;
    const QSignalBlocker b1(slider_), b2(spin_);
    const double v = std::min(spin_->value(), max);
    spin_->setMaximum(max);
    slider_->setRange(0, scale_ == Scale::LogWithOff
                             ? kLogSteps
                             : static_cast<int>(std::lround((max - min_) / step_)));
    slider_->setValue(positionFor(v));
}

int SliderSpin::positionFor(double v) const {
    if (scale_ == Scale::Linear) return static_cast<int>(std::lround((v - min_) / step_));
    if (v < 1.0 || max_ <= 1.0) return v < 1.0 ? 0 : kLogSteps;
    // value = max^((pos-1)/(steps-1)) for pos >= 1
    const double f = std::log(v) / std::log(max_);
    return std::clamp(1 + static_cast<int>(std::lround(f * (kLogSteps - 1))), 1, kLogSteps);
}

double SliderSpin::valueAt(int position) const {
    if (scale_ == Scale::Linear) return min_ + position * step_;
    if (position <= 0) return 0.0;
    if (max_ <= 1.0) return 1.0;
    return std::round(std::pow(max_, double(position - 1) / (kLogSteps - 1)));
}

void SliderSpin::onSlider(int position) {
    const double v = std::clamp(valueAt(position), min_, max_);
    if (v == spin_->value()) return;
    {
        const QSignalBlocker block(spin_);
        spin_->setValue(v);
    }
    emit valueChanged(spin_->value());
}

void SliderSpin::onSpin(double v) {
    {
        const QSignalBlocker block(slider_);
        slider_->setValue(positionFor(v));
    }
    emit valueChanged(v);
}

}  // namespace ps
