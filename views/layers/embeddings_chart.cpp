#include "views/layers/embeddings_chart.h"

#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <tuple>

#include "core/analysis/layer_analysis.h"
#include "core/tokenizer/tokenizer.h"
#include "views/widgets/grid_text_layer.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

constexpr int kLabelTokensUpTo = 24;  // above this many tokens, end labels would overlap
constexpr double kHoverPixels = 9;
const QColor kAttn(0x6b, 0xa3, 0xd6);
const QColor kMlp(0xe8, 0x6a, 0x2c);
const QColor kSelected(0xd9, 0x3f, 0x0b);

QSharedPointer<QCPAxisTickerText> boundary_ticker(int boundaries) {
    auto t = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    // At most about seven labels ("embed" is wide), always the first and the last.
    const int step = std::max(1, (boundaries + 6) / 7);
    for (int b = 0; b < boundaries; b += step)
        if (boundaries - 1 - b >= step || b == boundaries - 1)
            t->addTick(b, QString::fromStdString(boundary_name(b)));
    t->addTick(boundaries - 1, QString::fromStdString(boundary_name(boundaries - 1)));
    return t;
}

QString elide(const QString& s, int n) {
    return s.size() <= n ? s : s.left(n - 1) + QChar(0x2026);
}

}  // namespace

QColor token_color(int i, int n) {
    // Hues from blue (first token) round to red (last), dark enough to read on white.
    const double f = n > 1 ? double(i) / (n - 1) : 0.0;
    return QColor::fromHsvF(0.66 * (1 - f) + 0.0, 0.75, 0.8);
}

EmbeddingsChart::EmbeddingsChart(QWidget* parent) : QCustomPlot(parent) {
    setObjectName("embeddingsChart");
    setMinimumSize(420, 300);
    setAutoAddPlottableToLegend(false);
    setMouseTracking(true);
    setAntialiasedElements(QCP::aeAll);
    legend->setVisible(false);

    // Left: the trajectories; right: a 2 × 2 grid of the smaller panels.
    traj_ = axisRect();
    traj_->axis(QCPAxis::atBottom)->setLabel(tr("PC1"));
    traj_->axis(QCPAxis::atLeft)->setLabel(tr("PC2"));
    auto* right = new QCPLayoutGrid;
    plotLayout()->addElement(0, 1, right);
    plotLayout()->setColumnStretchFactor(0, 1.1);
    plotLayout()->setColumnStretchFactor(1, 1.4);
    auto* heat_cell = new QCPLayoutGrid;
    right->addElement(0, 0, heat_cell);
    heat_ = addRect(heat_cell, 0, 0, tr("dimension"), QString());
    heat_scale_ = new QCPColorScale(this);
    heat_cell->addElement(0, 1, heat_scale_);
    heat_cell->setColumnStretchFactor(1, 0.01);
    heat_scale_->setBarWidth(8);
    heat_scale_->axis()->setLabel(tr("value"));
    heat_scale_->setGradient(diverging_gradient());
    auto* heat_margins = new QCPMarginGroup(this);
    heat_->setMarginGroup(QCP::msTop | QCP::msBottom, heat_margins);
    heat_scale_->setMarginGroup(QCP::msTop | QCP::msBottom, heat_margins);
    norms_ = addRect(right, 0, 1, tr("residual after"), tr("‖residual‖"));
    cosine_ = addRect(right, 1, 0, tr("layer"), tr("cos(before, after)"));
    contrib_ = addRect(right, 1, 1, tr("layer"), tr("‖added to the residual‖"));
    heat_map_ = new QCPColorMap(heat_->axis(QCPAxis::atBottom), heat_->axis(QCPAxis::atLeft));
    heat_map_->setInterpolate(false);
    heat_map_->setColorScale(heat_scale_);
    heat_->axis(QCPAxis::atLeft)->setRangeReversed(true);  // the first token on top
    heat_->axis(QCPAxis::atLeft)->grid()->setVisible(false);
    heat_->axis(QCPAxis::atBottom)->grid()->setVisible(false);

    contrib_group_ = new QCPBarsGroup(this);
    contrib_legend_ = new QCPLegend;
    contrib_->insetLayout()->addElement(contrib_legend_, Qt::AlignTop | Qt::AlignLeft);
    contrib_legend_->setLayer("legend");
    contrib_legend_->setBrush(QColor(255, 255, 255, 210));
    contrib_legend_->setBorderPen(Qt::NoPen);
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    contrib_legend_->setFont(small);

    message_ = new QCPItemText(this);
    message_->setClipToAxisRect(false);
    message_->position->setType(QCPItemPosition::ptViewportRatio);
    message_->position->setCoords(0.5, 0.5);
    message_->setColor(QColor(0x70, 0x70, 0x70));
    clear(tr("No analysis yet."));
}

