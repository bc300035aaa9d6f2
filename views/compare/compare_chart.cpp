#include "views/compare/compare_chart.h"

#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "core/sampling/compare.h"
#include "core/tokenizer/tokenizer.h"
#include "views/widgets/probability_axis.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

const QColor kRaw(0xc8, 0xc8, 0xc8);
const QColor kMessage(0x70, 0x70, 0x70);

QString elide(const QString& s, int max_chars) {
    return s.size() <= max_chars ? s : s.left(max_chars - 1) + QChar(0x2026);
}

// Shared look: token labels on the x axis in a monospace font, a grey message for empty states.
QCPItemText* setup_axes(QCustomPlot* plot) {
    plot->setAntialiasedElements(QCP::aeAll);
    plot->xAxis->grid()->setVisible(false);
    plot->xAxis->setTickLength(0, 3);
    plot->xAxis->setSubTicks(false);
    plot->xAxis->setTickLabelRotation(60);
    QFont mono = plot->font();
    mono.setFamily("DejaVu Sans Mono");
    mono.setStyleHint(QFont::Monospace);
    mono.setPointSizeF(mono.pointSizeF() * 0.9);
    plot->xAxis->setTickLabelFont(mono);
    auto* message = new QCPItemText(plot);
    message->position->setType(QCPItemPosition::ptAxisRectRatio);
    message->position->setCoords(0.5, 0.45);
    message->setColor(kMessage);
    return message;
}

// Token labels for the first n ranks of d; `widest` gets the widest label's width in pixels.
QSharedPointer<QCPAxisTickerText> token_ticker(const QCustomPlot* plot, const Distribution& d,
                                               const Tokenizer& tok, int n, std::vector<int>& ids,
                                               int& widest) {
    auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    ids.assign(d.ranked.begin(), d.ranked.begin() + n);
    const QFontMetrics fm(plot->xAxis->tickLabelFont());
    widest = 0;
    for (int i = 0; i < n; i++) {
        const QString label = elide(token_display(tok, ids[size_t(i)]), 10);
        widest = std::max(widest, fm.horizontalAdvance(label));
        ticker->addTick(i, label);
    }
    return ticker;
}

// Labels stay horizontal while they fit beside each other, else they are slanted. Returns
// whether the rotation changed.
bool fit_tick_labels(QCustomPlot* plot, size_t count, int widest) {
    if (count == 0) return false;
    // Before the first layout the axis rect has no size yet: estimate it from the widget.
    const int axis_width = std::max(plot->axisRect()->width(), plot->width() - 80);
    const double slot = axis_width / (static_cast<double>(count) + 0.2);
    const double before = plot->xAxis->tickLabelRotation();
    plot->xAxis->setTickLabelRotation(widest + 8 < slot ? 0 : 60);
    return plot->xAxis->tickLabelRotation() != before;
}

// The bar index under the mouse, or -1.
int index_at(QCustomPlot* plot, const QPointF& pos, size_t count) {
    const int i = static_cast<int>(std::lround(plot->xAxis->pixelToCoord(pos.x())));
    if (!plot->axisRect()->rect().contains(pos.toPoint()) || i < 0 || i >= int(count)) return -1;
    return i;
}

void show_tip(QCustomPlot* plot, QMouseEvent* event, const std::vector<QString>& tips) {
    const int i = index_at(plot, event->position(), tips.size());
    if (i >= 0)
        QToolTip::showText(event->globalPosition().toPoint(), tips[size_t(i)], plot);
    else
        QToolTip::hideText();
}

}  // namespace

QColor compare_color(int index) {
    static const QColor colors[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xe8, 0x6a, 0x2c),
                                    QColor(0x2c, 0xa0, 0x2c), QColor(0x94, 0x67, 0xbd),
                                    QColor(0x8c, 0x56, 0x4b), QColor(0xd6, 0x27, 0x28)};
    return colors[static_cast<size_t>(index) % std::size(colors)];
}

QString compare_letter(int index) {
    return QString(QChar('A' + index % 26));
}

// ---------------------------------------------------------------------------------------------
// Overlay

CompareOverlayChart::CompareOverlayChart(QWidget* parent) : QCustomPlot(parent) {
    setObjectName("compareOverlay");
    setMinimumHeight(180);
    legend->setVisible(true);
    axisRect()->insetLayout()->take(legend);
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0, legend);
    plotLayout()->setRowStretchFactor(0, 0.001);
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    legend->setMargins(QMargins(4, 2, 4, 2));
    raw_ = new QCPBars(xAxis, yAxis);
    raw_->setName(tr("raw p (T = 1, no filter)"));
    raw_->setWidth(0.7);
    raw_->setPen(QPen(kRaw.darker(120), 1.0));
    raw_->setBrush(kRaw);
    message_ = setup_axes(this);
    yAxis->setLabel(tr("final probability"));
    clear(tr("No analysis yet."));
}

