// Opening a model, measured in a fresh process (`paramscope bench --load-probe`), so that the
// peak memory is the model's and not what the benchmark itself allocated before.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "app/cli/bench_report.h"

namespace ps::cli {

// In the child: opens `path`, runs one forward pass with the full trace, and prints
// {"load_ms", "first_analysis_ms", "peak_rss_mb", "trace_mb"} as one JSON line.
int load_probe(const std::string& path, const BenchSettings& s);

// In the parent: runs the probe `repeats` times; returns load, first_analysis (medians, min,
// max), peak_rss_mb (the largest seen), file_mb.
nlohmann::json measure_load(const std::string& path, const BenchSettings& s);

// Writes a GPT-2 of a built-in shape ("gpt2-124m", "gpt2-tiny") with random weights as a
// Hugging Face directory (config.json, model.safetensors, vocab.json, merges.txt) in `dir`,
// its tensors F32, or F16 when `f16`.
void write_random_gpt2(const std::string& shape, const std::string& dir, bool f16 = false);

}  // namespace ps::cli
