#include "views/distribution/distribution_chart.h"

#include "views/widgets/plot_export.h"

#include <QFileInfo>
#include <QSvgGenerator>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "core/tokenizer/tokenizer.h"
#include "views/widgets/probability_axis.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

const QColor kRaw(0x6b, 0xa3, 0xd6);
const QColor kFinal(0xe8, 0x6a, 0x2c);
const QColor kRemoved(0x9a, 0x9a, 0x9a);
const QColor kCumulative(0x2e, 0x8b, 0x57);

QString elide(const QString& s, int max_chars) {
    return s.size() <= max_chars ? s : s.left(max_chars - 1) + QChar(0x2026);
}

}  // namespace

DistributionChart::DistributionChart(QWidget* parent) : QCustomPlot(parent) {
    setObjectName("distributionChart");
    setMinimumHeight(180);
    setAntialiasedElements(QCP::aeAll);
    setNoAntialiasingOnDrag(true);

    // Legend in its own row above the axes, so it never hides bars.
    legend->setVisible(true);
    axisRect()->insetLayout()->take(legend);
    plotLayout()->insertRow(0);
    plotLayout()->addElement(0, 0, legend);
    plotLayout()->setRowStretchFactor(0, 0.001);
    legend->setFillOrder(QCPLayoutGrid::foColumnsFirst);
    legend->setBorderPen(Qt::NoPen);
    legend->setBrush(Qt::NoBrush);
    legend->setMargins(QMargins(4, 2, 4, 2));
    legend_ = legend;
    connect(this, &QCustomPlot::beforeReplot, this, [this] {
        fitLegend();
        fitTickLabels();  // the theme may have changed the fonts
    });

    raw_kept_ = addBars(tr("raw p (T = 1, no filter)"), kRaw, kRaw.lighter(115));
    raw_removed_[0] = addBars(tr("removed by top-k"), kRemoved, QBrush(kRemoved, Qt::BDiagPattern));
    raw_removed_[1] = addBars(tr("removed by top-p"), kRemoved, QBrush(kRemoved, Qt::FDiagPattern));
    raw_removed_[2] =
        addBars(tr("removed by min-p"), kRemoved, QBrush(kRemoved, Qt::DiagCrossPattern));
    raw_removed_[3] =
        addBars(tr("not the top token (T = 0)"), kRemoved, QBrush(kRemoved, Qt::Dense6Pattern));
    final_ = addBars(tr("final p (sampled from)"), kFinal, kFinal);

    cumulative_ = addGraph(xAxis, yAxis2);
    cumulative_->setName(tr("cumulative p seen by top-p"));
    cumulative_->setPen(QPen(kCumulative, 1.6));
    cumulative_->setScatterStyle(
        QCPScatterStyle(QCPScatterStyle::ssCircle, kCumulative, Qt::white, 4));

    top_p_line_ = new QCPItemStraightLine(this);
    top_p_line_->setPen(QPen(kCumulative, 1.2, Qt::DashLine));
    for (auto* p : {top_p_line_->point1, top_p_line_->point2}) p->setAxes(xAxis, yAxis2);
    top_p_label_ = new QCPItemText(this);
    top_p_label_->position->setAxes(xAxis, yAxis2);
    top_p_label_->setPositionAlignment(Qt::AlignRight | Qt::AlignBottom);
    top_p_label_->setColor(kCumulative.darker(120));

    message_ = new QCPItemText(this);
    message_->position->setType(QCPItemPosition::ptAxisRectRatio);
    message_->position->setCoords(0.5, 0.45);
    message_->setColor(QColor(0x70, 0x70, 0x70));

    yAxis->setLabel(tr("probability"));
    yAxis->setRange(0, 1);
    yAxis2->setVisible(true);
    yAxis2->setLabel(tr("cumulative"));
    yAxis2->setRange(0, 1.05);
    yAxis2->setLabelColor(kCumulative.darker(120));
    yAxis2->setTickLabelColor(kCumulative.darker(120));
    xAxis->setTickLabelRotation(55);
    xAxis->grid()->setVisible(false);
    xAxis->setTickLength(0, 3);
    xAxis->setSubTicks(false);
    QFont mono = font();
    mono.setFamily("DejaVu Sans Mono");
    mono.setStyleHint(QFont::Monospace);
    xAxis->setTickLabelFont(mono);
    clear(tr("No analysis yet."));
}

