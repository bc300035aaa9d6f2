// Shared pieces of the headless commands (app/cli*.cpp).
#pragma once

#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "app/cli/args.h"
#include "core/model/model.h"

namespace ps::cli {

const std::vector<OptionSpec>& prompt_options();      // --text --ids --bos --no-bos ...
std::unique_ptr<Model> open_model(const Args& args);  // also applies --threads
std::vector<int> prompt_ids(const Model& model, const Args& args);
void append_float(std::string& out, float v);  // shortest round-trip form; null if not finite
std::string dump(const nlohmann::json& j);     // compact, invalid UTF-8 replaced

nlohmann::json model_info_json(const Model& model);
std::string model_info_text(const Model& model);

CommandSpec generate_spec();
int cmd_generate(const Args& args);
CommandSpec trace_spec();
int cmd_trace(const Args& args);
CommandSpec dist_spec();
int cmd_dist(const Args& args);
CommandSpec bench_spec();
int cmd_bench(const Args& args);
CommandSpec train_spec();
int cmd_train(const Args& args);  // MODEL positional is not used: train takes --out DIR

}  // namespace ps::cli
