// tokenizer.json files for tests: a byte-level BPE vocabulary (tests/support/tiny_fixtures'
// small_bpe_vocab, say) with whatever normalizer and pre_tokenizer a test wants. Qt-free, so the
// fuzz targets use it too.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/tokenizer/tokenizer.h"

namespace ps::test {

struct TokenizerJsonParts {
    nlohmann::json normalizer = nullptr;
    nlohmann::json pre_tokenizer = nullptr;
    nlohmann::json added_tokens = nlohmann::json::array();  // [{"id", "content", ...}]
    bool pair_merges = false;  // merges as ["a", "b"] (tokenizers >= 0.20) instead of "a b"
    bool ignore_merges = false;
};

// The JSON of a tokenizer.json: model.vocab holds every piece of `v` (added tokens too, as
// GPT-2's files do), model.merges its merges.
nlohmann::json byte_level_tokenizer_json(const BpeVocab& v, const TokenizerJsonParts& parts);

// Writes dir/tokenizer.json (no tokenizer_config.json).
void write_byte_level_tokenizer_json(const std::string& dir, const BpeVocab& v,
                                     const TokenizerJsonParts& parts);

}  // namespace ps::test
