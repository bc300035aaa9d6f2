// "What is a parameter?": the model's own parameters. The inventory (tree, totals per kind,
// the count formula) on the left; on the right the value histogram of the selected tensors
// with a pinned comparison, a step slider that scrubs every histogram from the random
// initialization to the trained values when the model has training snapshots (with the loss
// curve and the current step marked), and the token embeddings as parameters: the nearest
// tokens of a token by cosine similarity.
#pragma once

#include <QWidget>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/analysis/training_history.h"

class QCustomPlot;
class QLabel;
class QLineEdit;
class QMenu;
class QPushButton;
class QSlider;
class QTableWidget;
class QTabWidget;

namespace ps {

class Model;
class ParameterHistogram;
class ParameterInventory;
class Session;

class ParametersView : public QWidget {
    Q_OBJECT
  public:
    explicit ParametersView(Session* session, QWidget* parent = nullptr);

    ParameterInventory* inventory() const { return inventory_; }
    ParameterHistogram* histogram() const { return histogram_; }
    const TrainingHistory& history() const { return history_; }
    // Shows the parameters as they were at snapshot `index` of history() (-1: the loaded model).
    void showStep(int index);
    int shownStep() const;  // the training step shown, -1 for the loaded model
    // Pins the current selection (at the current step) as the comparison B / removes it.
    void pinComparison();
    void clearComparison();
    // Nearest tokens of the token that `text` encodes to (its first token) or of an id "#123".
    void showNearest(const QString& text);
    QTableWidget* nearestTable() const { return nearest_; }
    // The 2-D PCA map of token embeddings around the last token shown (tests): how many tokens.
    int mapPointCount() const { return map_points_; }
    // The edit entries for tensor `tensor` of the model (scale, zero, zero a row or column, set
    // a value, undo): what right-clicking it in the inventory shows. The caller owns the menu.
    QMenu* editMenu(int tensor);

  private:
    void onModelChanged();
    void updateSelection();
    void drawLossCurve();
    void exportDialog();
    void drawEmbeddingMap(int token, const std::vector<std::pair<int, float>>& nearest);
    using Snapshot = std::map<std::string, std::vector<float>>;
    std::shared_ptr<const Snapshot> snapshot(int index);

    Session* session_;
    std::shared_ptr<const Model> model_;
    TrainingHistory history_;
    std::map<int, std::shared_ptr<const Snapshot>> snapshots_;  // loaded on first use
    int step_index_ = -1;

    ParameterInventory* inventory_;
    ParameterHistogram* histogram_;
    QTabWidget* tabs_;
    QWidget* training_row_;
    QSlider* step_slider_;
    QLabel* step_label_;
    QCustomPlot* loss_plot_;
    QPushButton* pin_;
    QPushButton* unpin_;
    QLineEdit* token_edit_;
    QTableWidget* nearest_;
    QLabel* nearest_title_;
    QCustomPlot* map_;
    int map_points_ = 0;
};

}  // namespace ps
