// What makes a window unreadable on a projector, found in the widgets themselves: text cut
// short (a label, button, check box or combo box narrower than its text, a plot title wider
// than its plot), axis tick labels that overlap their neighbours, and plots squeezed below a
// readable size. Header-only: only the GUI tests (which link QCustomPlot) include it.
#pragma once

#include <QAbstractButton>
#include <QAbstractScrollArea>
#include <QComboBox>
#include <QLabel>
#include <QStringList>
#include <QStyle>
#include <QStyleOptionComboBox>
#include <QTextDocument>
#include <QWidget>
#include <algorithm>
#include <cmath>

#include "views/widgets/custom_plot.h"

namespace ps::test {

struct ReadableSizes {
    int plot_width = 160;  // the smallest axis rect a class can read
    int plot_height = 100;
};

// A widget that is on screen: shown, inside its window, not behind another tab.
inline bool on_screen(const QWidget* w) {
    if (!w->isVisible() || w->width() <= 0 || w->height() <= 0) return false;
    const QRect in_window(w->mapTo(w->window(), QPoint(0, 0)), w->size());
    return w->window()->rect().intersects(in_window) && !w->visibleRegion().isEmpty();
}

inline QString plain(const QLabel* label) {
    if (label->textFormat() == Qt::PlainText || !Qt::mightBeRichText(label->text()))
        return label->text();
    QTextDocument doc;
    doc.setHtml(label->text());
    return doc.toPlainText();
}

// Each line of `text` fits in `width` pixels of `font`.
inline bool fits(const QString& text, const QFont& font, int width) {
    const QFontMetrics fm(font);
    for (const QString& line : text.split('\n'))
        if (fm.horizontalAdvance(line) > width) return false;
    return true;
}

inline void check_axis(const QCPAxis* axis, const QString& where, QStringList& out) {
    if (!axis->visible() || !axis->tickLabels()) return;
    // What the axis drew at its last replot.
    const QVector<double> positions = axis->tickVector();
    const QVector<QString> labels = axis->tickVectorLabels();
    const QFontMetrics fm(axis->tickLabelFont());
    const double angle = axis->tickLabelRotation() * M_PI / 180;
    const bool horizontal = axis->orientation() == Qt::Horizontal;
    double previous_pixel = 0, previous_extent = 0;
    QString previous_label;
    for (int i = 0; i < std::min(positions.size(), labels.size()); ++i) {
        if (!axis->range().contains(positions[i]) || labels[i].isEmpty()) continue;
        const double pixel = axis->coordToPixel(positions[i]);
        const QStringList lines = labels[i].split('\n');
        double w = 0;
        for (const QString& line : lines) w = std::max<double>(w, fm.horizontalAdvance(line));
        const double h = fm.height() * lines.size();
        // Along the axis, a label takes its width (upright on a horizontal axis), its height
        // (on a vertical one), or, rotated by a, the height / |sin a| a parallel line needs.
        const double extent =
            horizontal ? (std::abs(std::sin(angle)) > 0.1 ? h / std::abs(std::sin(angle)) : w) : h;
        if (!previous_label.isEmpty() &&
            std::abs(pixel - previous_pixel) + 1 < (extent + previous_extent) / 2)
            out << QString("%1: tick labels '%2' and '%3' overlap")
                       .arg(where, previous_label, labels[i]);
        previous_pixel = pixel;
        previous_extent = extent;
        previous_label = labels[i];
    }
}

// Everything on screen under `root` that is cut, overlapping or too small, one line each
// ("distribution: label 'top 20 o…' needs 96 px, has 60").
inline QStringList layout_problems(QWidget* root, const ReadableSizes& min = {}) {
    QStringList out;
    auto name = [](const QWidget* w) {
        return QString("%1 %2").arg(w->metaObject()->className(), w->objectName());
    };
    for (QWidget* w : root->findChildren<QWidget*>()) {
        if (!on_screen(w)) continue;
        // Wider than the widget it is in (a plot cut at both sides), unless that scrolls it.
        QWidget* parent = w->parentWidget();
        const bool scrolled =
            parent && parent->parentWidget() &&
            qobject_cast<QAbstractScrollArea*>(parent->parentWidget()) &&
            static_cast<QAbstractScrollArea*>(parent->parentWidget())->viewport() == parent;
        if (parent && !w->isWindow() && !scrolled &&
            (w->geometry().left() < -1 || w->geometry().right() > parent->width() + 1))
            out << QString("%1: %2 px wide, cut by the %3 px it is in")
                       .arg(name(w))
                       .arg(w->width())
                       .arg(parent->width());
        if (auto* label = qobject_cast<QLabel*>(w)) {
            if (label->wordWrap() || label->text().isEmpty() || !label->pixmap().isNull()) continue;
            if (!fits(plain(label), label->font(),
                      label->contentsRect().width() - 2 * label->margin() - label->indent()))
                out << QString("%1: label '%2' is cut (%3 px)")
                           .arg(name(label), plain(label).left(40))
                           .arg(label->width());
        } else if (auto* button = qobject_cast<QAbstractButton*>(w)) {
            if (!button->text().isEmpty() && button->sizeHint().width() > button->width() + 1)
                out << QString("%1: button '%2' is cut (%3 of %4 px)")
                           .arg(name(button), button->text())
                           .arg(button->width())
                           .arg(button->sizeHint().width());
        } else if (auto* combo = qobject_cast<QComboBox*>(w)) {
            QStyleOptionComboBox opt;
            opt.initFrom(combo);
            const QRect field = combo->style()->subControlRect(QStyle::CC_ComboBox, &opt,
                                                               QStyle::SC_ComboBoxEditField, combo);
            if (!fits(combo->currentText(), combo->font(), field.width()))
                out << QString("%1: combo box '%2' is cut").arg(name(combo), combo->currentText());
        } else if (auto* area = qobject_cast<QAbstractScrollArea*>(w);
                   area && !qobject_cast<QComboBox*>(w->parentWidget())) {
            // A text box or a strip of tokens: room for a few words on a line.
            const int words = QFontMetrics(area->font()).averageCharWidth() * 16;
            if (area->viewport()->width() < words)
                out << QString("%1: %2 px wide, less than a line of 16 characters (%3 px)")
                           .arg(name(area))
                           .arg(area->viewport()->width())
                           .arg(words);
        } else if (auto* plot = qobject_cast<QCustomPlot*>(w)) {
            for (QCPAxisRect* rect : plot->axisRects()) {
                if (rect->width() < min.plot_width || rect->height() < min.plot_height)
                    out << QString("%1: plot area %2x%3 px is below %4x%5")
                               .arg(name(plot))
                               .arg(rect->width())
                               .arg(rect->height())
                               .arg(min.plot_width)
                               .arg(min.plot_height);
                for (const QCPAxis* axis : rect->axes()) check_axis(axis, name(plot), out);
            }
            for (QCPLegend* legend : plot->findChildren<QCPLegend*>()) {
                if (!legend->visible()) continue;
                for (int i = 0; i < legend->itemCount(); ++i) {
                    auto* item = qobject_cast<QCPPlottableLegendItem*>(legend->item(i));
                    if (!item) continue;
                    const QString text = item->plottable()->name();
                    const int needed = legend->iconSize().width() + legend->iconTextPadding() +
                                       QFontMetrics(item->font()).horizontalAdvance(text);
                    if (item->rect().width() + 1 < needed)
                        out << QString("%1: legend '%2' is cut").arg(name(plot), text);
                }
            }
            for (QCPTextElement* title : plot->findChildren<QCPTextElement*>())
                if (title->visible() &&
                    !fits(title->text(), title->font(), title->outerRect().width()))
                    out << QString("%1: title '%2' is cut").arg(name(plot), title->text());
        }
    }
    return out;
}

}  // namespace ps::test
