// Small valid inputs of every format, for the hostile-input tests (which break them) and the
// fuzz targets (which start from them): synthetic vocabularies, llama2.c checkpoints and
// tokenizers, tiny Hugging Face directories.
#pragma once

#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace ps::test {

// GPT-2's 256 byte pieces (bytes_to_unicode), in byte order.
std::vector<std::string> gpt2_byte_pieces();

// A byte-level BPE vocabulary: the 256 byte pieces, a few merged pieces and their merges, and
// <|endoftext|> (a control token) last.
BpeVocab small_bpe_vocab();

// A SentencePiece vocabulary: <unk> <s> </s>, the 256 byte-fallback tokens, then "▁", letters
// and merged pieces, scored so longer pieces merge first.
SpmVocab small_spm_vocab();

// A valid llama2.c tokenizer.bin of `vocab` tokens: <unk>, <s>, </s>, then, when there is room,
// the 256 byte-fallback tokens <0x00>..<0xFF>, then distinct pieces of letters and spaces.
std::string llama2c_tokenizer_file(int vocab);

// A llama2.c checkpoint with deterministic small weights (vocab_size < 0 in the header when
// the classifier is separate).
struct Llama2cShape {
    int dim = 8, hidden = 16, layers = 1, heads = 2, kv_heads = 1, vocab = 16, seq_len = 8;
    bool shared_classifier = true;
};
std::string llama2c_checkpoint(const Llama2cShape& shape);

// Tiny Hugging Face directories that load: a LlamaForCausalLM with tokenizer.json and one F32
// model.safetensors, and a GPT2LMHeadModel with vocab.json + merges.txt and F16 weights in two
// shards listed by model.safetensors.index.json.
void write_hf_llama(const std::string& dir);
void write_hf_gpt2(const std::string& dir);

}  // namespace ps::test
