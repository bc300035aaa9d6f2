// The GUI's latencies (`paramscope bench --gui`), offscreen: a sampling-slider step to the
// repainted chart, and a keystroke in the prompt to every visible view repainted.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

namespace ps::cli {

// Opens `model_path` in a main window, analyzes `prompt`, then times `repeats` slider steps and
// keystrokes: {"slider_ms", "keystroke_ms", "debounce_ms", ...}.
nlohmann::json bench_gui(const std::string& model_path, const std::string& prompt, int repeats);

}  // namespace ps::cli
