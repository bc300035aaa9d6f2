// The next-token distribution as a QCustomPlot bar chart: for the top N tokens by raw
// probability, the raw probability (temperature 1, unfiltered; greyed and hatched when a filter
// removed the token) beside the final sampling probability, plus the cumulative probability
// the top-p filter sees and its threshold line.
#pragma once

#include "views/widgets/custom_plot.h"

#include <QString>
#include <vector>

#include "core/sampling/sampling.h"

namespace ps {

class Tokenizer;

class DistributionChart : public QCustomPlot {
    Q_OBJECT
  public:
    explicit DistributionChart(QWidget* parent = nullptr);

    // One bar pair per rank: d.ranked[0..n). `cumulative` is the cumulative probability the
    // top-p step sees at each of those ranks (empty: no curve); `top_p` draws the threshold.
    void show(const Distribution& d, const Tokenizer& tok, int n,
              const std::vector<double>& cumulative, double top_p);
    void clear(const QString& message);

    // Bars drawn for the final probability that are > 0, and the bar at a rank (tests).
    int nonzeroFinalBars() const;
    double finalBarValue(int rank) const;
    int tokenAtBar(int rank) const;
    QString tickLabel(int rank) const;
    // A logarithmic probability axis, so the tail is visible under a dominant token.
    void setLogScale(bool on);
    // Writes PNG, SVG or PDF by the file's suffix; false on failure.
    bool exportTo(const QString& path, int width = 0, int height = 0);

  protected:
    void mouseMoveEvent(QMouseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void fitLegend();

  private:
    QCPBars* addBars(const QString& name, const QColor& fill, const QBrush& brush);
    void fitValueAxis();
    void fitTickLabels();

    QCPBars* raw_kept_;
    QCPBars* raw_removed_[4];  // top-k, top-p, min-p, greedy
    QCPBars* final_;
    QCPGraph* cumulative_;
    QCPItemStraightLine* top_p_line_;
    QCPItemText* top_p_label_;
    QCPItemText* message_;
    QCPLegend* legend_;
    std::vector<QString> tips_;  // tooltip per bar index
    std::vector<int> ids_;       // token per bar index
    double top_ = 1;             // largest probability shown
    double bottom_ = 1;          // smallest non-zero probability shown
    int widest_label_ = 0;       // pixels
};

}  // namespace ps
