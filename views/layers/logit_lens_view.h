// The logit lens: a grid of residual boundaries (input embedding, then after each layer) ×
// prompt positions; each cell shows the token the model would predict if it stopped there
// (final norm + unembedding of that residual), coloured by its probability. The top axis shows
// the prompt's actual next token; cells whose prediction is that token are bold and framed in
// green. Hover shows the top 5; clicking a cell selects its layer and position for every view.
// The last row is the model's real output.
#pragma once

#include <QWidget>

class QComboBox;
class QCPColorMap;
class QCPColorScale;
class QCPItemRect;
class QCustomPlot;
class QLabel;
class QMouseEvent;
class QScrollArea;

namespace ps {

class GridTextLayer;
class Session;
struct LayerAnalysis;

class LogitLensView : public QWidget {
    Q_OBJECT
  public:
    explicit LogitLensView(Session* session, QWidget* parent = nullptr);

    QCustomPlot* plot() const { return plot_; }
    // The analysis shown, or null (no model, no analysis, or one for other tokens).
    const LayerAnalysis* analysis() const;
    // Text drawn in a cell (row 0 = embeddings, row L = output), and a cell's centre in the
    // plot's pixels; for tests.
    QString cellText(int row, int position) const;
    QPoint cellCenter(int row, int position) const;
    // Whether the cell is marked as predicting the actual next token.
    bool cellMarked(int row, int position) const;
    // The tooltip text of a cell.
    QString cellTooltip(int row, int position) const;

    // Every cell: boundary, layer name, position, input token, top 5 (id, token, p), actual
    // next token (id, token, rank, p). False without an analysis.
    bool exportCsv(const QString& path) const;

  private:
    void refresh();
    void updateSelection();
    bool cellAt(const QPointF& pixel, int* row, int* position) const;
    void onMouseMove(QMouseEvent* event);
    void onMousePress(QMouseEvent* event);

    Session* session_;
    QLabel* title_;
    QComboBox* color_by_;
    QScrollArea* scroll_;
    QCustomPlot* plot_;
    QCPColorMap* map_;
    QCPColorScale* scale_;
    GridTextLayer* text_;
    QCPItemRect* selection_;
};

}  // namespace ps
