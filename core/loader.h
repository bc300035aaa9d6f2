// Opening a model: a llama2.c checkpoint, a GGUF file or a Hugging Face directory, detected
// from content (magic bytes, config.json), not only from the extension.
#pragma once

#include <memory>
#include <string>

#include "core/model.h"

namespace ps {

struct LoadOptions {
    std::string tokenizer_path;  // llama2.c: an explicit tokenizer.bin; else found beside it
};

// Throws ps::Error naming the file and field or tensor on any malformed input,
// including a broken tokenizer.
std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& options = {});

// Per-format loaders (each in its own .cpp).
std::unique_ptr<Model> load_llama2c(const std::string& path, const LoadOptions& options);
std::unique_ptr<Model> load_gguf_model(const std::string& path);
std::unique_ptr<Model> load_hf_directory(const std::string& dir);

// A tokenizer alone, from a vocabulary-only GGUF (as in llama.cpp's test vectors).
std::unique_ptr<Tokenizer> load_gguf_tokenizer(const std::string& path);

}  // namespace ps