QCPAxisRect* EmbeddingsChart::addRect(QCPLayoutGrid* grid, int row, int column,
                                      const QString& x_label, const QString& y_label) {
    auto* rect = new QCPAxisRect(this);
    grid->addElement(row, column, rect);
    QFont small = font();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    for (QCPAxis* axis : rect->axes()) {
        axis->setTickLabelFont(small);
        axis->setLabelFont(small);
    }
    rect->axis(QCPAxis::atBottom)->setLabel(x_label);
    rect->axis(QCPAxis::atLeft)->setLabel(y_label);
    rect->setMinimumMargins(QMargins(4, 4, 4, 4));
    return rect;
}

void EmbeddingsChart::removeDrawn() {
    for (int i = plottableCount() - 1; i >= 0; i--)
        if (plottable(i) != heat_map_) removePlottable(i);
    for (int i = itemCount() - 1; i >= 0; i--)
        if (item(i) != message_) removeItem(i);
    contrib_legend_->clearItems();
    curves_.clear();
}

void EmbeddingsChart::clear(const QString& message) {
    removeDrawn();
    heat_map_->data()->clear();
    token_text_.clear();
    boundaries_ = heat_rows_ = heat_dims_ = layers_ = 0;
    message_->setText(message);
    message_->setVisible(true);
    replot();
}

void EmbeddingsChart::show(const LayerAnalysis& a, const Trace& trace, const Tokenizer& tok,
                           int position, int layer) {
    removeDrawn();
    message_->setVisible(false);
    token_text_.clear();
    for (int id : a.ids) token_text_.push_back(token_display(tok, id));
    boundaries_ = a.trajectories.boundaries;
    layers_ = boundaries_ - 1;
    drawTrajectories(a, position, layer);
    drawHeatmap(trace, position, layer);
    drawLines(a, position, layer);
    drawContributions(a, position);
    replot();
}

void EmbeddingsChart::drawTrajectories(const LayerAnalysis& a, int position, int layer) {
    const Trajectories& paths = a.trajectories;
    QCPAxis* x = traj_->axis(QCPAxis::atBottom);
    QCPAxis* y = traj_->axis(QCPAxis::atLeft);
    x->setLabel(tr("PC1 (%1% of variance)").arg(100 * paths.pca.explained[0], 0, 'f', 1));
    y->setLabel(tr("PC2 (%1% of variance)").arg(100 * paths.pca.explained[1], 0, 'f', 1));
    QVector<double> start_x, start_y, end_x, end_y;
    // The selected token last, so it is drawn on top.
    std::vector<int> order;
    for (int t = 0; t < paths.tokens; t++)
        if (t != position) order.push_back(t);
    if (position >= 0 && position < paths.tokens) order.push_back(position);
    curves_.assign(static_cast<size_t>(paths.tokens), nullptr);
    for (int t : order) {
        const bool sel = t == position;
        QColor color = token_color(t, paths.tokens);
        if (!sel && position >= 0) color.setAlpha(110);
        auto* curve = new QCPCurve(x, y);
        QVector<double> xs, ys;
        for (int b = 0; b < paths.boundaries; b++) {
            xs << paths.x(t, b);
            ys << paths.y(t, b);
        }
        curve->setData(xs, ys);
        curve->setPen(QPen(color, sel ? 2.6 : 1.2));
        curve->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssCircle, color, Qt::white, sel ? 6 : 4));
        curves_[static_cast<size_t>(t)] = curve;
        start_x << paths.x(t, 0);
        start_y << paths.y(t, 0);
        end_x << paths.x(t, paths.boundaries - 1);
        end_y << paths.y(t, paths.boundaries - 1);
        if (paths.tokens <= kLabelTokensUpTo || sel) {
            auto* label = new QCPItemText(this);
            label->setClipAxisRect(traj_);
            label->position->setAxes(x, y);
            label->position->setCoords(paths.x(t, paths.boundaries - 1),
                                       paths.y(t, paths.boundaries - 1));
            label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
            label->setPadding(QMargins(4, 0, 0, 2));
            label->setText(elide(token_text_[static_cast<size_t>(t)], 12));
            label->setColor(sel ? kSelected : color.darker(130));
            QFont f = font();
            f.setBold(sel);
            label->setFont(f);
        }
    }
    auto* key = new QCPItemText(this);
    key->setClipAxisRect(traj_);
    key->position->setType(QCPItemPosition::ptAxisRectRatio);
    key->position->setAxisRect(traj_);
    key->position->setCoords(0.01, 0.01);
    key->setPositionAlignment(Qt::AlignLeft | Qt::AlignTop);
    key->setText(tr("□ input embedding  → one point per layer →  ● output"));
    key->setColor(QColor(0x50, 0x50, 0x50));
    key->setBrush(QColor(255, 255, 255, 200));
    // Start and end markers over the paths.
    auto* starts = new QCPCurve(x, y);
    auto* ends = new QCPCurve(x, y);
    starts->setData(start_x, start_y);
    ends->setData(end_x, end_y);
    for (QCPCurve* c : {starts, ends}) c->setLineStyle(QCPCurve::lsNone);
    starts->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssSquare, QColor(0x50, 0x50, 0x50),
                                            QColor(0xf0, 0xf0, 0xf0), 7));
    ends->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, QColor(0x20, 0x20, 0x20),
                                          QColor(0x20, 0x20, 0x20), 6));
    // The selected token at the selected layer: a ring.
    if (position >= 0 && position < paths.tokens) {
        auto* ring = new QCPCurve(x, y);
        ring->setLineStyle(QCPCurve::lsNone);
        ring->setScatterStyle(
            QCPScatterStyle(QCPScatterStyle::ssCircle, QPen(kSelected, 2.5), Qt::NoBrush, 15));
        ring->addData(paths.x(position, layer + 1), paths.y(position, layer + 1));
    }
    // Equal scales would waste the panel when PC2 is much narrower than PC1: fit each axis.
    const auto& c = paths.pca.coords;
    const double x0 = c.col(0).minCoeff(), x1 = c.col(0).maxCoeff();
    const double y0 = c.col(1).minCoeff(), y1 = c.col(1).maxCoeff();
    const double px = std::max(1e-6, x1 - x0) * 0.08, py = std::max(1e-6, y1 - y0) * 0.08;
    x->setRange(x0 - px, x1 + px * (paths.tokens <= kLabelTokensUpTo ? 2.5 : 1));
    y->setRange(y0 - py, y1 + py * 1.5);
}

