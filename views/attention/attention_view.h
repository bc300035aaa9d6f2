// The "Attention" dock: where each token looks. On the left the selected head's pattern, as a
// heatmap or as BertViz-like lines (one head, or every head of the layer); on the right every
// head of every layer as thumbnails and a per-head score (previous token, first token, self,
// entropy, induction) as a small heatmap, so previous-token and induction heads stand out.
// Layer and head pickers, the thumbnails and the score grid all drive the shared selection;
// the selected position is the highlighted query row. Under grouped-query attention it says
// which query heads share the selected head's key/value head.
#pragma once

#include <QWidget>

#include "core/analysis/attention_stats.h"

class QComboBox;
class QLabel;
class QMenu;
class QSpinBox;
class QTabWidget;

namespace ps {

class AttentionHeatmap;
class AttentionLines;
class HeadGrid;
class Session;

class AttentionView : public QWidget {
    Q_OBJECT
  public:
    explicit AttentionView(Session* session, QWidget* parent = nullptr);

    AttentionHeatmap* heatmap() const { return heatmap_; }
    AttentionLines* lines() const { return lines_; }
    HeadGrid* thumbnails() const { return thumbnails_; }
    HeadGrid* summary() const { return summary_; }
    QTabWidget* tabs() const { return tabs_; }
    QLabel* kvLabel() const { return kv_label_; }

    // The layer and head on screen (-1 without an analysis), and a cell of the heatmap.
    int shownLayer() const { return shown_layer_; }
    int shownHead() const { return shown_head_; }
    double cellValue(int query, int key) const;
    // The per-head scores of the trace on screen (0 layers without one).
    const AttentionStats& stats() const { return stats_; }
    HeadMetric headMetric() const;
    void setMetric(HeadMetric metric);
    // Lines for every head of the layer (true) or the selected head only.
    void setLinesAllHeads(bool all);

    // The right-click menu of a head: ablate, mean-ablate, scale, restore (the caller owns it).
    QMenu* headMenu(int layer, int head);

    // The shown head's pattern (or, with `all_heads`, every head of its layer):
    // layer,head,kv_head,query,query_token,key,key_token,weight; one row per visible cell
    // (key <= query), T(T+1)/2 per head. False without an analysis.
    bool exportPatternCsv(const QString& path, bool all_heads = false) const;
    // layer,head,kv_head and every score, one row per head; undefined scores are empty.
    bool exportSummaryCsv(const QString& path) const;

  private:
    // The session's trace when it has patterns and fits the model, else null.
    const Trace* trace() const;
    void refresh();
    void refreshSummary();
    void showHead();
    void followSelection();
    void followPosition();
    QStringList tokenLabels() const;
    QString headTooltip(int layer, int head) const;

    Session* session_;
    QLabel* title_;
    QSpinBox* layer_spin_;
    QSpinBox* head_spin_;
    QLabel* kv_label_;
    QTabWidget* tabs_;
    AttentionHeatmap* heatmap_;
    AttentionLines* lines_;
    QComboBox* lines_mode_;
    HeadGrid* thumbnails_;
    QComboBox* metric_;
    HeadGrid* summary_;
    AttentionStats stats_;
    QStringList labels_;
    int shown_layer_ = -1;
    int shown_head_ = -1;
    bool shown_all_heads_ = false;
};

}  // namespace ps
