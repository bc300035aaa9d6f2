// The value distribution of one or two selections of parameters (A, and B to compare):
// histograms over a shared range with adjustable bins and a linear or log count axis, and the
// statistics of each (count, NaN/Inf count, in red when nonzero, mean, std, min, max, fraction
// near zero, percentiles). Computed on a worker thread (a 124M-parameter model has 85M
// weights); the latest request wins.
#pragma once

#include <QColor>
#include <QString>
#include <QWidget>
#include <memory>
#include <optional>

#include "app/session/analysis_runner.h"
#include "core/analysis/param_stats.h"

class QCheckBox;
class QCustomPlot;
class QCPGraph;
class QLabel;
class QSpinBox;

namespace ps {

class ParameterHistogram : public QWidget {
    Q_OBJECT
  public:
    explicit ParameterHistogram(QWidget* parent = nullptr);

    // The colour of a nonzero NaN/Inf count in the statistics.
    static QColor nonFiniteColor();

    // A selection: its name, its values, and whatever owns the memory they point into.
    struct Selection {
        QString name;
        ValueSpans values;
        std::shared_ptr<const void> owner;
    };
    // Slot 0 is the selection (A), slot 1 the comparison (B, empty: none).
    void setSelection(int slot, std::optional<Selection> selection);
    bool hasComparison() const { return selections_[1].has_value(); }
    const std::optional<Selection>& selection(int slot) const { return selections_[slot]; }

    // The latest finished computation (null before one finishes or while inputs are pending).
    struct Result {
        ValueStats stats[2];
        Histogram histogram[2];
        bool present[2] = {false, false};
    };
    const Result* result() const { return pending_ ? nullptr : result_.get(); }
    bool busy() const { return pending_; }
    QCustomPlot* plot() const { return plot_; }
    void setBins(int bins);
    void setLogScale(bool on);
    // bin_lo,bin_hi,count_a[,count_b] rows, then the statistics as comment lines.
    bool exportCsv(const QString& path) const;

  signals:
    void computed();

  private:
    void recompute();
    void draw();

    std::optional<Selection> selections_[2];
    std::shared_ptr<const Result> result_;
    bool pending_ = false;
    AnalysisRunner runner_;
    QCustomPlot* plot_;
    QCPGraph* graphs_[2];
    QSpinBox* bins_;
    QCheckBox* log_;
    QLabel* stats_;
};

}  // namespace ps
