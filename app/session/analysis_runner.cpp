#include "app/session/analysis_runner.h"

#include <QFutureWatcher>
#include <QThread>
#include <QtConcurrent>

namespace ps {

AnalysisRunner::AnalysisRunner(QObject* parent) : QObject(parent) {
    pool_.setMaxThreadCount(1);  // one job at a time; the engine parallelizes inside it
}

// Joins the worker before the watchers go away with this QObject: a running job finishes, its
// continuation is never called.
AnalysisRunner::~AnalysisRunner() {
    if (cancel_running_) cancel_running_->store(true);
    pool_.waitForDone();
}

uint64_t AnalysisRunner::submit(Work work) {
    const bool was_busy = busy();
    Job job{std::move(work), ++generation_};
    if (running_) {
        pending_ = std::move(job);
        if (cancel_running_) cancel_running_->store(true);
    } else {
        start(std::move(job));
    }
    if (!was_busy) emit busyChanged(true);
    return generation_;
}

void AnalysisRunner::invalidate() {
    ++generation_;
    const bool was_busy = busy();
    pending_.reset();
    if (cancel_running_) cancel_running_->store(true);
    if (was_busy && !busy()) emit busyChanged(false);
}

void AnalysisRunner::start(Job job) {
    running_ = true;
    auto cancel = std::make_shared<std::atomic<bool>>(false);
    cancel_running_ = cancel;
    const int latency = extra_latency_ms_;
    auto* watcher = new QFutureWatcher<Continuation>(this);
    connect(watcher, &QFutureWatcherBase::finished, this, [this, watcher, gen = job.generation] {
        Continuation done = watcher->result();
        watcher->deleteLater();
        running_ = false;
        cancel_running_.reset();
        if (gen == generation_ && done) done();  // may submit again
        if (!running_ && pending_) {
            Job next = std::move(*pending_);
            pending_.reset();
            start(std::move(next));
        }
        if (!busy()) emit busyChanged(false);
    });
    watcher->setFuture(QtConcurrent::run(&pool_, [work = std::move(job.work), cancel, latency] {
        if (latency > 0) QThread::msleep(static_cast<unsigned long>(latency));
        return work(*cancel);
    }));
}

}  // namespace ps