QCPBars* DistributionChart::addBars(const QString& name, const QColor& fill, const QBrush& brush) {
    auto* bars = new QCPBars(xAxis, yAxis);
    bars->setName(name);
    bars->setWidth(0.4);
    bars->setPen(QPen(fill.darker(125), 1.0));
    bars->setBrush(brush);
    return bars;
}

void DistributionChart::clear(const QString& message) {
    for (QCPBars* b :
         {raw_kept_, raw_removed_[0], raw_removed_[1], raw_removed_[2], raw_removed_[3], final_})
        b->data()->clear();
    cumulative_->data()->clear();
    // As in show(), the legend keeps the final bars' key: QCustomPlot sizes the legend's column,
    // which the axes share, to an empty legend's few pixels.
    legend->clearItems();
    final_->addToLegend();
    top_p_line_->setVisible(false);
    top_p_label_->setVisible(false);
    message_->setText(message);
    message_->setVisible(true);
    xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTickerText));
    xAxis->setRange(-0.5, 9.5);
    tips_.clear();
    ids_.clear();
    replot();
}

void DistributionChart::setLogScale(bool on) {
    set_probability_scale(yAxis, on);
    fitValueAxis();
    replot();
}

void DistributionChart::fitValueAxis() {
    fit_probability_range(yAxis, bottom_, top_);
}

void DistributionChart::show(const Distribution& d, const Tokenizer& tok, int n,
                             const std::vector<double>& cumulative, double top_p) {
    if (d.ranked.empty()) {
        clear(tr("No distribution at this position."));
        return;
    }
    n = std::clamp(n, 1, static_cast<int>(d.ranked.size()));
    QVector<double> raw_k, raw_v, rem_k[4], rem_v[4], fin_k, fin_v, cum_k, cum_v;
    auto ticker = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    tips_.assign(static_cast<size_t>(n), QString());
    ids_.assign(d.ranked.begin(), d.ranked.begin() + n);
    double top = 0, bottom = 1;
    int widest = 0;
    const QFontMetrics fm(xAxis->tickLabelFont());
    for (int i = 0; i < n; i++) {
        const int id = d.ranked[static_cast<size_t>(i)];
        const double raw = d.p_raw[id], fin = d.p_final[id];
        const RemovedBy why = d.removed_by[id];
        top = std::max({top, raw, fin});
        if (raw > 0) bottom = std::min(bottom, raw);
        if (fin > 0) bottom = std::min(bottom, fin);
        if (why == RemovedBy::None) {
            raw_k << i - 0.21;
            raw_v << raw;
        } else {
            const int r = static_cast<int>(why) - 1;
            rem_k[r] << i - 0.21;
            rem_v[r] << raw;
        }
        if (fin > 0) {
            fin_k << i + 0.21;
            fin_v << fin;
        }
        if (i < static_cast<int>(cumulative.size())) {
            cum_k << i;
            cum_v << cumulative[static_cast<size_t>(i)];
        }
        const QString label = elide(token_display(tok, id), 14);
        widest = std::max(widest, fm.horizontalAdvance(label));
        ticker->addTick(i, label);
        const char* reason = removed_by_name(why);
        tips_[static_cast<size_t>(i)] =
            tr("rank %1<br>%2<br>raw p %3<br>final p %4%5")
                .arg(i + 1)
                .arg(token_details(tok, id))
                .arg(raw, 0, 'g', 4)
                .arg(fin, 0, 'g', 4)
                .arg(why == RemovedBy::Greedy
                         ? tr("<br><i>temperature 0 keeps only the top token</i>")
                     : reason ? tr("<br><i>removed by %1</i>").arg(reason)
                              : QString());
    }
    // The legend lists what is drawn, always in the same order.
    legend->clearItems();
    auto set = [](QCPBars* b, const QVector<double>& k, const QVector<double>& v) {
        b->setData(k, v, true);
        if (!k.isEmpty()) b->addToLegend();
    };
    set(raw_kept_, raw_k, raw_v);
    for (int r = 0; r < 4; r++) set(raw_removed_[r], rem_k[r], rem_v[r]);
    set(final_, fin_k, fin_v);
    final_->addToLegend();
    cumulative_->setData(cum_k, cum_v, true);
    // The cumulative curve is what top-p cuts: drawn while top-p is on.
    const bool show_p = !cum_k.isEmpty() && top_p < 1.0;
    cumulative_->setVisible(show_p);
    if (show_p) cumulative_->addToLegend();

    top_p_line_->setVisible(show_p);
    top_p_label_->setVisible(show_p);
    top_p_line_->point1->setCoords(-0.5, top_p);
    top_p_line_->point2->setCoords(n - 0.5, top_p);
    top_p_label_->position->setCoords(n - 0.55, top_p);
    top_p_label_->setText(tr("top-p %1").arg(top_p, 0, 'f', 2));

    message_->setVisible(false);
    xAxis->setTicker(ticker);
    xAxis->setRange(-0.6, n - 0.4);
    widest_label_ = widest;
    fitTickLabels();
    top_ = top;
    bottom_ = bottom;
    fitValueAxis();
    replot();
}

