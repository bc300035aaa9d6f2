// The comparison view's charts (QCustomPlot), both over the same tokens: the top N of the
// model's ranking at the selected position, which every setting shares (temperature and the
// filters never reorder tokens, they only reshape and cut the ranking).
// - CompareOverlayChart: the raw probability as grey bars, each setting's final probability as
//   a line of its color on top, so the settings are seen against each other.
// - FrequencyChart: one setting's final probability as bars, and the empirical frequency of N
//   simulated draws as dots with ±3 standard error whiskers (a whisker crossing the bar's top
//   means the draws agree with the probability).
#pragma once

#include "views/widgets/custom_plot.h"

#include <QColor>
#include <QString>
#include <vector>

#include "core/sampling/sampling.h"

namespace ps {

class Tokenizer;

// The color of comparison column `index` (A, B, C, D...).
QColor compare_color(int index);
// "A", "B", ...
QString compare_letter(int index);

class CompareOverlayChart : public QCustomPlot {
    Q_OBJECT
  public:
    struct Series {
        QString name;  // legend text
        QColor color;
        const Distribution* distribution;
    };

    explicit CompareOverlayChart(QWidget* parent = nullptr);

    // The first n tokens of series[0]'s ranking; every series must share its logits.
    void show(const std::vector<Series>& series, const Tokenizer& tok, int n);
    void clear(const QString& message);
    void setLogScale(bool on);

    int seriesCount() const { return static_cast<int>(lines_.size()); }
    // The plotted final probability of series `s` at rank `rank` (tests).
    double value(int s, int rank) const;
    int tokenAtRank(int rank) const;

  protected:
    void mouseMoveEvent(QMouseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

  private:
    void fitValueAxis();

    QCPBars* raw_;
    std::vector<QCPGraph*> lines_;
    QCPItemText* message_;
    std::vector<QString> tips_;
    std::vector<int> ids_;
    double top_ = 1, bottom_ = 1;
    int widest_label_ = 0;  // pixels
};

class FrequencyChart : public QCustomPlot {
    Q_OBJECT
  public:
    explicit FrequencyChart(QWidget* parent = nullptr);

    // The first n ranked tokens of d: p_final, and counts[id] / samples with whiskers. The
    // value axis goes up to `top` (so columns side by side share a scale), or fits the data
    // when top is 0.
    void show(const Distribution& d, const std::vector<int64_t>& counts, int64_t samples,
              const Tokenizer& tok, int n, const QColor& color, double top = 0);
    // The largest value show() draws for these arguments: a probability or a whisker's end.
    static double topValue(const Distribution& d, const std::vector<int64_t>& counts,
                           int64_t samples, int n);
    void clear(const QString& message);

    double probabilityAt(int rank) const;
    double frequencyAt(int rank) const;
    int tokenAtRank(int rank) const;

  protected:
    void mouseMoveEvent(QMouseEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;

  private:
    QCPBars* probability_;
    QCPGraph* frequency_;
    QCPErrorBars* whiskers_;
    QCPItemText* message_;
    std::vector<QString> tips_;
    std::vector<int> ids_;
    int widest_label_ = 0;
};

}  // namespace ps
