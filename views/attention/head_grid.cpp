#include "views/attention/head_grid.h"

#include <QContextMenuEvent>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "views/widgets/grid_text_layer.h"

namespace ps {

namespace {

const QColor kSelected(0xd9, 0x3f, 0x0b);
const QColor kMasked(0xee, 0xee, 0xee);
const QColor kUndefined(0xe4, 0xe4, 0xe4);
// Thumbnails map masked cells to this value, below every weight, so they can be grey while
// the gaps between thumbnails (NaN) stay transparent.
constexpr double kMaskedValue = -0.08;

// The weights' gradient with a grey band below 0 for the causal mask.
QCPColorGradient thumbnail_gradient() {
    const QCPColorGradient blues = probability_gradient();
    QCPColorGradient g;
    g.clearColorStops();
    const double zero = -kMaskedValue / (1 - kMaskedValue);
    g.setColorStopAt(0, kMasked);
    g.setColorStopAt(zero * 0.999, kMasked);
    for (auto it = blues.colorStops().constBegin(); it != blues.colorStops().constEnd(); ++it)
        g.setColorStopAt(zero + it.key() * (1 - zero), it.value());
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    g.setNanHandling(QCPColorGradient::nhTransparent);
    return g;
}

// Yellow to dark red ("YlOrRd"): scores stand apart from the blue attention weights.
QCPColorGradient score_gradient() {
    QCPColorGradient g;
    g.clearColorStops();
    g.setColorStopAt(0.0, QColor(0xff, 0xff, 0xe5));
    g.setColorStopAt(0.25, QColor(0xfe, 0xd9, 0x76));
    g.setColorStopAt(0.5, QColor(0xfd, 0x8d, 0x3c));
    g.setColorStopAt(0.75, QColor(0xe3, 0x1a, 0x1c));
    g.setColorStopAt(1.0, QColor(0x80, 0x00, 0x26));
    g.setColorInterpolation(QCPColorGradient::ciRGB);
    g.setNanHandling(QCPColorGradient::nhNanColor);
    g.setNanColor(kUndefined);
    return g;
}

}  // namespace

HeadGrid::HeadGrid(QWidget* parent) : QCustomPlot(parent) {
    setMinimumSize(160, 100);
    plotLayout()->insertRow(0);
    title_ = new QCPTextElement(this, QString(),
                                QFont(font().family(), font().pointSize(), QFont::Bold));
    plotLayout()->addElement(0, 0, title_);
    map_ = new QCPColorMap(xAxis, yAxis);
    map_->setInterpolate(false);
    map_->setTightBoundary(false);
    scale_ = new QCPColorScale(this);
    plotLayout()->addElement(1, 1, scale_);
    scale_->setType(QCPAxis::atRight);
    scale_->setBarWidth(10);
    map_->setColorScale(scale_);
    auto* margins = new QCPMarginGroup(this);
    axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale_->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    text_ = new GridTextLayer(axisRect());
    text_->setMinCellWidth(26);
    selected_ = new QCPItemRect(this);
    selected_->setPen(QPen(kSelected, 2.5));
    selected_->setBrush(Qt::NoBrush);
    selected_->setClipToAxisRect(false);
    message_ = new QCPItemText(this);
    message_->position->setType(QCPItemPosition::ptAxisRectRatio);
    message_->position->setCoords(0.5, 0.45);
    message_->setColor(QColor(0x70, 0x70, 0x70));
    for (QCPAxis* axis : {xAxis, yAxis}) {
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTickerText));
        axis->grid()->setVisible(false);
        axis->setSubTicks(false);
        axis->setTickLength(0, 0);
        axis->setBasePen(Qt::NoPen);
        axis->setTickPen(Qt::NoPen);
    }
    // Layer l sits at y = -l, so layer 0 is at the top.
    setMouseTracking(true);
    clear(tr("No analysis yet."));
}

void HeadGrid::clear(const QString& message) {
    layers_ = heads_ = 0;
    thumb_ = 0;
    map_->data()->clear();
    text_->setCells({});
    tips_.clear();
    selected_->setVisible(false);
    for (auto* line : group_lines_) removeItem(line);
    group_lines_.clear();
    title_->setText(QString());
    message_->setText(message);
    message_->setVisible(true);
    replot();
}

QString HeadGrid::columnLabel(int head) const {
    if (group_ <= 1) return tr("h%1").arg(head);
    return tr("h%1\nkv%2").arg(head).arg(head / group_);
}

