// Training a GPT-2 style byte-level BPE tokenizer, written as GPT-2's vocab.json + merges.txt
// so that a trained model loads through the same Hugging Face path as GPT-2 itself.
//
// Ids: 0..255 are the single bytes, in GPT-2's order (its byte-to-unicode alphabet, printable
// bytes first); then one id per merge, in merge order; the last id is <|endoftext|>.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace ps {

class BpeTrained {
  public:
    std::vector<std::string> pieces;          // by id, in the byte-to-unicode alphabet ("Ġthe")
    std::vector<std::pair<int, int>> merges;  // merge i makes id 256 + i from (left, right)
    int eot_id = -1;                          // <|endoftext|>, the last id

    int vocab_size() const { return static_cast<int>(pieces.size()); }
    // GPT-2's encoding: pre-tokenize, then in each word merge the pair with the lowest merge
    // rank until none applies. Words are cached, so encoding a large repetitive corpus is fast.
    std::vector<int> encode(std::string_view text);
    std::string decode(const std::vector<int>& ids) const;  // the bytes; <|endoftext|> dropped

    // Writes dir/vocab.json ({"piece": id}, in id order) and dir/merges.txt
    // ("#version: 0.2" then one "left right" line per merge).
    void write(const std::string& dir) const;

  private:
    std::vector<int> encode_word(std::string_view word);
    std::unordered_map<std::string, std::vector<int>> cache_;
    std::unordered_map<uint64_t, int> rank_;  // (left, right) -> merge index
};

// Learns up to `vocab_size` - 257 merges from `documents` (valid UTF-8): repeatedly the most
// frequent adjacent pair inside the pre-tokenized words (ties: the smaller left id, then the
// smaller right id). Stops early when no pair occurs twice, so the vocabulary may be smaller.
// Deterministic. Throws ps::Error if vocab_size < 257 or a document is not UTF-8.
BpeTrained train_bpe(const std::vector<std::string>& documents, int vocab_size);

}  // namespace ps