void EmbeddingsChart::drawHeatmap(const Trace& trace, int position, int layer) {
    const Activation& r = residual_at(trace, layer + 1);
    heat_rows_ = static_cast<int>(r.rows());
    heat_dims_ = static_cast<int>(r.cols());
    heat_map_->data()->setSize(heat_dims_, heat_rows_);
    heat_map_->data()->setRange(
        QCPRange(0, std::max(heat_dims_ - 1, 1)),
        heat_rows_ == 1 ? QCPRange(-0.5, 0.5) : QCPRange(0, heat_rows_ - 1));
    std::vector<float> magnitudes;
    magnitudes.reserve(static_cast<size_t>(r.size()));
    for (int t = 0; t < heat_rows_; t++)
        for (int d = 0; d < heat_dims_; d++) {
            heat_map_->data()->setCell(d, t, r(t, d));
            magnitudes.push_back(std::abs(r(t, d)));
        }
    // A few dimensions of the residual are often huge; a colour range at the 99th percentile
    // keeps the rest visible (the outliers saturate).
    const size_t k = magnitudes.size() * 99 / 100;
    std::nth_element(magnitudes.begin(), magnitudes.begin() + static_cast<long>(k),
                     magnitudes.end());
    const double extent = std::max(1e-6f, magnitudes[k]);
    heat_scale_->setDataRange(QCPRange(-extent, extent));
    QCPAxis* x = heat_->axis(QCPAxis::atBottom);
    QCPAxis* y = heat_->axis(QCPAxis::atLeft);
    x->setLabel(tr("dimension of the residual after layer %1").arg(layer));
    x->setRange(-0.5, heat_dims_ - 0.5);
    y->setRange(-0.5, heat_rows_ - 0.5);
    auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    const int step = std::max(1, heat_rows_ / 16);
    for (int t = 0; t < heat_rows_; t += step)
        ticker->addTick(t, elide(token_text_[static_cast<size_t>(t)], 10));
    y->setTicker(ticker);
    if (position >= 0 && position < heat_rows_) {
        auto* row = new QCPItemRect(this);
        row->setClipAxisRect(heat_);
        for (auto* p : {row->topLeft, row->bottomRight}) p->setAxes(x, y);
        row->topLeft->setCoords(-0.5, position - 0.5);
        row->bottomRight->setCoords(heat_dims_ - 0.5, position + 0.5);
        row->setPen(QPen(kSelected, 1.5));
    }
}

