// The parameter inventory: every tensor of the model in a tree grouped by layer and component
// (embeddings, attention, MLP, norms, unembedding) with shape, dtype, count, bytes and kind;
// totals per kind as a bar chart with percentages; and the formula that gives the total from
// the configuration, checked against the real count. Selecting rows (or a whole group, or a
// quick selection like "all biases of layer 3") chooses the tensors the histogram shows.
#pragma once

#include <QMap>
#include <QWidget>
#include <memory>
#include <vector>

class QComboBox;
class QCustomPlot;
class QLabel;
class QTreeWidget;
class QTreeWidgetItem;

namespace ps {

class Model;

class ParameterInventory : public QWidget {
    Q_OBJECT
  public:
    explicit ParameterInventory(QWidget* parent = nullptr);

    void setModel(std::shared_ptr<const Model> model);
    // Indices into model.tensors of the selected tensors (a group row selects its tensors).
    std::vector<int> selectedTensors() const;
    QString selectionName() const;
    // The tensor a tree row shows (an index into model.tensors), -1 for a group row or null.
    static int tensorAt(const QTreeWidgetItem* item);
    // Selects every tensor of `kind` ("all", "embedding", "weight", "bias", "norm") in `layer`
    // (-1: every layer and the tensors outside the blocks).
    void selectKind(const QString& kind, int layer);
    void selectTensors(const std::vector<int>& indices);
    // The totals the view shows, per kind name, and the formula line (tests).
    int64_t shownTotal(const QString& kind) const;
    QString formulaText() const;
    QTreeWidget* tree() const { return tree_; }
    QCustomPlot* totalsChart() const { return totals_; }

  signals:
    void selectionChanged();

  private:
    void rebuild();
    void showTotals();
    void applyQuickSelection();

    std::shared_ptr<const Model> model_;
    QTreeWidget* tree_;
    QComboBox* kind_;
    QComboBox* layer_;
    QCustomPlot* totals_;
    QLabel* formula_;
    QMap<QString, int64_t> shown_totals_;
    QString last_quick_;  // the quick selection's name while it is the selection
    bool quiet_ = false;  // suppress selectionChanged while selecting programmatically
};

}  // namespace ps
