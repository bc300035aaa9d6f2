#include "views/widgets/grid_text_layer.h"

namespace ps {

GridTextLayer::GridTextLayer(QCPAxisRect* rect)
    : QCPLayerable(rect->parentPlot(), QString(), rect), rect_(rect) {
    font_ = rect->parentPlot()->font();
}

QColor contrasting_text(const QColor& background) {
    // Relative luminance with the sRGB weights; the threshold sits where both read equally.
    const double y =
        0.2126 * background.redF() + 0.7152 * background.greenF() + 0.0722 * background.blueF();
    return y > 0.45 ? QColor(0x18, 0x18, 0x18) : QColor(Qt::white);
}

QCPColorGradient probability_gradient() {
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorStopAt(0.0, QColor(0xf7, 0xfb, 0xff));
    g.setColorStopAt(0.25, QColor(0xc6, 0xdb, 0xef));
    g.setColorStopAt(0.5, QColor(0x6b, 0xae, 0xd6));
    g.setColorStopAt(0.75, QColor(0x21, 0x71, 0xb5));
    g.setColorStopAt(1.0, QColor(0x08, 0x30, 0x6b));
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    return g;
}

QCPColorGradient diverging_gradient() {
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorStopAt(0.0, QColor(0x05, 0x30, 0x61));
    g.setColorStopAt(0.2, QColor(0x43, 0x93, 0xc3));
    g.setColorStopAt(0.4, QColor(0xd1, 0xe5, 0xf0));
    g.setColorStopAt(0.5, QColor(0xf7, 0xf7, 0xf7));
    g.setColorStopAt(0.6, QColor(0xfd, 0xdb, 0xc7));
    g.setColorStopAt(0.8, QColor(0xd6, 0x60, 0x4d));
    g.setColorStopAt(1.0, QColor(0x67, 0x00, 0x1f));
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    return g;
}

void GridTextLayer::applyDefaultAntialiasingHint(QCPPainter* painter) const {
    applyAntialiasingHint(painter, true, QCP::aeOther);
}

QRect GridTextLayer::clipRect() const {
    return rect_->rect();
}

void GridTextLayer::draw(QCPPainter* painter) {
    QCPAxis* x = rect_->axis(QCPAxis::atBottom);
    QCPAxis* y = rect_->axis(QCPAxis::atLeft);
    if (cells_.empty() || !x || !y) return;
    const double w = std::abs(x->coordToPixel(1) - x->coordToPixel(0));
    const double h = std::abs(y->coordToPixel(1) - y->coordToPixel(0));
    QFont normal = font_, bold = font_;
    bold.setBold(true);
    // Shrink the font for short rows so text never spills over the row.
    const double max_px = std::max(6.0, h * 0.62);
    for (QFont* f : {&normal, &bold})
        if (f->pixelSize() > max_px || QFontMetricsF(*f).height() > h * 0.9)
            f->setPixelSize(static_cast<int>(max_px));
    const QFontMetricsF fm_normal(normal), fm_bold(bold);
    for (const GridCellText& c : cells_) {
        // From two opposite corners, so a reversed axis puts the text in the right cell.
        const QRectF box =
            QRectF(QPointF(x->coordToPixel(c.key - 0.5), y->coordToPixel(c.value + 0.5)),
                   QPointF(x->coordToPixel(c.key + 0.5), y->coordToPixel(c.value - 0.5)))
                .normalized();
        if (!box.intersects(QRectF(clipRect()))) continue;
        if (c.frame.isValid()) {
            painter->setPen(QPen(c.frame, 2.0));
            painter->setBrush(Qt::NoBrush);
            painter->drawRect(box.adjusted(1.5, 1.5, -1.5, -1.5));
        }
        if (w < min_width_ || c.text.isEmpty()) continue;
        const QFontMetricsF& fm = c.bold ? fm_bold : fm_normal;
        const QString text = fm.elidedText(c.text, Qt::ElideRight, w - 4);
        // A cell too narrow for more than a letter and "…" shows its colour alone.
        if (text != c.text && text.size() < 3) continue;
        painter->setFont(c.bold ? bold : normal);
        painter->setPen(contrasting_text(c.background));
        painter->drawText(box, Qt::AlignCenter, text);
    }
}

}  // namespace ps
