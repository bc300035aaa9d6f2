// Attention as lines, the way BertViz draws it: the prompt's tokens in two columns, queries on
// the left and keys on the right, a line from query i to key j for every weight, its opacity and
// width growing with the weight. One head in one colour, or all heads of a layer each in its own
// colour (with a legend). The selected query's lines are drawn on top, the others faded.
// Weights under kMinWeight (kMinFadedWeight for the faded lines) are not drawn, and above
// kMaxAllQueries tokens only the selected query's lines are, so a long prompt stays readable and
// cheap to paint.
#pragma once

#include "views/widgets/custom_plot.h"

#include <QColor>
#include <QStringList>
#include <vector>

#include "core/model/forward.h"

namespace ps {

class AttentionLinesLayer;

struct AttentionLine {
    int query = 0;
    int key = 0;
    float weight = 0;
    int head = 0;  // index into the colours
};

class AttentionLines : public QCustomPlot {
    Q_OBJECT
  public:
    explicit AttentionLines(QWidget* parent = nullptr);

    // The patterns of `heads` (one, or all of the layer) of `layer`; `labels` the T tokens.
    void setPatterns(const LayerTrace& layer, const std::vector<int>& heads,
                     const QStringList& labels, const QString& title);
    void clear(const QString& message);
    void setSelectedQuery(int query);

    // The lines drawn, in drawing order (weakest first, the selected query's last).
    const std::vector<AttentionLine>& lines() const { return lines_; }
    int tokenCount() const { return static_cast<int>(labels_.size()); }
    int selectedQuery() const { return selected_; }
    static QColor headColor(int index);
    // The pixel row of token t (its vertical centre), and which token a pixel is on.
    QPoint queryCenter(int t) const;
    int queryAt(const QPointF& pixel) const;

    static constexpr float kMinWeight = 0.01f;       // the selected query's lines
    static constexpr float kMinFadedWeight = 0.05f;  // every other query's
    static constexpr int kMaxAllQueries = 160;
    static constexpr int kRowPixels = 18;  // minimum height of one token row

  signals:
    void queryClicked(int query);

  protected:
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;

  private:
    void rebuildLines();
    void fitMargins();
    friend class AttentionLinesLayer;

    QCPTextElement* title_;
    AttentionLinesLayer* layer_;
    QCPItemText* message_;
    std::vector<MatrixRM> patterns_;
    std::vector<int> heads_;
    QStringList labels_;
    std::vector<AttentionLine> lines_;
    int selected_ = -1;
};

}  // namespace ps
