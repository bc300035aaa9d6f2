// The head-importance grid (views/interventions/importance_chart.h).
#include "views/interventions/importance_chart.h"

#include <QContextMenuEvent>
#include <QMouseEvent>
#include <algorithm>
#include <cmath>
#include <limits>

#include "views/widgets/grid_text_layer.h"
#include "views/widgets/theme.h"

namespace ps {

ImportanceChart::ImportanceChart(QWidget* parent) : QCustomPlot(parent) {
    plotLayout()->insertRow(0);
    title_ = new QCPTextElement(this, "", QFont(font().family(), font().pointSize(), QFont::Bold));
    plotLayout()->addElement(0, 0, title_);
    map_ = new QCPColorMap(xAxis, yAxis);
    map_->setInterpolate(false);
    scale_ = new QCPColorScale(this);
    scale_->setType(QCPAxis::atRight);
    scale_->axis()->setLabel(tr("Δp when ablated"));
    scale_->setGradient(diverging_gradient());  // the map takes the scale's gradient
    plotLayout()->addElement(1, 1, scale_);
    map_->setColorScale(scale_);
    text_ = new GridTextLayer(axisRect());
    xAxis->setLabel(tr("head"));
    yAxis->setLabel(tr("layer"));
    yAxis->setRangeReversed(true);  // layer 0 at the top, as the attention grid has it
    message_ = new QCPItemText(this);
    message_->position->setType(QCPItemPosition::ptAxisRectRatio);
    message_->position->setCoords(0.5, 0.5);
    setMinimumSize(240, 200);
    Appearance::instance().watch(this);
    clear(tr("No sweep yet"));
}

void ImportanceChart::clear(const QString& message) {
    shown_ = HeadImportance();
    map_->data()->clear();
    map_->setVisible(false);
    text_->setCells({});
    title_->setText("");
    message_->setText(message);
    message_->setVisible(true);
    // No grid yet: no axes or colour scale with made-up ranges.
    for (QCPAxis* axis : {xAxis, yAxis}) axis->setVisible(false);
    scale_->setVisible(false);
    replot();
}

void ImportanceChart::showImportance(const HeadImportance& importance, const QString& title) {
    shown_ = importance;
    const int layers = static_cast<int>(importance.delta.size());
    const int heads = layers ? static_cast<int>(importance.delta[0].size()) : 0;
    if (layers == 0 || heads == 0) return clear(tr("No heads"));
    map_->data()->setSize(heads, layers);
    map_->data()->setRange(QCPRange(0, heads - 1), QCPRange(0, layers - 1));
    double largest = 1e-6;
    std::vector<GridCellText> cells;
    for (int l = 0; l < layers; ++l)
        for (int h = 0; h < heads; ++h) {
            const double d = importance.delta[size_t(l)][size_t(h)];
            map_->data()->setCell(h, l, d);
            largest = std::max(largest, std::abs(d));
        }
    const QCPRange range(-largest, largest);  // white is "no effect"
    scale_->setDataRange(range);
    QCPColorGradient gradient = diverging_gradient();  // color() is not const
    for (int l = 0; l < layers; ++l)
        for (int h = 0; h < heads; ++h) {
            const double d = importance.delta[size_t(l)][size_t(h)];
            const QColor bg = QColor::fromRgb(gradient.color(d, range));
            // |d| below the last digit shown reads 0.000, not "-0.000".
            const double shown = std::abs(d) < 5e-4 ? 0.0 : d;
            cells.push_back({double(h), double(l), QString::number(shown, 'f', 3), bg, false, {}});
        }
    text_->setCells(std::move(cells));
    xAxis->setRange(-0.5, heads - 0.5);
    yAxis->setRange(-0.5, layers - 0.5);
    title_->setText(title);
    map_->setVisible(true);
    for (QCPAxis* axis : {xAxis, yAxis}) axis->setVisible(true);
    scale_->setVisible(true);
    message_->setVisible(false);
    replot();
}

double ImportanceChart::cellValue(int layer, int head) const {
    if (layer < 0 || layer >= int(shown_.delta.size()) || head < 0 ||
        head >= int(shown_.delta[size_t(layer)].size()))
        return std::numeric_limits<double>::quiet_NaN();
    return shown_.delta[size_t(layer)][size_t(head)];
}

QPoint ImportanceChart::headCenter(int layer, int head) const {
    return QPoint(int(xAxis->coordToPixel(head)), int(yAxis->coordToPixel(layer)));
}

bool ImportanceChart::headAt(const QPointF& pixel, int* layer, int* head) const {
    if (shown_.delta.empty() || !axisRect()->rect().contains(pixel.toPoint())) return false;
    const int h = int(std::lround(xAxis->pixelToCoord(pixel.x())));
    const int l = int(std::lround(yAxis->pixelToCoord(pixel.y())));
    if (std::isnan(cellValue(l, h))) return false;
    *layer = l;
    *head = h;
    return true;
}

void ImportanceChart::mousePressEvent(QMouseEvent* event) {
    QCustomPlot::mousePressEvent(event);
    int l, h;
    if (event->button() == Qt::LeftButton && headAt(event->position(), &l, &h))
        emit headClicked(l, h);
}

void ImportanceChart::contextMenuEvent(QContextMenuEvent* event) {
    int l, h;
    if (headAt(QPointF(event->pos()), &l, &h)) emit headMenuRequested(l, h, event->globalPos());
}

}  // namespace ps