void EmbeddingsChart::drawLines(const LayerAnalysis& a, int position, int layer) {
    const ResidualStats& s = a.stats;
    QCPAxis* nx = norms_->axis(QCPAxis::atBottom);
    QCPAxis* ny = norms_->axis(QCPAxis::atLeft);
    QCPAxis* cx = cosine_->axis(QCPAxis::atBottom);
    QCPAxis* cy = cosine_->axis(QCPAxis::atLeft);
    double top = 0, low = 1;
    for (int pass = 0; pass < 2; pass++) {  // the others first, the selected token on top
        for (int t = 0; t < s.tokens; t++) {
            const bool sel = t == position;
            if (sel != (pass == 1)) continue;
            QColor color = token_color(t, s.tokens);
            if (!sel && position >= 0) color.setAlpha(90);
            const QPen pen(color, sel ? 2.6 : 1.0);
            auto* norm = new QCPGraph(nx, ny);
            auto* cos = new QCPGraph(cx, cy);
            for (int b = 0; b < boundaries_; b++) {
                norm->addData(b, s.norm(b, t));
                top = std::max(top, double(s.norm(b, t)));
            }
            for (int l = 0; l < s.layers; l++) {
                cos->addData(l, s.cosine(l, t));
                low = std::min(low, double(s.cosine(l, t)));
            }
            norm->setPen(pen);
            cos->setPen(pen);
            if (sel) {
                norm->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
                cos->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 5));
            }
        }
    }
    nx->setTicker(boundary_ticker(boundaries_));
    nx->setRange(-0.3, boundaries_ - 0.7);
    ny->setRange(0, top * 1.08 + 1e-6);
    auto layer_ticks = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    const int step = std::max(1, s.layers / 12);
    for (int l = 0; l < s.layers; l += step) layer_ticks->addTick(l, QString::number(l));
    cx->setTicker(layer_ticks);
    cx->setRange(-0.3, s.layers - 0.7);
    cy->setRange(std::max(-1.0, low - 0.05), 1.02);
    // The selected layer: its output boundary in the norms, the layer itself in the cosines.
    for (auto [axis_x, axis_y, at] :
         {std::tuple{nx, ny, layer + 1.0}, std::tuple{cx, cy, 1.0 * layer}}) {
        auto* line = new QCPItemStraightLine(this);
        line->setClipAxisRect(axis_x->axisRect());
        for (auto* p : {line->point1, line->point2}) p->setAxes(axis_x, axis_y);
        line->point1->setCoords(at, 0);
        line->point2->setCoords(at, 1);
        line->setPen(QPen(kSelected, 1.0, Qt::DashLine));
    }
}

void EmbeddingsChart::drawContributions(const LayerAnalysis& a, int position) {
    const ResidualStats& s = a.stats;
    QCPAxis* x = contrib_->axis(QCPAxis::atBottom);
    QCPAxis* y = contrib_->axis(QCPAxis::atLeft);
    auto layer_ticks = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    const int step = std::max(1, s.layers / 12);
    for (int l = 0; l < s.layers; l += step) layer_ticks->addTick(l, QString::number(l));
    x->setTicker(layer_ticks);
    x->setRange(-0.6, s.layers - 0.4);
    if (s.attn_out_norm.size() == 0) {
        y->setRange(0, 1);
        return;
    }
    double top = 0;
    const struct {
        const MatrixRM& norms;
        QColor color;
        QString name;
    } parts[] = {{s.attn_out_norm, kAttn, tr("attention (mean)")},
                 {s.mlp_out_norm, kMlp, tr("MLP (mean)")}};
    for (const auto& part : parts) {
        auto* bars = new QCPBars(x, y);
        bars->setWidth(0.38);
        bars->setBarsGroup(contrib_group_);
        bars->setPen(QPen(part.color.darker(125), 1.0));
        bars->setBrush(part.color);
        bars->setName(part.name);
        for (int l = 0; l < s.layers; l++) {
            const double mean = part.norms.row(l).mean();
            bars->addData(l, mean);
            top = std::max(top, mean);
        }
        contrib_legend_->addItem(new QCPPlottableLegendItem(contrib_legend_, bars));
    }
    if (position >= 0 && position < s.tokens) {
        for (int i = 0; i < 2; i++) {
            auto* marks = new QCPGraph(x, y);
            marks->setLineStyle(QCPGraph::lsNone);
            marks->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDiamond, QPen(kSelected, 1.2),
                                                   parts[i].color.lighter(130), 8));
            marks->setName(i == 0 ? tr("selected token") : QString());
            for (int l = 0; l < s.layers; l++) {
                const double v = parts[i].norms(l, position);
                // Bars of a group are offset from the key; the marker sits on its own bar.
                marks->addData(l + (i == 0 ? -0.19 : 0.19), v);
                top = std::max(top, v);
            }
            if (i == 0)
                contrib_legend_->addItem(new QCPPlottableLegendItem(contrib_legend_, marks));
        }
    }
    y->setRange(0, top * 1.4 + 1e-6);  // room for the legend
}

