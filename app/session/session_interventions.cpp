// Session's interventions and the head-importance sweep (app/session/session.h). The list is
// edited here on the GUI thread; every analysis and generation takes a copy to the worker.
#include <QMetaObject>
#include <QPointer>

#include "app/session/exception_text.h"
#include "app/session/session.h"
#include "core/error.h"

namespace ps {

bool Session::intervened() const {
    for (const Intervention& iv : interventions_)
        if (iv.enabled) return true;
    return false;
}

int Session::findIntervention(Hook hook, int layer, int unit) const {
    for (size_t i = 0; i < interventions_.size(); ++i) {
        const Intervention& iv = interventions_[i];
        if (iv.hook == hook && iv.layer == layer && iv.unit == unit && iv.position < 0)
            return static_cast<int>(i);
    }
    return -1;
}

void Session::addIntervention(const Intervention& iv) {
    for (Intervention& old : interventions_)
        if (old.hook == iv.hook && old.layer == iv.layer && old.unit == iv.unit &&
            old.position == iv.position) {
            old = iv;
            interventionsEdited();
            return;
        }
    interventions_.push_back(iv);
    interventionsEdited();
}

void Session::setInterventionEnabled(int index, bool on) {
    if (index < 0 || index >= static_cast<int>(interventions_.size())) return;
    if (interventions_[size_t(index)].enabled == on) return;
    interventions_[size_t(index)].enabled = on;
    interventionsEdited();
}

void Session::removeIntervention(int index) {
    if (index < 0 || index >= static_cast<int>(interventions_.size())) return;
    interventions_.erase(interventions_.begin() + index);
    interventionsEdited();
}

void Session::clearInterventions() {
    if (interventions_.empty()) return;
    interventions_.clear();
    interventionsEdited();
}

void Session::setInterventions(const Interventions& list) {
    interventions_ = list;
    interventionsEdited();
}

// A change is seen at once: the list's views update now, the distribution when the new
// analysis (which keeps the positions before the change) is ready.
void Session::interventionsEdited() {
    if (!intervened()) baseline_.reset();
    emit interventionsChanged();
    analyzeNow();
}

const float* Session::baselineLogitsAt(int position) const {
    if (!baseline_ || !trace_ || baseline_->ids != trace_->ids) return nullptr;
    if (position < 0 || position >= static_cast<int>(baseline_->ids.size())) return nullptr;
    if (baseline_->logits.rows() != static_cast<Eigen::Index>(baseline_->ids.size()))
        return nullptr;
    return baseline_->logits.data() + int64_t(position) * baseline_->logits.cols();
}

void Session::computeImportance(int target) {
    if (!model_ || tokens_.empty() || promptTooLong()) return;
    importance_.reset();
    emit importanceReady();
    // Progress is posted to the GUI thread; `guard` drops it if the session is gone.
    QPointer<Session> guard(this);
    auto work = [this, guard, model = model_, ids = tokens_, list = interventions_,
                 target](const std::atomic<bool>& cancelled) -> AnalysisRunner::Continuation {
        try {
            auto progress = [&](int done, int total) {
                if (cancelled.load()) return false;
                QMetaObject::invokeMethod(guard, [guard, done, total] {
                    if (guard && guard->importanceRunning())
                        emit guard->importanceProgress(done, total);
                });
                return true;
            };
            HeadImportance result = head_importance(*model, ids, target, list, progress);
            return [this, result = std::move(result)] {
                importance_ = result;
                emit importanceReady();
            };
        } catch (const Cancelled&) {
            return [] {};
        } catch (...) {
            const QString msg = what_of(std::current_exception());
            return [this, msg] { emit error(msg); };
        }
    };
    importance_runner_.submit(work);
}

void Session::cancelImportance() {
    importance_runner_.invalidate();
    emit importanceReady();
}

}  // namespace ps
