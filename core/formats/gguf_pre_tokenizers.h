// llama.cpp's byte-level BPE pre-tokenizers, by their GGUF name (tokenizer.ggml.pre).
#pragma once

#include <optional>
#include <string>

#include "core/tokenizer/tokenizer.h"

namespace ps {

struct LlamaCppPreTokenizer {
    std::vector<PreTokenizerStep> steps;
    bool ignore_merges = false;  // llama.cpp's vocab.ignore_merges for this type
    bool add_bos = false;        // llama.cpp's default when tokenizer.ggml.add_bos_token is absent
};

// The pre-tokenizer llama.cpp (src/llama-vocab.cpp) uses for `name`, or nothing if ParamScope
// does not know the name.
std::optional<LlamaCppPreTokenizer> llama_cpp_pre_tokenizer(const std::string& name);

// "default, gpt-2, llama-bpe, ...": the names llama_cpp_pre_tokenizer knows, for messages.
std::string llama_cpp_pre_tokenizer_names();

}  // namespace ps
