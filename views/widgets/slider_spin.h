// A labelled slider and spin box kept in sync, for one sampling control. The slider is linear,
// or for counts like top-k logarithmic with position 0 meaning "off" (0), so k = 1..10 stays
// reachable on a 50,257-token vocabulary.
#pragma once

#include <QWidget>

class QDoubleSpinBox;
class QLabel;
class QSlider;

namespace ps {

class SliderSpin : public QWidget {
    Q_OBJECT
  public:
    enum class Scale { Linear, LogWithOff };
    SliderSpin(const QString& label, double min, double max, int decimals, double step, Scale scale,
               QWidget* parent = nullptr);

    double value() const;
    void setValue(double v);  // emits valueChanged if it changes
    void setMaximum(double max);
    // The slider position showing `v`, and the value at a slider position.
    int positionFor(double v) const;
    double valueAt(int position) const;

    QSlider* slider() const { return slider_; }
    QDoubleSpinBox* spinBox() const { return spin_; }
    void setSpecialValueText(const QString& text);  // shown at the minimum, e.g. "off"

  signals:
    void valueChanged(double v);

  private:
    void onSlider(int position);
    void onSpin(double v);

    QLabel* label_;
    QSlider* slider_;
    QDoubleSpinBox* spin_;
    double min_, max_, step_;
    Scale scale_;
    static constexpr int kLogSteps = 1000;
};

}  // namespace ps
