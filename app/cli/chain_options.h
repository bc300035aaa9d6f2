// The sampler chain's options (README "Sampler chain"): --chain, --preset and one option per
// stage parameter, for dist, generate and tree.
#pragma once

#include <optional>
#include <vector>

#include "app/cli/args.h"
#include "core/sampling/chain.h"

namespace ps {
class Model;
}

namespace ps::cli {

std::vector<OptionSpec> chain_options();

// The chain the options ask for, or nothing when neither --chain nor --preset is given (a stage
// option without them is an error naming it). Values not set come from the preset (--chain
// alone: llama.cpp's defaults); --temperature, --top-k, --top-p and --min-p set theirs.
std::optional<ChainSettings> chain_from(const Args& args, const Model& model);

}  // namespace ps::cli
