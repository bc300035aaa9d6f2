// What a training run left beside a model (see `paramscope train`): training_log.csv and the
// parameter snapshots in snapshots/step_NNNNNN.safetensors, so the app can show every
// parameter from its random initialization (step 0) to its trained value.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/model/model.h"

namespace ps {

struct TrainingLogRow {
    int step = 0;
    double train_loss = 0;
    double val_loss = 0;  // NaN on steps without a validation pass
    double lr = 0;
    double grad_norm = 0;
};

struct TrainingHistory {
    std::vector<int> steps;                   // snapshot steps, ascending
    std::vector<std::string> snapshot_paths;  // one per step
    std::vector<TrainingLogRow> log;          // empty without training_log.csv
    bool empty() const { return steps.empty(); }
};

// Looks beside `model_path` (the model's directory, or the directory of a model file) for
// snapshots/ and training_log.csv. No snapshots: an empty history. A malformed log or snapshot
// name throws ps::Error naming the file and line.
TrainingHistory find_training_history(const std::string& model_path);

// The tensors of one snapshot as f32, by name. Every tensor of `model` must be present with
// its element count (throws ps::Error naming the snapshot and the tensor otherwise).
std::map<std::string, std::vector<float>> load_snapshot(const std::string& path,
                                                        const Model& model);

}  // namespace ps
