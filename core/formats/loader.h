// Opening a model: a llama2.c checkpoint, a GGUF file or a Hugging Face directory, detected
// from content (magic bytes, config.json), not only from the extension.
#pragma once

#include <memory>
#include <string>

#include "core/model/model.h"

namespace ps {

struct LoadOptions {
    std::string tokenizer_path;  // llama2.c: an explicit tokenizer.bin; else found beside it
    // F16, BF16 and quantized matrices are kept in the file's encoding and dequantized as the
    // forward pass needs them (core/model/compact_weights.h); true widens every tensor to f32 at
    // load instead (four bytes per parameter resident).
    bool f32_weights = false;
};

// Throws ps::Error naming the file and field or tensor on any malformed input,
// including a broken tokenizer.
std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& options = {});

// Per-format loaders (each in its own .cpp).
std::unique_ptr<Model> load_llama2c(const std::string& path, const LoadOptions& options);
std::unique_ptr<Model> load_gguf_model(const std::string& path, const LoadOptions& options = {});
std::unique_ptr<Model> load_hf_directory(const std::string& dir, const LoadOptions& options = {});

// A tokenizer alone, from a vocabulary-only GGUF (as in llama.cpp's test vectors).
std::unique_ptr<Tokenizer> load_gguf_tokenizer(const std::string& path);

}  // namespace ps