void HeadGrid::setShape(int layers, int heads, const Config& config) {
    layers_ = layers;
    heads_ = heads;
    group_ = config.n_kv_heads > 0 && config.n_heads == heads ? heads / config.n_kv_heads : 1;
    message_->setVisible(false);
    sliding_rows_.assign(static_cast<size_t>(layers), false);
    for (int l = 0; l < layers; ++l) sliding_rows_[static_cast<size_t>(l)] = config.window(l) > 0;
    label_step_ = column_step_ = 0;
    setRowLabels(1);
    setColumnLabels(1);
    // Lines between the groups of query heads that read the same key/value head.
    for (auto* line : group_lines_) removeItem(line);
    group_lines_.clear();
    if (group_ > 1)
        for (int h = group_; h < heads; h += group_) {
            auto* line = new QCPItemStraightLine(this);
            line->setPen(QPen(QColor(0x60, 0x60, 0x60), 1.2, Qt::DashLine));
            line->point1->setCoords(h - 0.5, 0);
            line->point2->setCoords(h - 0.5, 1);
            group_lines_.push_back(line);
        }
}

void HeadGrid::showThumbnails(const Trace& trace, const Config& config, const QString& title) {
    const int T = static_cast<int>(trace.ids.size());
    const int L = static_cast<int>(trace.layers.size());
    if (T == 0 || L == 0 || trace.layers[0].pattern.size() == 0) return clear(tr("No patterns."));
    const int H = trace.layers[0].heads;
    setShape(L, H, config);
    title_->setText(title);
    text_->setCells({});
    const int S = std::min(T, kMaxThumbnail);
    const int gap = std::max(1, S / 6);
    thumb_ = S;
    pitch_ = S + gap;
    map_->data()->setSize(H * pitch_, L * pitch_);
    // Cell i's centre sits at (i - (S-1)/2) / pitch: thumbnail h is centred on x = h, and
    // thumbnail row block b (layer L-1-b, from the bottom) on y = b - (L-1) = -layer.
    auto centre = [&](int i) { return (i - (S - 1) / 2.0) / pitch_; };
    map_->data()->setRange(QCPRange(centre(0), centre(H * pitch_ - 1)),
                           QCPRange(centre(0) - (L - 1), centre(L * pitch_ - 1) - (L - 1)));
    map_->data()->fill(std::nan(""));
    // Block b of the thumbnail covers source rows/columns [b*T/S, (b+1)*T/S).
    auto lo = [&](int b) { return b * T / S; };
    for (int l = 0; l < L; ++l) {
        for (int h = 0; h < H; ++h) {
            const auto p = trace.layers[static_cast<size_t>(l)].head_pattern(h);
            for (int v = 0; v < S; ++v) {
                for (int u = 0; u < S; ++u) {
                    // Entirely right of the diagonal: every key is after every query.
                    const bool masked = lo(u) > lo(v + 1) - 1;
                    double value = kMaskedValue;
                    if (!masked)
                        value =
                            p.block(lo(v), lo(u), lo(v + 1) - lo(v), lo(u + 1) - lo(u)).maxCoeff();
                    map_->data()->setCell(h * pitch_ + u, mapRow(l, v), value);
                }
            }
        }
    }
    map_->setGradient(thumbnail_gradient());
    map_->setDataRange(QCPRange(kMaskedValue, 1));
    if (scale_->visible()) {  // the heatmap's colour scale explains the thumbnails
        scale_->setVisible(false);
        plotLayout()->take(scale_);
        plotLayout()->simplify();
    }
    fitSquare();
}

void HeadGrid::showScores(const AttentionStats& stats, const Config& config, HeadMetric metric,
                          const QCPRange& range, const QString& title) {
    const int L = stats.n_layers, H = stats.n_heads;
    if (L == 0) return clear(tr("No patterns."));
    setShape(L, H, config);
    title_->setText(title);
    thumb_ = 0;
    pitch_ = 1;
    map_->data()->setSize(H, L);
    map_->data()->setRange(H > 1 ? QCPRange(0, H - 1) : QCPRange(-0.5, 0.5),
                           L > 1 ? QCPRange(-(L - 1), 0) : QCPRange(-0.5, 0.5));
    QCPColorGradient gradient = score_gradient();  // color() is not const
    std::vector<GridCellText> cells;
    for (int l = 0; l < L; ++l) {
        for (int h = 0; h < H; ++h) {
            const double v = stats.at(l, h).get(metric);
            map_->data()->setCell(h, L - 1 - l, v);
            GridCellText cell;
            cell.key = h;
            cell.value = -l;
            cell.text = std::isnan(v) ? QString(QChar(0x2013)) : QString::number(v, 'f', 2);
            cell.background = std::isnan(v) ? kUndefined : QColor(gradient.color(v, range));
            cells.push_back(std::move(cell));
        }
    }
    text_->setCells(std::move(cells));
    map_->setGradient(gradient);
    map_->setDataRange(range);
    if (!scale_->visible()) {
        plotLayout()->addElement(1, 1, scale_);
        scale_->setVisible(true);
    }
    scale_->axis()->setLabel(metric == HeadMetric::Entropy ? tr("bits") : tr("score"));
    fitSquare();
}

