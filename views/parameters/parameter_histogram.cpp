#include "views/parameters/parameter_histogram.h"

#include "views/widgets/custom_plot.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QSpinBox>
#include <QTextStream>
#include <QVBoxLayout>
#include <algorithm>

#include "views/widgets/plot_export.h"

namespace ps {

namespace {

const QColor kColors[2] = {QColor(50, 110, 200), QColor(230, 110, 30)};

QString number(double v) {
    return QString::number(v, 'g', 4);
}

QString grouped(int64_t n) {
    return QLocale(QLocale::English).toString(static_cast<qlonglong>(n));
}

// "NaN/Inf 0", or in bold red the count of NaN and infinite values: a corrupt or diverged
// checkpoint, whose values the other statistics leave out.
QString non_finite_text(const ValueStats& s) {
    const QString text = QObject::tr("NaN/Inf %1").arg(grouped(s.non_finite));
    if (s.non_finite == 0) return text;
    return QString("<span style='color:%1'><b>%2</b></span> %3")
        .arg(ParameterHistogram::nonFiniteColor().name(), text,
             QObject::tr("(left out of the statistics)"));
}

QString stats_line(const QString& name, const ValueStats& s, const QColor& color) {
    QString p;
    for (int i = 0; i < 7; ++i)
        p += QString(" p%1 %2").arg(kPercentiles[i]).arg(number(s.percentile[i]));
    return QString(
               "<span style='color:%1'>■</span> <b>%2</b>: %3 values · %4 · mean %5 · std %6 · "
               "min %7 · max %8 · |x| &lt; %9: %10% ·%11%12")
        .arg(color.name(), name.toHtmlEscaped(), grouped(s.count), non_finite_text(s),
             number(s.mean), number(s.std), number(s.min), number(s.max),
             number(s.near_zero_threshold), QString::number(s.near_zero * 100, 'f', 1), p,
             s.percentiles_exact ? QString() : QObject::tr(" (percentiles ± one 1/65536 bin)"));
}

}  // namespace

QColor ParameterHistogram::nonFiniteColor() {
    return QColor(210, 40, 30);
}

ParameterHistogram::ParameterHistogram(QWidget* parent) : QWidget(parent) {
    plot_ = new QCustomPlot(this);
    plot_->setObjectName("histogramPlot");
    plot_->setMinimumHeight(100);
    plot_->xAxis->setLabel(tr("parameter value"));
    plot_->yAxis->setLabel(tr("count"));
    plot_->legend->setVisible(true);
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    for (int i = 0; i < 2; ++i) {
        graphs_[i] = plot_->addGraph();
        graphs_[i]->setLineStyle(QCPGraph::lsStepCenter);
        QColor fill = kColors[i];
        fill.setAlpha(i == 0 ? 110 : 90);
        graphs_[i]->setBrush(fill);
        graphs_[i]->setPen(QPen(kColors[i], 1.2));
    }
    bins_ = new QSpinBox(this);
    bins_->setObjectName("bins");
    bins_->setRange(5, 1000);
    bins_->setValue(100);
    bins_->setSuffix(tr(" bins"));
    log_ = new QCheckBox(tr("log count"), this);
    log_->setObjectName("logCount");
    stats_ = new QLabel(this);
    stats_->setObjectName("stats");
    stats_->setWordWrap(true);
    stats_->setTextFormat(Qt::RichText);
    stats_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* controls = new QHBoxLayout;
    controls->addWidget(bins_);
    controls->addWidget(log_);
    controls->addStretch();
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(controls);
    layout->addWidget(plot_, 1);
    layout->addWidget(stats_);

    connect(bins_, &QSpinBox::valueChanged, this, &ParameterHistogram::recompute);
    connect(log_, &QCheckBox::toggled, this, &ParameterHistogram::draw);
}

void ParameterHistogram::setBins(int bins) {
    bins_->setValue(bins);
}

void ParameterHistogram::setLogScale(bool on) {
    log_->setChecked(on);
}

void ParameterHistogram::setSelection(int slot, std::optional<Selection> selection) {
    selections_[std::clamp(slot, 0, 1)] = std::move(selection);
    recompute();
}

void ParameterHistogram::recompute() {
    pending_ = true;
    const std::optional<Selection> a = selections_[0], b = selections_[1];
    const int bins = bins_->value();
    runner_.submit([this, a, b, bins](const std::atomic<bool>&) -> AnalysisRunner::Continuation {
        auto result = std::make_shared<Result>();
        const std::optional<Selection>* sel[2] = {&a, &b};
        double lo = 0, hi = 0;
        bool any = false;
        for (int i = 0; i < 2; ++i) {
            if (!*sel[i] || (*sel[i])->values.empty()) continue;
            result->stats[i] = value_stats((*sel[i])->values);
            if (result->stats[i].count == 0) continue;
            result->present[i] = true;
            lo = any ? std::min(lo, result->stats[i].min) : result->stats[i].min;
            hi = any ? std::max(hi, result->stats[i].max) : result->stats[i].max;
            any = true;
        }
        for (int i = 0; i < 2; ++i)
            if (result->present[i])
                result->histogram[i] = histogram((*sel[i])->values, bins, lo, hi);
        return [this, result] {
            result_ = result;
            pending_ = false;
            draw();
            emit computed();
        };
    });
}

void ParameterHistogram::draw() {
    QStringList lines;
    const bool log = log_->isChecked();
    double top = 1;
    for (int i = 0; i < 2; ++i) {
        graphs_[i]->data()->clear();
        const bool shown = result_ && result_->present[i] && selections_[i];
        graphs_[i]->setVisible(shown);
        if (!shown) {
            graphs_[i]->removeFromLegend();
            continue;
        }
        const Histogram& h = result_->histogram[i];
        QVector<double> x, y;
        for (int b = 0; b < static_cast<int>(h.counts.size()); ++b) {
            x << h.bin_center(b);
            // On a log axis an empty bin sits just under 1, at the axis floor.
            y << (log ? std::max(0.5, double(h.counts[b])) : double(h.counts[b]));
            top = std::max(top, double(h.counts[b]));
        }
        graphs_[i]->setData(x, y, true);
        graphs_[i]->setName(selections_[i]->name);
        graphs_[i]->addToLegend();
        lines << stats_line(selections_[i]->name, result_->stats[i], kColors[i]);
    }
    plot_->legend->setVisible(lines.size() > 0);
    if (log) {
        plot_->yAxis->setScaleType(QCPAxis::stLogarithmic);
        plot_->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
        plot_->yAxis->setRange(0.5, top * 2);
    } else {
        plot_->yAxis->setScaleType(QCPAxis::stLinear);
        plot_->yAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
        plot_->yAxis->setRange(0, top * 1.08);
    }
    if (result_ && (result_->present[0] || result_->present[1])) {
        const Histogram& h = result_->histogram[result_->present[0] ? 0 : 1];
        const double pad = (h.hi - h.lo) * 0.02;
        plot_->xAxis->setRange(h.lo - pad, h.hi + pad);
    }
    stats_->setText(lines.isEmpty() ? tr("Select tensors in the inventory.") : lines.join("<br>"));
    plot_->replot();
}

bool ParameterHistogram::exportCsv(const QString& path) const {
    if (!result_) return false;
    const Result& r = *result_;
    const int shown = r.present[0] ? 0 : 1;
    if (!r.present[shown]) return false;
    return export_csv(path, [&](QTextStream& out) {
        out << "bin_lo,bin_hi";
        for (int i = 0; i < 2; ++i)
            if (r.present[i]) out << ',' << csv_field("count " + selections_[i]->name);
        out << '\n';
        const Histogram& h = r.histogram[shown];
        for (int b = 0; b < static_cast<int>(h.counts.size()); ++b) {
            out << QString::number(h.lo + b * h.bin_width(), 'g', 9) << ','
                << QString::number(h.lo + (b + 1) * h.bin_width(), 'g', 9);
            for (int i = 0; i < 2; ++i)
                if (r.present[i]) out << ',' << r.histogram[i].counts[static_cast<size_t>(b)];
            out << '\n';
        }
        for (int i = 0; i < 2; ++i) {
            if (!r.present[i]) continue;
            const ValueStats& s = r.stats[i];
            out << "# " << selections_[i]->name << ": count " << s.count << ", mean "
                << QString::number(s.mean, 'g', 9) << ", std " << QString::number(s.std, 'g', 9)
                << ", min " << s.min << ", max " << s.max << ", NaN/Inf " << s.non_finite << '\n';
        }
    });
}

}  // namespace ps
