// Two overlays drawn on top of other widgets, never taking mouse events: the guided walk's
// coloured frame around the view a step is about, and presentation mode's pointer ring, a
// large translucent ring that follows the mouse so a room can see where the presenter points.
#pragma once

#include <QPointer>
#include <QTimer>
#include <QWidget>

namespace ps {

// A rounded coloured frame over the whole of its target, following it as it resizes.
class HighlightFrame : public QWidget {
    Q_OBJECT
  public:
    explicit HighlightFrame(QWidget* parent = nullptr);
    // Frames `target` (null: hides the frame).
    void frame(QWidget* target);
    QWidget* target() const { return target_; }
    static QColor color() { return QColor(0xff, 0x8c, 0x00); }

  protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void paintEvent(QPaintEvent* event) override;

  private:
    void place();
    QPointer<QWidget> target_;
};

// A ring around the mouse pointer over its parent, updated while the pointer moves.
class PointerRing : public QWidget {
    Q_OBJECT
  public:
    explicit PointerRing(QWidget* parent);
    // Where the ring is drawn, in the parent's coordinates (invalid: pointer outside).
    QPoint center() const { return center_; }
    int radius() const;
    // Moves the ring to the mouse pointer's current position (also done on a timer).
    void followPointer();

  protected:
    bool eventFilter(QObject* watched, QEvent* event) override;
    void paintEvent(QPaintEvent* event) override;

  private:
    QTimer timer_;
    QPoint center_;
    bool over_target_ = false;  // over something clickable: drawn stronger
};

}  // namespace ps