void CompareOverlayChart::clear(const QString& message) {
    raw_->data()->clear();
    for (QCPGraph* g : lines_) removeGraph(g);
    lines_.clear();
    // As in show(), the legend keeps the raw bars' key: QCustomPlot sizes the legend's column,
    // which the axes share, to an empty legend's few pixels.
    legend->clearItems();
    raw_->addToLegend();
    message_->setText(message);
    message_->setVisible(true);
    xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTickerText));
    xAxis->setRange(-0.5, 9.5);
    yAxis->setRange(0, 1);
    tips_.clear();
    ids_.clear();
    replot();
}

void CompareOverlayChart::setLogScale(bool on) {
    set_probability_scale(yAxis, on);
    fitValueAxis();
    replot();
}

void CompareOverlayChart::fitValueAxis() {
    fit_probability_range(yAxis, bottom_, top_);
}

void CompareOverlayChart::show(const std::vector<Series>& series, const Tokenizer& tok, int n) {
    if (series.empty() || series[0].distribution->ranked.empty()) {
        clear(tr("No distribution at this position."));
        return;
    }
    const Distribution& first = *series[0].distribution;
    n = std::clamp(n, 1, static_cast<int>(first.ranked.size()));
    for (QCPGraph* g : lines_) removeGraph(g);
    lines_.clear();
    legend->clearItems();
    xAxis->setTicker(token_ticker(this, first, tok, n, ids_, widest_label_));
    fit_tick_labels(this, ids_.size(), widest_label_);

    QVector<double> keys, raw;
    double top = 0, bottom = 1;
    for (int i = 0; i < n; i++) {
        keys << i;
        raw << first.p_raw[size_t(ids_[size_t(i)])];
        top = std::max(top, raw.back());
        if (raw.back() > 0) bottom = std::min(bottom, raw.back());
    }
    raw_->setData(keys, raw, true);
    raw_->addToLegend();
    tips_.assign(size_t(n), QString());
    for (int i = 0; i < n; i++)
        tips_[size_t(i)] = tr("rank %1<br>%2<br>raw p %3")
                               .arg(i + 1)
                               .arg(token_details(tok, ids_[size_t(i)]))
                               .arg(raw[i], 0, 'g', 4);
    for (const Series& s : series) {
        auto* g = addGraph();
        g->setName(s.name);
        g->setPen(QPen(s.color, 2.0));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, s.color, s.color, 6));
        QVector<double> v;
        for (int i = 0; i < n; i++) {
            const double p = s.distribution->p_final[size_t(ids_[size_t(i)])];
            // Removed tokens (p = 0) are drawn at 0 on a linear axis; a log axis cannot show 0,
            // so the line simply ends there.
            v << (p > 0 || yAxis->scaleType() == QCPAxis::stLinear ? p : qQNaN());
            top = std::max(top, p);
            if (p > 0) bottom = std::min(bottom, p);
            tips_[size_t(i)] += tr("<br><span style='color:%1'>■</span> %2: final p %3")
                                    .arg(s.color.name(), s.name.section(' ', 0, 0))
                                    .arg(p, 0, 'g', 4);
        }
        g->setData(keys, v, true);
        lines_.push_back(g);
    }
    message_->setVisible(false);
    xAxis->setRange(-0.6, n - 0.4);
    top_ = top;
    bottom_ = bottom;
    fitValueAxis();
    replot();
}

double CompareOverlayChart::value(int s, int rank) const {
    if (s < 0 || s >= seriesCount()) return qQNaN();
    auto it = lines_[size_t(s)]->data()->findBegin(rank, false);
    return it != lines_[size_t(s)]->data()->constEnd() && it->key == rank ? it->value : qQNaN();
}

int CompareOverlayChart::tokenAtRank(int rank) const {
    return rank >= 0 && rank < int(ids_.size()) ? ids_[size_t(rank)] : -1;
}

void CompareOverlayChart::mouseMoveEvent(QMouseEvent* event) {
    QCustomPlot::mouseMoveEvent(event);
    show_tip(this, event, tips_);
}

void CompareOverlayChart::resizeEvent(QResizeEvent* event) {
    QCustomPlot::resizeEvent(event);
    if (fit_tick_labels(this, ids_.size(), widest_label_)) replot(rpQueuedReplot);
}

// ---------------------------------------------------------------------------------------------
// Frequencies of one setting

