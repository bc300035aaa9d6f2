#include "views/widgets/overlays.h"

#include <QAbstractButton>
#include <QAbstractSlider>
#include <QApplication>
#include <QComboBox>
#include <QCursor>
#include <QDockWidget>
#include <QEvent>
#include <QPainter>
#include <QSpinBox>
#include <QTabBar>

namespace ps {

namespace {

constexpr int kFrameWidth = 4;
constexpr int kRingRadius = 30;
constexpr int kPointerPollMs = 16;

// Whether the widget under the pointer reacts to clicks or hovering (the "hover targets").
bool is_target(const QWidget* w) {
    for (; w; w = w->parentWidget()) {
        if (qobject_cast<const QAbstractButton*>(w) || qobject_cast<const QAbstractSlider*>(w) ||
            qobject_cast<const QComboBox*>(w) || qobject_cast<const QAbstractSpinBox*>(w) ||
            qobject_cast<const QTabBar*>(w))
            return true;
        // Views that answer the mouse (plots with hover tooltips, token chips) track it.
        if (w->hasMouseTracking()) return true;
    }
    return false;
}

}  // namespace

HighlightFrame::HighlightFrame(QWidget* parent) : QWidget(parent) {
    setObjectName("highlightFrame");
    setAttribute(Qt::WA_TransparentForMouseEvents);
    setAttribute(Qt::WA_NoSystemBackground);
    hide();
}

void HighlightFrame::frame(QWidget* target) {
    if (target_) target_->removeEventFilter(this);
    target_ = target;
    if (!target) {
        hide();
        return;
    }
    target->installEventFilter(this);
    place();
    show();
    raise();
}

// Around a part of a view (a slider) when its parent has room, so the frame does not cover
// its text; inside a whole view, which fills its dock.
void HighlightFrame::place() {
    // The nearest ancestor with room around the target (a layout margin) hosts the frame.
    QWidget* host = target_.data();
    QRect geometry = target_->rect();
    for (QWidget* a = target_->parentWidget(); a && !target_->isWindow(); a = a->parentWidget()) {
        const QRect around =
            QRect(target_->mapTo(a, QPoint(0, 0)), target_->size())
                .adjusted(-kFrameWidth - 1, -kFrameWidth + 1, kFrameWidth + 1, kFrameWidth - 1);
        if (a->rect().contains(around)) {
            host = a;
            geometry = around;
            break;
        }
        if (a->isWindow() || qobject_cast<QDockWidget*>(a)) break;  // stay inside the view
    }
    if (parentWidget() != host) setParent(host);
    setGeometry(geometry);
    raise();
}

bool HighlightFrame::eventFilter(QObject* watched, QEvent* event) {
    if (watched == target_ && (event->type() == QEvent::Resize || event->type() == QEvent::Move))
        place();
    if (watched == target_ && event->type() == QEvent::ChildAdded) raise();
    return false;
}

void HighlightFrame::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    p.setPen(QPen(color(), kFrameWidth));
    p.setBrush(Qt::NoBrush);
    const qreal half = kFrameWidth / 2.0;
    p.drawRoundedRect(QRectF(rect()).adjusted(half, half, -half, -half), 6, 6);
}

PointerRing::PointerRing(QWidget* parent) : QWidget(parent) {
    setObjectName("pointerRing");
    setAttribute(Qt::WA_TransparentForMouseEvents);
    setAttribute(Qt::WA_NoSystemBackground);
    setGeometry(parent->rect());
    parent->installEventFilter(this);
    // Polled rather than tracked: mouse-move events only reach widgets that track the mouse.
    timer_.setInterval(kPointerPollMs);
    connect(&timer_, &QTimer::timeout, this, &PointerRing::followPointer);
    timer_.start();
    raise();
}

int PointerRing::radius() const {
    return static_cast<int>(kRingRadius * std::max(1.0, font().pointSizeF() / 10.0));
}

void PointerRing::followPointer() {
    const QPoint local = parentWidget()->mapFromGlobal(QCursor::pos());
    const QPoint center = parentWidget()->rect().contains(local) ? local : QPoint();
    const QWidget* under = center.isNull() ? nullptr : parentWidget()->childAt(local);
    const bool over = under && under != this && is_target(under);
    if (center == center_ && over == over_target_) return;
    const int r = radius() + 4;
    if (!center_.isNull()) update(QRect(center_ - QPoint(r, r), QSize(2 * r, 2 * r)));
    center_ = center;
    over_target_ = over;
    if (!center_.isNull()) update(QRect(center_ - QPoint(r, r), QSize(2 * r, 2 * r)));
}

bool PointerRing::eventFilter(QObject* watched, QEvent* event) {
    if (watched == parentWidget() && event->type() == QEvent::Resize)
        setGeometry(parentWidget()->rect());
    if (watched == parentWidget() && event->type() == QEvent::ChildAdded) raise();
    return false;
}

void PointerRing::paintEvent(QPaintEvent*) {
    if (center_.isNull()) return;
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    QColor ring(0xff, 0x30, 0x30);
    QColor fill = ring;
    fill.setAlpha(over_target_ ? 70 : 40);
    ring.setAlpha(over_target_ ? 230 : 170);
    p.setPen(QPen(ring, over_target_ ? 5 : 3));
    p.setBrush(fill);
    const int r = radius();
    p.drawEllipse(center_, r, r);
}

}  // namespace ps
