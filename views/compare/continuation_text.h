// A generated continuation as wrapped token chips, each filled by the probability the token had
// when it was drawn (log scale, red 0.001 → yellow → green 1); hovering a chip shows that
// step's distribution: the top tokens with their final and raw probabilities, the drawn one
// marked. ProbabilityScale is the small legend of the fill colors.
#pragma once

#include <QRect>
#include <QWidget>
#include <vector>

#include "core/sampling/generate.h"

namespace ps {

class Tokenizer;

// The chip fill for a probability.
QColor probability_color(double p);

class ContinuationText : public QWidget {
    Q_OBJECT
  public:
    explicit ContinuationText(QWidget* parent = nullptr);

    // `prompt_tail`: the end of the prompt, shown in grey before the tokens for context.
    void setGeneration(const Generation& g, const Tokenizer& tok,
                       const QString& prompt_tail = QString());
    void setMessage(const QString& message);  // instead of tokens (no model, generating...)
    // Greys the tokens while a newer continuation is being generated.
    void setStale(bool stale);

    const Generation& generation() const { return generation_; }
    const std::vector<QRect>& chipRects() const { return rects_; }
    // The step under `pos`, or -1; and the tooltip text shown for a step.
    int stepAt(const QPoint& pos) const;
    QString stepDetails(int step) const;

    bool hasHeightForWidth() const override { return true; }
    int heightForWidth(int width) const override;
    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

  protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    bool event(QEvent* event) override;

  private:
    // Lays the chips out for the current width; updates the minimum height if it changed.
    void relayout();
    // Chip rectangles (and the prompt tail's) for `width`; returns the height they need.
    int layoutChips(int width, std::vector<QRect>* rects, QRect* tail) const;

    Generation generation_;
    const Tokenizer* tok_ = nullptr;
    std::vector<QString> labels_;
    std::vector<QRect> rects_;
    QString prompt_tail_;
    QRect tail_rect_;
    QString message_;
    bool stale_ = false;
    int needed_height_ = 0;  // for the current width: the minimum height, so no row is cut
};

class ProbabilityScale : public QWidget {
    Q_OBJECT
  public:
    explicit ProbabilityScale(QWidget* parent = nullptr);
    QSize sizeHint() const override;

  protected:
    void paintEvent(QPaintEvent* event) override;
};

}  // namespace ps