FrequencyChart::FrequencyChart(QWidget* parent) : QCustomPlot(parent) {
    setObjectName("frequencyChart");
    setMinimumHeight(150);
    probability_ = new QCPBars(xAxis, yAxis);
    probability_->setWidth(0.7);
    frequency_ = addGraph();
    frequency_->setLineStyle(QCPGraph::lsNone);
    frequency_->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(0x20, 0x20, 0x20), 5));
    whiskers_ = new QCPErrorBars(xAxis, yAxis);
    whiskers_->setDataPlottable(frequency_);
    whiskers_->setPen(QPen(QColor(0x20, 0x20, 0x20), 1.2));
    whiskers_->setWhiskerWidth(5);
    message_ = setup_axes(this);
    yAxis->setNumberPrecision(2);
    clear(tr("No analysis yet."));
}

void FrequencyChart::clear(const QString& message) {
    probability_->data()->clear();
    frequency_->data()->clear();
    whiskers_->data()->clear();
    message_->setText(message);
    message_->setVisible(true);
    xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTickerText));
    xAxis->setRange(-0.5, 9.5);
    yAxis->setRange(0, 1);
    tips_.clear();
    ids_.clear();
    replot();
}

double FrequencyChart::topValue(const Distribution& d, const std::vector<int64_t>& counts,
                                int64_t samples, int n) {
    double top = 0;
    n = std::min(n, static_cast<int>(d.ranked.size()));
    for (int i = 0; i < n && samples > 0 && counts.size() == d.p_final.size(); i++) {
        const auto id = size_t(d.ranked[size_t(i)]);
        const double p = d.p_final[id], freq = double(counts[id]) / double(samples);
        top = std::max({top, p, freq + 3 * frequency_standard_error(p, samples)});
    }
    return top;
}

void FrequencyChart::show(const Distribution& d, const std::vector<int64_t>& counts,
                          int64_t samples, const Tokenizer& tok, int n, const QColor& color,
                          double shared_top) {
    if (d.ranked.empty() || counts.size() != d.p_final.size() || samples <= 0) {
        clear(tr("No distribution at this position."));
        return;
    }
    n = std::clamp(n, 1, static_cast<int>(d.ranked.size()));
    xAxis->setTicker(token_ticker(this, d, tok, n, ids_, widest_label_));
    fit_tick_labels(this, ids_.size(), widest_label_);
    probability_->setPen(QPen(color.darker(120), 1.0));
    probability_->setBrush(color.lighter(150));
    QVector<double> keys, p, freq, err;
    double top = 0;
    tips_.assign(size_t(n), QString());
    for (int i = 0; i < n; i++) {
        const auto id = size_t(ids_[size_t(i)]);
        keys << i;
        p << d.p_final[id];
        freq << double(counts[id]) / double(samples);
        err << 3 * frequency_standard_error(p.back(), samples);
        top = std::max({top, p.back(), freq.back() + err.back()});
        tips_[size_t(i)] = tr("rank %1<br>%2<br>final p %3<br>sampled %4 of %5 = %6 (±%7 at 3 SE)")
                               .arg(i + 1)
                               .arg(token_details(tok, int(id)))
                               .arg(p.back(), 0, 'g', 4)
                               .arg(counts[id])
                               .arg(samples)
                               .arg(freq.back(), 0, 'g', 4)
                               .arg(err.back(), 0, 'g', 2);
    }
    probability_->setData(keys, p, true);
    frequency_->setData(keys, freq, true);
    whiskers_->setData(err);
    message_->setVisible(false);
    xAxis->setRange(-0.6, n - 0.4);
    yAxis->setRange(0, std::max(0.01, (shared_top > 0 ? shared_top : top) * 1.08));
    replot();
}

double FrequencyChart::probabilityAt(int rank) const {
    auto it = probability_->data()->findBegin(rank, false);
    return it != probability_->data()->constEnd() && it->key == rank ? it->value : qQNaN();
}

double FrequencyChart::frequencyAt(int rank) const {
    auto it = frequency_->data()->findBegin(rank, false);
    return it != frequency_->data()->constEnd() && it->key == rank ? it->value : qQNaN();
}

int FrequencyChart::tokenAtRank(int rank) const {
    return rank >= 0 && rank < int(ids_.size()) ? ids_[size_t(rank)] : -1;
}

void FrequencyChart::mouseMoveEvent(QMouseEvent* event) {
    QCustomPlot::mouseMoveEvent(event);
    show_tip(this, event, tips_);
}

void FrequencyChart::resizeEvent(QResizeEvent* event) {
    QCustomPlot::resizeEvent(event);
    if (fit_tick_labels(this, ids_.size(), widest_label_)) replot(rpQueuedReplot);
}

}  // namespace ps
