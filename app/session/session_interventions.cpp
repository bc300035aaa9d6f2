// Session's interventions and the head-importance sweep (app/session/session.h). The list is
// edited here on the GUI thread; every analysis and generation takes a copy to the worker.
#include <QMetaObject>
#include <QPointer>

#include "app/session/exception_text.h"
#include "app/session/session.h"
#include "core/error.h"
#include "core/tokenizer/prompt.h"

namespace ps {

bool Session::intervened() const {
    for (const Intervention& iv : interventions_)
        if (iv.enabled) return true;
    return edited_model_ != nullptr;
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
    if (interventions_.empty() && weight_edits_.empty()) return;
    interventions_.clear();
    if (!weight_edits_.empty()) {
        weight_edits_.clear();
        weightEditsEdited();  // re-analyzes when the plain model is back
        return;
    }
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
    dropExperiments();
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

namespace {

// A long experiment on `runner`: `compute(progress)` on the worker, its result handed to
// `store` on the GUI thread. Progress is posted to the GUI thread through `notify` while
// `running()` holds; `guard` drops it if the session is gone. Cancel throws ps::Cancelled.
template <class Compute, class Store, class Notify, class Running>
void run_experiment(Session* session, AnalysisRunner& runner, Compute compute, Store store,
                    Notify notify, Running running) {
    QPointer<Session> guard(session);
    runner.submit([=](const std::atomic<bool>& cancelled) -> AnalysisRunner::Continuation {
        try {
            auto progress = [&](int done, int total) {
                if (cancelled.load()) return false;
                QMetaObject::invokeMethod(guard, [=] {
                    if (guard && running(guard.data())) notify(guard.data(), done, total);
                });
                return true;
            };
            auto result = compute(progress);
            return [=] { store(result); };
        } catch (const Cancelled&) {
            return [] {};
        } catch (...) {
            const QString msg = what_of(std::current_exception());
            return [guard, msg] {
                if (guard) emit guard->error(msg);
            };
        }
    });
}

}  // namespace

void Session::dropExperiments() {
    importance_runner_.invalidate();
    sweep_runner_.invalidate();
    if (importance_) {
        importance_.reset();
        emit importanceReady();
    }
    if (sweep_) {
        sweep_.reset();
        emit sweepReady();
    }
}

void Session::computeImportance(int target) {
    if (!model_ || tokens_.empty() || promptTooLong()) return;
    importance_.reset();
    emit importanceReady();
    run_experiment(
        this, importance_runner_,
        [model = runModel(), ids = tokens_, list = interventions_, target](const auto& progress) {
            return head_importance(*model, ids, target, list, progress);
        },
        [this](const HeadImportance& result) {
            importance_ = result;
            emit importanceReady();
        },
        [](Session* s, int done, int total) { emit s->importanceProgress(done, total); },
        [](Session* s) { return s->importanceRunning(); });
}

void Session::computeSweep(const Intervention& component, const std::vector<int>& targets,
                           int steps) {
    if (!model_ || tokens_.empty() || promptTooLong()) return;
    sweep_.reset();
    sweep_component_ = component;
    emit sweepReady();
    run_experiment(
        this, sweep_runner_,
        [model = runModel(), ids = tokens_, list = interventions_, component, targets,
         steps](const auto& progress) {
            return scale_sweep(*model, ids, component, factor_range(0.0f, 2.0f, steps), targets,
                               list, progress);
        },
        [this](const ScaleSweep& result) {
            sweep_ = result;
            emit sweepReady();
        },
        [](Session* s, int done, int total) { emit s->sweepProgress(done, total); },
        [](Session* s) { return s->sweepRunning(); });
}

void Session::cancelSweep() {
    sweep_runner_.invalidate();
    emit sweepReady();
}

void Session::addPatch(const Intervention& patch, const QString& source) {
    if (!model_) return;
    const Tokenizer& tok = *model_->tokenizer;
    const std::string text = source.toStdString();
    const std::vector<int> ids = prompt_tokens(tok, {text, false, {}});
    if (ids.empty()) {
        emit error(tr("The source prompt of the patch has no tokens."));
        return;
    }
    run_experiment(
        this, source_runner_,
        [model = runModel(), patch, ids, text](const auto&) {
            Intervention iv = patch;
            set_patch_source(*model, iv, ids, text);
            return iv;
        },
        [this](const Intervention& iv) { addIntervention(iv); }, [](Session*, int, int) {},
        [](Session*) { return false; });
}

void Session::addSteering(const Intervention& steer, const QString& plus, const QString& minus) {
    if (!model_) return;
    const Tokenizer& tok = *model_->tokenizer;
    const std::string a = plus.toStdString(), b = minus.toStdString();
    const std::vector<int> plus_ids = prompt_tokens(tok, {a, false, {}});
    const std::vector<int> minus_ids = prompt_tokens(tok, {b, false, {}});
    if (plus_ids.empty() || minus_ids.empty()) {
        emit error(tr("Steering needs two prompts with at least one token each."));
        return;
    }
    run_experiment(
        this, source_runner_,
        [model = runModel(), steer, plus_ids, minus_ids, a, b](const auto&) {
            Intervention iv = steer;
            set_steering(*model, iv, plus_ids, minus_ids, "\"" + a + "\" - \"" + b + "\"");
            return iv;
        },
        [this](const Intervention& iv) { addIntervention(iv); }, [](Session*, int, int) {},
        [](Session*) { return false; });
}

void Session::cancelImportance() {
    importance_runner_.invalidate();
    emit importanceReady();
}

// ---------------------------------------------------------------------------------------------
// Weight edits

const std::shared_ptr<const Model>& Session::runModel() const {
    return edited_model_ ? edited_model_ : model_;
}

void Session::addWeightEdit(const WeightEdit& edit) {
    for (WeightEdit& old : weight_edits_)
        if (old.tensor == edit.tensor && old.row == edit.row && old.col == edit.col &&
            old.kind == edit.kind) {
            old = edit;
            weightEditsEdited();
            return;
        }
    weight_edits_.push_back(edit);
    weightEditsEdited();
}

void Session::setWeightEditEnabled(int index, bool on) {
    if (index < 0 || index >= static_cast<int>(weight_edits_.size())) return;
    if (weight_edits_[size_t(index)].enabled == on) return;
    weight_edits_[size_t(index)].enabled = on;
    weightEditsEdited();
}

void Session::removeWeightEdit(int index) {
    if (index < 0 || index >= static_cast<int>(weight_edits_.size())) return;
    weight_edits_.erase(weight_edits_.begin() + index);
    weightEditsEdited();
}

void Session::setWeightEdits(const std::vector<WeightEdit>& list) {
    weight_edits_ = list;
    weightEditsEdited();
}

// The edited model is built on the worker from the whole list (a compact tensor is dequantized
// there), so the latest list wins; until it is ready the list shows the change and runs keep
// the previous weights.
void Session::weightEditsEdited() {
    emit interventionsChanged();
    std::vector<WeightEdit> enabled;
    for (const WeightEdit& e : weight_edits_)
        if (e.enabled) enabled.push_back(e);
    if (!model_) return;
    if (enabled.empty()) {
        edit_runner_.invalidate();
        edited_model_.reset();
        interventionsEdited();
        return;
    }
    run_experiment(
        this, edit_runner_,
        [model = model_, enabled](const auto&) { return edit_weights(model, enabled); },
        [this](const std::shared_ptr<const Model>& edited) {
            edited_model_ = edited;
            interventionsEdited();
        },
        [](Session*, int, int) {}, [](Session*) { return false; });
}

QStringList Session::restoreInterventions(const std::vector<SavedIntervention>& saved) {
    QStringList errors;
    Interventions list;
    std::vector<WeightEdit> edits;
    if (model_)
        for (size_t i = 0; i < saved.size(); ++i) try {
                const std::string spec = saved[i].spec.toStdString();
                if (is_weight_edit(spec)) {
                    edits.push_back(parse_weight_edit(spec, *model_));
                    edits.back().enabled = saved[i].enabled;
                } else {
                    list.push_back(parse_intervention(spec, model_->config));
                    list.back().enabled = saved[i].enabled;
                }
            } catch (const std::exception& e) {
                errors << QString("interventions[%1]: %2").arg(i).arg(QString::fromUtf8(e.what()));
            }
    setInterventions(list);
    setWeightEdits(edits);
    return errors;
}

}  // namespace ps
