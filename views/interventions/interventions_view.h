// The "Interventions" dock: the dials turned so far (on/off checkboxes, remove, clear), what
// they do to the selected position's next-token distribution (the plain run's probabilities
// as ghost bars behind the intervened ones, the KL divergence, a change of the top token),
// and the head-importance sweep: every head ablated in turn, as a layers x heads grid.
#pragma once

#include <QWidget>
#include <optional>

#include "core/analysis/intervention_effect.h"

class QLabel;
class QListWidget;
class QMenu;
class QProgressBar;
class QPushButton;
class QCustomPlot;
class QCPBars;

namespace ps {

class ImportanceChart;
class Session;

class InterventionsView : public QWidget {
    Q_OBJECT
  public:
    explicit InterventionsView(Session* session, QWidget* parent = nullptr);

    QListWidget* list() const { return list_; }
    QLabel* effectLabel() const { return effect_label_; }
    QCustomPlot* effectPlot() const { return effect_plot_; }
    ImportanceChart* importanceChart() const { return importance_; }
    QPushButton* sweepButton() const { return sweep_; }
    QPushButton* cancelButton() const { return cancel_; }
    QProgressBar* progress() const { return progress_; }
    // The effect on screen: null while no intervention is on or the analysis is running.
    const std::optional<InterventionEffect>& effect() const { return effect_; }
    // The ghost (before) and intervened (after) bars' heights, top tokens first.
    std::vector<double> barValues(bool after) const;

  private:
    void refreshList();
    void refreshEffect();
    void refreshImportance();
    QMenu* headMenu(int layer, int head);

    Session* session_;
    QListWidget* list_;
    QPushButton* remove_;
    QPushButton* clear_;
    QLabel* effect_label_;
    QCustomPlot* effect_plot_;
    QCPBars* before_bars_;
    QCPBars* after_bars_;
    QPushButton* sweep_;
    QPushButton* cancel_;
    QProgressBar* progress_;
    ImportanceChart* importance_;
    std::optional<InterventionEffect> effect_;
};

}  // namespace ps
