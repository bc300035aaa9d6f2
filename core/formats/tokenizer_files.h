// Tokenizers read from their own files (core/formats/tokenizer_files.cpp); a GGUF file's
// tokenizer is read with the rest of the file (core/formats/gguf.cpp).
#pragma once

#include <memory>
#include <string>

#include "core/tokenizer/tokenizer.h"

namespace ps {

// llama2.c tokenizer.bin: int32 max_token_length, then vocab_size x {f32 score, int32 len, bytes}.
// Its pieces store "▁" as a plain space.
std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path, int vocab_size);
// A Hugging Face directory's tokenizer.json, or vocab.json + merges.txt.
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& dir);

}  // namespace ps
