// Writes Hugging Face model directories for tests: config.json, safetensors weights (one file
// or shards with an index) and a tokenizer.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace ps::test {

struct HfTensor {
    std::string name;
    std::vector<int64_t> shape;  // outermost first, as PyTorch
    std::vector<float> values;   // row-major, product(shape) values
};

// `values` as little-endian bytes of `dtype` ("F32", "F16" or "BF16"; rounded to nearest even).
std::vector<uint8_t> encode_values(const std::vector<float>& values, const std::string& dtype);

// Creates `dir` (if needed) and writes config.json and the tensors in `dtype`. With shards > 1
// the tensors are spread round-robin over model-0000i-of-0000n.safetensors files listed in
// model.safetensors.index.json, as transformers' save_pretrained does for large models.
void write_hf_model(const std::string& dir, const nlohmann::json& config,
                    const std::vector<HfTensor>& tensors, const std::string& dtype = "F32",
                    int shards = 1);

// GPT-2's tokenizer: copies vocab.json and merges.txt from `source_dir` into `dir`.
void copy_gpt2_tokenizer(const std::string& source_dir, const std::string& dir);

// A Llama (SentencePiece BPE, byte fallback) tokenizer.json as transformers' LlamaConverter
// writes it: pieces use "▁" for a space, ids 0/1/2 are <unk>/<s>/</s>, <0xNN> byte tokens,
// and merges are derived from the scores as in its SentencePieceExtractor (every split of a
// piece into two pieces of the vocabulary, ordered by the merged piece's score).
void write_llama_tokenizer_json(const std::string& dir, const std::vector<std::string>& pieces,
                                const std::vector<float>& scores);

// Writes `bytes` to `path` (for hand-made, possibly broken files).
void write_file(const std::string& path, const std::string& bytes);

}  // namespace ps::test