// Square cells: the axis ranges are widened in the direction with room to spare, centred.
// Labels every `step`-th layer "L<n>" ("⇤ L<n>" for a sliding-window layer: Mistral's, Gemma 3's
// local ones), so that rows shorter than a line of text never print over each other.
void HeadGrid::setRowLabels(int step) {
    if (step == label_step_) return;
    label_step_ = step;
    auto rows = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    for (int l = 0; l < layers_; ++l)
        if (l % step == 0)
            rows->addTick(
                -l, sliding_rows_[static_cast<size_t>(l)] ? tr("⇤ L%1").arg(l) : tr("L%1").arg(l));
    yAxis->setTicker(rows);
}

// The same for the heads: every `step`-th head's "h<n>" (and its key/value head).
void HeadGrid::setColumnLabels(int step) {
    if (step == column_step_) return;
    column_step_ = step;
    auto columns = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    for (int h = 0; h < heads_; h += step) columns->addTick(h, columnLabel(h));
    xAxis->setTicker(columns);
}

void HeadGrid::fitSquare() {
    if (layers_ == 0) return;
    for (int pass = 0; pass < 2; ++pass) {  // the first layout may move the axis rect
        const double w = std::max(axisRect()->width(), 40);
        const double h = std::max(axisRect()->height(), 40);
        const double unit = std::min(w / heads_, h / layers_);
        const int line = QFontMetrics(yAxis->tickLabelFont()).height();
        setRowLabels(std::max(1, static_cast<int>(std::ceil(line / unit))));
        const QFontMetrics metrics(xAxis->tickLabelFont());
        const int widest =
            std::max(metrics.horizontalAdvance(columnLabel(heads_ - 1).section('\n', 0, 0)),
                     metrics.horizontalAdvance(columnLabel(heads_ - 1).section('\n', -1)));
        setColumnLabels(std::max(1, static_cast<int>(std::ceil((widest + 4) / unit))));
        const double cx = (heads_ - 1) / 2.0, cy = -(layers_ - 1) / 2.0;
        xAxis->setRange(cx - w / unit / 2, cx + w / unit / 2);
        yAxis->setRange(cy - h / unit / 2, cy + h / unit / 2);
        replot();
    }
}

void HeadGrid::resizeEvent(QResizeEvent* event) {
    QCustomPlot::resizeEvent(event);
    fitSquare();
}

void HeadGrid::setSelectedHead(int layer, int head) {
    const bool valid = layer >= 0 && head >= 0 && layer < layers_ && head < heads_;
    selected_->setVisible(valid);
    const double pad = thumb_ > 0 ? 0.5 - 0.5 * (pitch_ - thumb_) / pitch_ + 0.06 : 0.5;
    selected_->topLeft->setCoords(head - pad, -layer + pad);
    selected_->bottomRight->setCoords(head + pad, -layer - pad);
    replot(rpQueuedReplot);  // one repaint when several views follow the same click
}

// Map rows count from the bottom: the last layer's block first, each block's last query first.
int HeadGrid::mapRow(int layer, int row) const {
    return (layers_ - 1 - layer) * pitch_ + (thumb_ - 1 - row);
}

double HeadGrid::thumbnailCell(int layer, int head, int row, int column) const {
    if (thumb_ == 0 || layer < 0 || head < 0 || layer >= layers_ || head >= heads_ || row < 0 ||
        column < 0 || row >= thumb_ || column >= thumb_)
        return std::nan("");
    return map_->data()->cell(head * pitch_ + column, mapRow(layer, row));
}

QPoint HeadGrid::headCenter(int layer, int head) const {
    return QPoint(static_cast<int>(std::lround(xAxis->coordToPixel(head))),
                  static_cast<int>(std::lround(yAxis->coordToPixel(-layer))));
}

bool HeadGrid::headAt(const QPointF& pixel, int* layer, int* head) const {
    if (layers_ == 0 || !axisRect()->rect().contains(pixel.toPoint())) return false;
    *head = static_cast<int>(std::lround(xAxis->pixelToCoord(pixel.x())));
    *layer = -static_cast<int>(std::lround(yAxis->pixelToCoord(pixel.y())));
    return *head >= 0 && *layer >= 0 && *head < heads_ && *layer < layers_;
}

QString HeadGrid::headTooltip(int layer, int head) const {
    const size_t i = static_cast<size_t>(layer * heads_ + head);
    return i < tips_.size() ? tips_[i] : QString();
}

void HeadGrid::mouseMoveEvent(QMouseEvent* event) {
    QCustomPlot::mouseMoveEvent(event);
    int layer, head;
    if (headAt(event->position(), &layer, &head))
        QToolTip::showText(event->globalPosition().toPoint(), headTooltip(layer, head), this);
    else
        QToolTip::hideText();
}

void HeadGrid::mousePressEvent(QMouseEvent* event) {
    QCustomPlot::mousePressEvent(event);
    int layer, head;
    if (headAt(event->position(), &layer, &head)) emit headClicked(layer, head);
}

void HeadGrid::contextMenuEvent(QContextMenuEvent* event) {
    int layer, head;
    if (headAt(QPointF(event->pos()), &layer, &head))
        emit headMenuRequested(layer, head, event->globalPos());
}

}  // namespace ps
