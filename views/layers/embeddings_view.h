// Embeddings through the layers: the EmbeddingsChart (PCA trajectories, the residual heatmap
// at the selected layer, norms and cosines per layer, attention vs MLP contributions) with a
// header saying what is shown, following the session's selected token and layer.
#pragma once

#include <QWidget>

class QLabel;

namespace ps {

class EmbeddingsChart;
class Session;
struct LayerAnalysis;

class EmbeddingsView : public QWidget {
    Q_OBJECT
  public:
    explicit EmbeddingsView(Session* session, QWidget* parent = nullptr);

    EmbeddingsChart* chart() const { return chart_; }
    const LayerAnalysis* analysis() const;

    // One row per token and boundary: position, token, boundary, after, pc1, pc2, norm,
    // cosine with the previous boundary, the norms the layer ending there added (attention,
    // MLP), and the two components' explained variance. False without an analysis.
    bool exportCsv(const QString& path) const;

  private:
    void refresh();

    Session* session_;
    QLabel* title_;
    EmbeddingsChart* chart_;
};

}  // namespace ps
