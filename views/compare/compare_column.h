// One column of the comparison view: a letter (A, B, ...) in its color, its own sampling
// settings (temperature, top-k, top-p, min-p, order), the tokens it keeps and its entropy, its
// final probabilities beside the frequencies of N simulated draws, and its continuation.
#pragma once

#include <QWidget>
#include <vector>

#include "core/sampling/sampling.h"

class QComboBox;
class QLabel;
class QToolButton;

namespace ps {

class ContinuationText;
class FrequencyChart;
class SliderSpin;
class Tokenizer;

class CompareColumn : public QWidget {
    Q_OBJECT
  public:
    CompareColumn(int index, const SamplingSettings& settings, QWidget* parent = nullptr);

    int index() const { return index_; }
    void setIndex(int index);  // re-letters and re-colors the column
    SamplingSettings settings() const;
    void setSettings(const SamplingSettings& s);  // one settingsChanged at most
    void setRemovable(bool removable);
    void setVocabularySize(int n);

    // Shows d (the column's settings applied at the selected position) and `counts` of
    // `samples` simulated draws from it, over the first top_n ranked tokens, with the value
    // axis up to `top` (0: fit).
    void showDistribution(const Distribution& d, const std::vector<int64_t>& counts,
                          int64_t samples, const Tokenizer& tok, int top_n, double top = 0);
    void clear(const QString& message);

    // What the column last showed.
    double entropyBits() const { return entropy_bits_; }
    int kept() const { return kept_; }
    // The largest |frequency - p| over the shown tokens, in standard errors of p.
    double largestDeviationSe() const { return largest_deviation_se_; }

    SliderSpin* temperature() const { return temperature_; }
    SliderSpin* topK() const { return top_k_; }
    SliderSpin* topP() const { return top_p_; }
    SliderSpin* minP() const { return min_p_; }
    QComboBox* order() const { return order_; }
    QToolButton* removeButton() const { return remove_; }
    QLabel* readout() const { return readout_; }
    FrequencyChart* chart() const { return chart_; }
    ContinuationText* continuation() const { return continuation_; }

  signals:
    void settingsChanged();
    void removeRequested();

  private:
    void updateTitle();

    int index_;
    QLabel* title_;
    QToolButton* remove_;
    SliderSpin* temperature_;
    SliderSpin* top_k_;
    SliderSpin* top_p_;
    SliderSpin* min_p_;
    QComboBox* order_;
    QLabel* readout_;
    FrequencyChart* chart_;
    ContinuationText* continuation_;
    double entropy_bits_ = 0;
    int kept_ = 0;
    double largest_deviation_se_ = 0;
    bool applying_ = false;  // setSettings in progress: one settingsChanged at the end
};

}  // namespace ps
