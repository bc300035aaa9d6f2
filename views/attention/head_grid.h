// Every head of every layer in one grid, layers as rows (layer 0 at the top) and heads as
// columns, each cell square: either a thumbnail of the head's pattern or one per-head score as
// a colour with its value written in. Under grouped-query attention the columns are labelled
// with their key/value head and the groups are divided by lines. The selected head is framed;
// a click asks to select a head.
#pragma once

#include "views/widgets/custom_plot.h"

#include "core/analysis/attention_stats.h"
#include "core/model/forward.h"

namespace ps {

class GridTextLayer;

class HeadGrid : public QCustomPlot {
    Q_OBJECT
  public:
    explicit HeadGrid(QWidget* parent = nullptr);

    // Thumbnails of every head's pattern in `trace`. Patterns longer than kMaxThumbnail tokens
    // are shrunk by taking the maximum of each block, so a one-token-wide diagonal (a
    // previous-token head) stays visible.
    void showThumbnails(const Trace& trace, const Config& config, const QString& title);
    // One score per head, coloured on `range`; NaN (undefined) cells are grey with a dash.
    void showScores(const AttentionStats& stats, const Config& config, HeadMetric metric,
                    const QCPRange& range, const QString& title);
    void clear(const QString& message);
    // Rich-text tooltips, one per head, layer-major (the view knows the scores and kv heads).
    void setHeadTooltips(std::vector<QString> tips) { tips_ = std::move(tips); }
    void setSelectedHead(int layer, int head);

    int layers() const { return layers_; }
    int heads() const { return heads_; }
    // Side of one thumbnail in map cells (the pattern's T, or less when shrunk).
    int thumbnailSize() const { return thumb_; }
    // A thumbnail's value at (query row, key column) in its own cells; NaN outside.
    double thumbnailCell(int layer, int head, int row, int column) const;
    QPoint headCenter(int layer, int head) const;
    bool headAt(const QPointF& pixel, int* layer, int* head) const;
    QString headTooltip(int layer, int head) const;
    QString columnLabel(int head) const;

    static constexpr int kMaxThumbnail = 32;

  signals:
    void headClicked(int layer, int head);
    // A right-click on a head, at `global` screen coordinates.
    void headMenuRequested(int layer, int head, const QPoint& global);

  protected:
    void mouseMoveEvent(QMouseEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void contextMenuEvent(QContextMenuEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

  private:
    void setShape(int layers, int heads, const Config& config);
    void fitSquare();
    int mapRow(int layer, int row) const;
    void setRowLabels(int step);
    void setColumnLabels(int step);

    QCPTextElement* title_;
    QCPColorMap* map_;
    QCPColorScale* scale_;
    GridTextLayer* text_;
    QCPItemRect* selected_;
    QCPItemText* message_;
    std::vector<QCPItemStraightLine*> group_lines_;
    std::vector<QString> tips_;  // per head, layer-major
    int layers_ = 0;
    std::vector<bool> sliding_rows_;  // per layer: attends through a sliding window
    int label_step_ = 0;              // the row labels show every label_step_-th layer
    int column_step_ = 0;             // and the column labels every column_step_-th head
    int heads_ = 0;
    int group_ = 1;  // query heads per kv head
    int thumb_ = 0;  // thumbnail side in cells; 0 in score mode
    int pitch_ = 1;  // cells per head, thumbnail plus gap
};

}  // namespace ps
