// The text pipeline of a byte-level BPE tokenizer.json (not a public interface): its normalizer,
// pre_tokenizer, added tokens and model flags, read into a BpeVocab. Used by
// core/formats/tokenizer_files.cpp.
#pragma once

#include <nlohmann/json.hpp>
#include <string>

#include "core/tokenizer/tokenizer.h"

namespace ps {

// Fills v.normalizer, v.pre_tokenizer, v.added_tokens and v.ignore_merges from tokenizer.json
// `j`; v.pieces must be filled. A component ParamScope does not implement is a ps::Error naming
// `path` and the component, listing what is supported.
void read_bpe_pipeline(const nlohmann::json& j, const std::string& path, BpeVocab& v);

// `text` as a regex that matches exactly it (a Split or Replace "String" pattern).
std::string regex_for_literal(const std::string& text);

}  // namespace ps