// Labels stay horizontal while they fit beside each other, else they are slanted, and upright
// when even slanted lines of text would overlap (large text, many bars).
void DistributionChart::fitTickLabels() {
    if (ids_.empty()) return;
    // Before the first layout the axis rect has no size yet: estimate it from the widget.
    const int axis_width = std::max(axisRect()->width(), width() - 120);
    const double slot = axis_width / (static_cast<double>(ids_.size()) + 0.2);
    const double line = QFontMetrics(xAxis->tickLabelFont()).height() + 1;
    const double slanted = line / std::sin(50 * M_PI / 180);
    xAxis->setTickLabelRotation(widest_label_ + 8 < slot ? 0 : slanted < slot ? 50 : 90);
}

void DistributionChart::fitLegend() {
    // One row while the entries fit across the plot, else two (large text, a narrow window).
    const QFontMetrics fm(legend->font());
    int needed = 0;
    for (int i = 0; i < legend->itemCount(); ++i)
        if (auto* item = qobject_cast<QCPPlottableLegendItem*>(legend->item(i)))
            needed += legend->iconSize().width() + legend->iconTextPadding() +
                      fm.horizontalAdvance(item->plottable()->name()) + legend->columnSpacing();
    const int wrap = needed > width() - 16 ? (legend->itemCount() + 1) / 2 : 0;
    if (legend->wrap() == wrap) return;
    legend->setWrap(wrap);
    legend->setFillOrder(legend->fillOrder(), true);  // the entries there are, rearranged
}

void DistributionChart::resizeEvent(QResizeEvent* event) {
    QCustomPlot::resizeEvent(event);
    const double before = xAxis->tickLabelRotation();
    fitTickLabels();
    if (xAxis->tickLabelRotation() != before) replot(rpQueuedReplot);
}

double DistributionChart::finalBarValue(int rank) const {
    for (auto it = final_->data()->constBegin(); it != final_->data()->constEnd(); ++it)
        if (std::lround(it->key - 0.21) == rank) return it->value;
    return 0;
}

int DistributionChart::tokenAtBar(int rank) const {
    return rank >= 0 && rank < static_cast<int>(ids_.size()) ? ids_[static_cast<size_t>(rank)] : -1;
}

QString DistributionChart::tickLabel(int rank) const {
    auto ticker = xAxis->ticker().dynamicCast<QCPAxisTickerText>();
    return ticker ? ticker->ticks().value(rank) : QString();
}

int DistributionChart::nonzeroFinalBars() const {
    int count = 0;
    for (auto it = final_->data()->constBegin(); it != final_->data()->constEnd(); ++it)
        count += it->value > 0;
    return count;
}

void DistributionChart::mouseMoveEvent(QMouseEvent* event) {
    QCustomPlot::mouseMoveEvent(event);
    const QPointF pos = event->position();
    const int i = static_cast<int>(std::lround(xAxis->pixelToCoord(pos.x())));
    if (axisRect()->rect().contains(pos.toPoint()) && i >= 0 && i < static_cast<int>(tips_.size()))
        QToolTip::showText(event->globalPosition().toPoint(), tips_[static_cast<size_t>(i)], this);
    else
        QToolTip::hideText();
}

bool DistributionChart::exportTo(const QString& path, int width, int height) {
    return export_plot(this, path, width, height);
}

}  // namespace ps
