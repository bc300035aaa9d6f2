// The residual stream through the layers, as one QCustomPlot figure (so it exports whole):
// - trajectories: every token's residual at the L+1 boundaries projected on the first two
//   principal components, drawn as a path from its input embedding (square) to the output
//   (disc); hover names the token and layer, clicking selects both;
// - the residual stream after the selected layer as a heatmap of tokens × dimensions;
// - each token's residual norm per boundary and the cosine between consecutive boundaries;
// - per layer, the mean norm of what attention and the MLP add (hook_attn_out, hook_mlp_out)
//   with the selected token's values as markers.
// The selected token is drawn bold everywhere.
#pragma once

#include "views/widgets/custom_plot.h"

#include <QString>
#include <vector>

namespace ps {

struct LayerAnalysis;
class Tokenizer;
struct Trace;

class EmbeddingsChart : public QCustomPlot {
    Q_OBJECT
  public:
    explicit EmbeddingsChart(QWidget* parent = nullptr);

    // Draws everything; `position` and `layer` are the selection.
    void show(const LayerAnalysis& a, const Trace& trace, const Tokenizer& tok, int position,
              int layer);
    void clear(const QString& message);

    // What is drawn, for tests: the trajectory of `token` (one point per boundary), the
    // heatmap's size (positions × dimensions) and the pixel where a trajectory point is.
    std::vector<QPointF> trajectory(int token) const;
    QSize heatmapCells() const;
    QPoint trajectoryPixel(int token, int boundary) const;
    // Boundary and token nearest to `pixel` within a few pixels, or false.
    bool pointAt(const QPointF& pixel, int* token, int* boundary) const;

  signals:
    void pointClicked(int token, int boundary);
    void rowClicked(int token);

  protected:
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;

  private:
    QCPAxisRect* addRect(QCPLayoutGrid* grid, int row, int column, const QString& x_label,
                         const QString& y_label);
    void drawTrajectories(const LayerAnalysis& a, int position, int layer);
    void drawHeatmap(const Trace& trace, int position, int layer);
    void drawLines(const LayerAnalysis& a, int position, int layer);
    void drawContributions(const LayerAnalysis& a, int position);
    void removeDrawn();

    QCPAxisRect* traj_;
    QCPAxisRect* heat_;
    QCPAxisRect* norms_;
    QCPAxisRect* cosine_;
    QCPAxisRect* contrib_;
    QCPColorMap* heat_map_;
    QCPColorScale* heat_scale_;
    QCPItemText* message_;
    QCPLegend* contrib_legend_;
    QCPBarsGroup* contrib_group_;
    std::vector<QCPCurve*> curves_;    // one per token
    std::vector<QString> token_text_;  // display text per token
    int boundaries_ = 0;
    int heat_rows_ = 0;
    int heat_dims_ = 0;
    int layers_ = 0;
};

// The colour of token `i` of `n`, the same in every panel.
QColor token_color(int i, int n);

}  // namespace ps
