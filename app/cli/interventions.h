// The command line's interventions (--intervene SPEC, repeatable) and paramscope importance.
#pragma once

#include <memory>
#include <vector>

#include "app/cli/args.h"
#include "core/model/intervention.h"
#include "core/model/model.h"

namespace ps::cli {

// --intervene, --source-text, --source-ids, --steer-plus, --steer-minus.
std::vector<OptionSpec> intervention_options();

// The model with the --intervene weight edits applied (the file's own when there are none), and
// the activation interventions in order, patch sources and steering directions computed.
struct Intervened {
    std::shared_ptr<const Model> model;
    Interventions interventions;
};
Intervened open_intervened(const Args& args);

CommandSpec importance_spec();
int cmd_importance(const Args& args);

CommandSpec sweep_spec();
int cmd_sweep(const Args& args);

}  // namespace ps::cli