std::vector<QPointF> EmbeddingsChart::trajectory(int token) const {
    std::vector<QPointF> points;
    if (token < 0 || token >= static_cast<int>(curves_.size())) return points;
    for (auto it = curves_[static_cast<size_t>(token)]->data()->constBegin();
         it != curves_[static_cast<size_t>(token)]->data()->constEnd(); ++it)
        points.emplace_back(it->key, it->value);
    return points;
}

QSize EmbeddingsChart::heatmapCells() const {
    return QSize(heat_dims_, heat_rows_);
}

QPoint EmbeddingsChart::trajectoryPixel(int token, int boundary) const {
    const std::vector<QPointF> points = trajectory(token);
    const QPointF& p = points.at(static_cast<size_t>(boundary));
    return QPoint(
        static_cast<int>(std::lround(traj_->axis(QCPAxis::atBottom)->coordToPixel(p.x()))),
        static_cast<int>(std::lround(traj_->axis(QCPAxis::atLeft)->coordToPixel(p.y()))));
}

bool EmbeddingsChart::pointAt(const QPointF& pixel, int* token, int* boundary) const {
    if (!traj_->rect().contains(pixel.toPoint())) return false;
    double best = kHoverPixels * kHoverPixels;
    bool found = false;
    for (int t = 0; t < static_cast<int>(curves_.size()); t++) {
        const std::vector<QPointF> points = trajectory(t);
        for (int b = 0; b < static_cast<int>(points.size()); b++) {
            const QPointF& p = points[static_cast<size_t>(b)];
            const double dx = traj_->axis(QCPAxis::atBottom)->coordToPixel(p.x()) - pixel.x();
            const double dy = traj_->axis(QCPAxis::atLeft)->coordToPixel(p.y()) - pixel.y();
            if (dx * dx + dy * dy <= best) {
                best = dx * dx + dy * dy;
                *token = t;
                *boundary = b;
                found = true;
            }
        }
    }
    return found;
}

void EmbeddingsChart::mouseMoveEvent(QMouseEvent* event) {
    QCustomPlot::mouseMoveEvent(event);
    int t, b;
    if (pointAt(event->position(), &t, &b)) {
        QToolTip::showText(
            event->globalPosition().toPoint(),
            tr("position %1 <code>%2</code><br>%3")
                .arg(t)
                .arg(token_text_[static_cast<size_t>(t)].toHtmlEscaped())
                .arg(b == 0 ? tr("input embedding") : tr("after layer %1").arg(b - 1)),
            this);
    } else if (heat_rows_ > 0 && heat_->rect().contains(event->position().toPoint())) {
        const int d = static_cast<int>(
            std::lround(heat_->axis(QCPAxis::atBottom)->pixelToCoord(event->position().x())));
        const int row = static_cast<int>(
            std::lround(heat_->axis(QCPAxis::atLeft)->pixelToCoord(event->position().y())));
        if (d >= 0 && d < heat_dims_ && row >= 0 && row < heat_rows_)
            QToolTip::showText(event->globalPosition().toPoint(),
                               tr("position %1 <code>%2</code><br>dimension %3: %4")
                                   .arg(row)
                                   .arg(token_text_[static_cast<size_t>(row)].toHtmlEscaped())
                                   .arg(d)
                                   .arg(heat_map_->data()->cell(d, row), 0, 'g', 4),
                               this);
    } else {
        QToolTip::hideText();
    }
}

void EmbeddingsChart::mousePressEvent(QMouseEvent* event) {
    QCustomPlot::mousePressEvent(event);
    int t, b;
    if (pointAt(event->position(), &t, &b)) {
        emit pointClicked(t, b);
    } else if (heat_rows_ > 0 && heat_->rect().contains(event->position().toPoint())) {
        const int row = static_cast<int>(
            std::lround(heat_->axis(QCPAxis::atLeft)->pixelToCoord(event->position().y())));
        if (row >= 0 && row < heat_rows_) emit rowClicked(row);
    }
}

}  // namespace ps
