// One head's attention pattern as a heatmap: query tokens down the side (the first at the top),
// key tokens along the bottom, the weight as colour with a colour scale, the weight written in
// the cell when there is room. The future cells a query cannot see (causal mask) are hatched
// grey over the data, which stays the exact pattern (zeros there). Hover shows
// "query → key: weight"; the selected query row is framed; a click on a row asks to select it.
#pragma once

#include "views/widgets/custom_plot.h"

#include <QStringList>

#include "core/model/forward.h"

namespace ps {

class GridTextLayer;
class CausalMaskLayer;

class AttentionHeatmap : public QCustomPlot {
    Q_OBJECT
  public:
    explicit AttentionHeatmap(QWidget* parent = nullptr);

    // `pattern` [T, T] (row = query, column = key); `labels` the T tokens as displayed;
    // `window` > 0 for a sliding-window layer, whose keys `window` or more back are masked.
    void setPattern(const Eigen::Ref<const MatrixRM>& pattern, const QStringList& labels,
                    const QString& title, int window = 0);
    void clear(const QString& message);
    void setSelectedQuery(int query);

    int tokenCount() const { return static_cast<int>(labels_.size()); }
    int selectedQuery() const { return selected_query_; }
    // The weight the map holds for a cell (the pattern's value; 0 where masked).
    double cellValue(int query, int key) const;
    QPoint cellCenter(int query, int key) const;
    QString cellTooltip(int query, int key) const;
    QString keyLabel(int key) const;
    // Whether any query label had to be skipped for lack of room.
    bool labelsThinned() const { return label_step_ > 1; }

  signals:
    void queryClicked(int query);

  protected:
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

  private:
    bool cellAt(const QPointF& pixel, int* query, int* key) const;
    void fitLabels();
    void updateCellText();

    QCPTextElement* title_;
    QString title_text_;  // on one line
    QCPColorMap* map_;
    QCPColorScale* scale_;
    int window_ = 0;
    CausalMaskLayer* mask_;
    GridTextLayer* text_;
    QCPItemRect* selected_row_;
    QCPItemText* message_;
    QStringList labels_;
    int selected_query_ = -1;
    int label_step_ = 1;
    bool rotated_ = false;
};

}  // namespace ps
