// All the GUI's threading: runs work (model loading, forward passes, generation) on a worker
// thread and hands the result back on the GUI thread, latest request wins.
//
// - At most one job runs at a time. Submitting while one runs replaces the job waiting behind it
//   (so typing fast on a big model never piles up forward passes) and raises the running job's
//   cancel flag, which long jobs (generation) poll between steps.
// - Every submit bumps a generation counter; a job's continuation runs only if no newer job was
//   submitted meanwhile, so stale results are dropped, never shown.
// - Work captures what it needs by value (the model as shared_ptr<const Model>), so it stays
//   valid whatever the GUI does meanwhile. The pool is joined when the runner is destroyed.
#pragma once

#include <QObject>
#include <QThreadPool>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>

namespace ps {

class AnalysisRunner : public QObject {
    Q_OBJECT
  public:
    // Runs on the GUI thread with the work's result.
    using Continuation = std::function<void()>;
    // Runs on the worker thread; must not throw (catch and return a continuation reporting it).
    using Work = std::function<Continuation(const std::atomic<bool>& cancelled)>;

    explicit AnalysisRunner(QObject* parent = nullptr);
    ~AnalysisRunner() override;

    // Queues `work`; returns its generation.
    uint64_t submit(Work work);
    // Drops the results of every job submitted so far (and cancels the running one).
    void invalidate();

    bool busy() const { return running_ || pending_.has_value(); }
    uint64_t generation() const { return generation_; }

    // Tests: sleep this long on the worker before each job, to make jobs observably slow.
    void setExtraLatencyForTesting(int ms) { extra_latency_ms_ = ms; }

  signals:
    void busyChanged(bool busy);

  private:
    struct Job {
        Work work;
        uint64_t generation;
    };
    void start(Job job);

    QThreadPool pool_;
    uint64_t generation_ = 0;
    bool running_ = false;
    std::optional<Job> pending_;
    std::shared_ptr<std::atomic<bool>> cancel_running_;
    int extra_latency_ms_ = 0;
};

}  // namespace ps
