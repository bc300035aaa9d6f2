// The figures of `paramscope bench` (README, Performance): measured, then printed as a table or
// written as JSON.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/model/forward.h"
#include "core/model/model.h"

namespace ps::cli {

struct BenchSettings {
    int tokens = 128;
    int threads = 1;
    int repeats = 7;
    bool f32_weights = false;  // open models with LoadOptions::f32_weights
};

// Times the forward pass (full trace, none, last logits only), appending a token, the logit
// lens grid and the sampling step on `model`, and the matrix-multiply kernel on the same shapes.
nlohmann::json bench_report(const Model& model, const std::string& label, const BenchSettings& s);
void print_bench_report(const nlohmann::json& report);

// The bytes of every activation `trace` holds, in MB.
double trace_megabytes(const Trace& trace);

}  // namespace ps::cli
