// Comparing sampling settings on the same model, prompt and position: columns A, B, ... each
// with its own temperature, top-k, top-p, min-p and order. On top, every setting's final
// distribution overlaid on the model's raw one; in each column the tokens it keeps, its entropy,
// its probabilities beside the frequencies of N seeded simulated draws, and a continuation
// generated with it from the same prompt and seed (on the Session's worker, never on the GUI
// thread), each token colored by the probability it had when drawn.
//
// The continuations start from the prompt up to the selected position, so their first step is
// drawn from exactly the distributions shown. Work is done only while the view is visible.
#pragma once

#include <QWidget>
#include <cstdint>
#include <optional>
#include <vector>

#include "core/sampling/generate.h"
#include "core/sampling/sampling.h"

class QCheckBox;
class QHBoxLayout;
class QLabel;
class QPushButton;
class QSpinBox;
class QTimer;

namespace ps {

class CompareColumn;
class CompareOverlayChart;
class Session;

class CompareView : public QWidget {
    Q_OBJECT
  public:
    static constexpr int kMinColumns = 2, kMaxColumns = 4;

    explicit CompareView(Session* session, QWidget* parent = nullptr);

    int columnCount() const { return static_cast<int>(columns_.size()); }
    CompareColumn* column(int i) const { return columns_.at(static_cast<size_t>(i)); }
    // Adds a column (temperature 1, no filter, unless given); false at kMaxColumns.
    bool addColumn(const SamplingSettings& s = SamplingSettings{});
    // Removes column i (the later ones move up a letter); false at kMinColumns.
    bool removeColumn(int i);
    // One column per entry (clamped to kMinColumns..kMaxColumns: missing ones are added with
    // the defaults, extra ones dropped).
    void setColumnSettings(const std::vector<SamplingSettings>& settings);

    void setSamples(int n);
    void setSeed(int seed);
    void setSteps(int steps);
    void setTopN(int n);
    int samples() const;
    int seed() const;
    int steps() const;

    // Column i's distribution at the selected position (null before an analysis), the counts
    // of its simulated draws, and its last continuation (null until one finished).
    const Distribution* distribution(int i) const;
    const std::vector<int64_t>& sampleCounts(int i) const;
    const Generation* continuation(int i) const;
    // The prompt ids the continuations started from.
    const std::vector<int>& continuationPrompt() const { return continuation_prompt_; }
    bool generating() const { return generating_; }

    // The whole vocabulary by rank: rank, id, token, piece, p_raw, then per column its final
    // p, simulated count and frequency (headers name the column's settings). False (nothing
    // written) without distributions. Found by File > Export View through the meta-object.
    Q_INVOKABLE bool exportCsv(const QString& path) const;

    CompareOverlayChart* overlay() const { return overlay_; }
    QPushButton* addButton() const { return add_; }

  signals:
    void continuationsReady();

  protected:
    void showEvent(QShowEvent* event) override;

  private:
    struct Request {  // what a set of continuations was generated from
        const void* trace = nullptr;
        int position = -1;
        std::vector<std::string> settings;
        uint64_t seed = 0;
        int steps = 0;
        bool operator==(const Request&) const = default;
    };
    CompareColumn* makeColumn(int index, const SamplingSettings& s);
    void refresh();
    void updateTitle();
    void updateColumnButtons();
    Request currentRequest() const;
    void scheduleContinuations();
    void startContinuations();

    Session* session_;
    QLabel* title_;
    QSpinBox* top_n_;
    QSpinBox* samples_;
    QSpinBox* seed_;
    QSpinBox* steps_;
    QCheckBox* log_scale_;
    QPushButton* add_;
    CompareOverlayChart* overlay_;
    QHBoxLayout* columns_layout_;
    std::vector<CompareColumn*> columns_;
    std::vector<Distribution> distributions_;
    std::vector<std::vector<int64_t>> counts_;
    std::vector<Generation> continuations_;
    std::vector<int> continuation_prompt_;
    QTimer* continuation_timer_;
    std::optional<Request> shown_;      // the continuations on screen
    std::optional<Request> requested_;  // the continuations being generated
    uint64_t runner_generation_ = 0;    // of our last job on the session's runner
    bool generating_ = false;
    bool dirty_ = true;  // the distributions changed while the view was hidden
};

}  // namespace ps
