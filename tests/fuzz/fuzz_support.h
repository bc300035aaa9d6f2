// What the libFuzzer targets share: a scratch directory for the files the loaders read (they
// take paths), and the checks run on whatever a fuzzed file loads into.
//
// A target may let only ps::Error escape a loader: anything else (std::bad_alloc, a JSON
// library exception, a crash, a sanitizer report, a timeout) is a finding.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/model/model.h"
#include "core/tokenizer/tokenizer.h"

namespace ps::fuzz {

// A directory private to this process (under /dev/shm when there is one, so each input costs
// no disk write), removed at exit.
const std::string& scratch_dir();

// Writes `data` to scratch_dir()/name (replacing it) and returns the path.
std::string write_scratch(const std::string& name, std::string_view data);
inline std::string write_scratch(const std::string& name, const uint8_t* data, size_t size) {
    return write_scratch(name, std::string_view(reinterpret_cast<const char*>(data), size));
}

// Aborts (a finding) with `what` when `condition` is false.
void check(bool condition, const char* what);

// Runs what the app runs on a freshly opened model: every tensor's data lies inside its file
// mapping or the model's own storage, the parameter statistics and histograms, a forward pass
// over a short prompt and the sampling step on its logits. Errors the engine reports as
// ps::Error (NaN logits, say) are fine; crashes and other exceptions are not.
void exercise_model(const Model& model);

// Encodes `text` (arbitrary bytes): every id in range, invalid UTF-8 refused with ps::Error and
// only then. With `round_trip` (for well-formed vocabularies, not fuzzed ones) also checks
// decode(encode(text)) == text when every byte has a token.
void exercise_text(const Tokenizer& tokenizer, std::string_view text, bool round_trip);

// Decodes every id once and runs exercise_text, without round trips, on a few texts and `text`.
void exercise_tokenizer(const Tokenizer& tokenizer, std::string_view text);

}  // namespace ps::fuzz
