// MLP neurons: for the selected token and layer, the neurons with the largest activations
// (blocks.L.mlp.hook_post) as a bar chart; clicking a bar selects that neuron. Under it, the
// selected neuron's activation at every prompt position, as a strip of token chips coloured
// blue (negative) to red (positive) with the value under each token.
#pragma once

#include <QWidget>
#include <vector>

#include "core/analysis/layer_analysis.h"

class QCheckBox;
class QCPAxisRect;
class QCPBars;
class QCPColorMap;
class QCPColorScale;
class QCustomPlot;
class QLabel;
class QMenu;
class QMouseEvent;
class QSpinBox;

namespace ps {

class GridTextLayer;
class Session;

class NeuronsView : public QWidget {
    Q_OBJECT
  public:
    explicit NeuronsView(Session* session, QWidget* parent = nullptr);

    QCustomPlot* plot() const { return plot_; }
    // The bars shown, largest first, and where bar `rank` is drawn (plot pixels); for tests.
    const std::vector<NeuronActivation>& bars() const { return bars_; }
    QPoint barCenter(int rank) const;
    // The selected neuron's activation at every position, as the strip shows it.
    const std::vector<float>& strip() const { return strip_; }
    QPoint stripCenter(int position) const;
    void setTopK(int k);
    // The right-click menu of a neuron of the selected layer (the caller owns it).
    QMenu* neuronMenu(int neuron);
    void setByMagnitude(bool on);

    // The top-k table at the selected position (kind "top") and the selected neuron at every
    // position (kind "strip"): kind, layer, position, token, neuron, rank, activation.
    bool exportCsv(const QString& path) const;

  private:
    void refresh();
    int barAt(const QPointF& pixel) const;
    int stripAt(const QPointF& pixel) const;
    void onMouseMove(QMouseEvent* event);
    void onMousePress(QMouseEvent* event);
    bool ready() const;

    Session* session_;
    QLabel* title_;
    QSpinBox* top_k_;
    QCheckBox* magnitude_;
    QCustomPlot* plot_;
    QCPAxisRect* bars_rect_;
    QCPAxisRect* strip_rect_;
    QCPBars* bar_plot_;
    QCPBars* selected_bar_;
    QCPColorMap* strip_map_;
    QCPColorScale* strip_scale_;
    GridTextLayer* strip_text_;
    std::vector<NeuronActivation> bars_;
    std::vector<float> strip_;
};

}  // namespace ps
