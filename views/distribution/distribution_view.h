// The next-token distribution at the selected position: the chart, the read-outs (entropy
// before and after, tokens kept, the probability of the token that actually comes next in the
// prompt), the sampling controls, and export of the chart (PNG/SVG/PDF) and the data (CSV).
#pragma once

#include <QWidget>

class QLabel;
class QSpinBox;

namespace ps {

class Session;
class DistributionChart;
class SamplingControls;

class DistributionView : public QWidget {
    Q_OBJECT
  public:
    explicit DistributionView(Session* session, QWidget* parent = nullptr);

    DistributionChart* chart() const { return chart_; }
    SamplingControls* controls() const { return controls_; }
    QLabel* readout() const { return readout_; }
    void setTopN(int n);

    // The whole vocabulary at the selected position, ranked: rank, id, token, piece, logit,
    // p_raw, p_final, removed_by. False (and nothing written) without an analysis.
    bool exportCsv(const QString& path) const;

  private:
    void refresh();
    void exportDialog();
    std::vector<double> cumulativeSeenByTopP(int n) const;

    Session* session_;
    QLabel* title_;
    QSpinBox* top_n_;
    DistributionChart* chart_;
    QLabel* readout_;
    SamplingControls* controls_;
};

}  // namespace ps
