// Which heads matter for this prediction: a layers x heads grid (layer 0 at the top) of the
// drop in the next token's probability when each head is ablated (core/analysis/importance.h),
// red where a head helps the prediction (silencing it costs probability), blue where it
// works against it, the value written in
// each cell. A click asks to select a head; a right-click offers its interventions.
#pragma once

#include "core/analysis/importance.h"
#include "views/widgets/custom_plot.h"

namespace ps {

class GridTextLayer;

class ImportanceChart : public QCustomPlot {
    Q_OBJECT
  public:
    explicit ImportanceChart(QWidget* parent = nullptr);

    void showImportance(const HeadImportance& importance, const QString& title);
    void clear(const QString& message);

    // The value drawn in a cell (NaN outside the grid or when empty), and where it is drawn.
    double cellValue(int layer, int head) const;
    QPoint headCenter(int layer, int head) const;
    bool headAt(const QPointF& pixel, int* layer, int* head) const;

  signals:
    void headClicked(int layer, int head);
    void headMenuRequested(int layer, int head, const QPoint& global);

  protected:
    void mousePressEvent(QMouseEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;

  private:
    QCPTextElement* title_;
    QCPColorMap* map_;
    QCPColorScale* scale_;
    GridTextLayer* text_;
    QCPItemText* message_;
    HeadImportance shown_;
};

}  // namespace ps
