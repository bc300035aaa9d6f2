// The text pipeline of byte-level BPE around the merges (not a public interface): added tokens
// found in the text, normalization, and pre-tokenization into words, each as Hugging Face
// tokenizers (and llama.cpp's list of regexes) define them.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tokenizer/regex.h"
#include "core/tokenizer/tokenizer.h"

namespace ps::detail {

using Range = std::pair<size_t, size_t>;  // bytes [first, second)

// Hugging Face's NormalizedString::split: the pieces (non-empty byte ranges of a text of
// `size` bytes) that `matches` (successive ranges, possibly empty) leave under `behavior`;
// with `invert` the matches and the text between them swap roles.
std::vector<Range> split_by_matches(size_t size, const std::vector<Range>& matches,
                                    SplitBehavior behavior, bool invert);

class PreTokenizer {
  public:
    // Empty `steps`: GPT-2's pattern. Patterns are compiled here; errors name `source`.
    PreTokenizer(std::vector<PreTokenizerStep> steps, const std::string& source);
    // The words of `text` (valid UTF-8), in order.
    std::vector<std::string> split(std::string_view text) const;

  private:
    struct Step {
        PreTokenizerStep spec;
        std::optional<Regex> regex;
    };
    std::vector<Step> steps_;
};

class Normalizer {
  public:
    Normalizer(std::vector<NormalizerStep> steps, const std::string& source);
    bool empty() const { return steps_.empty(); }
    std::string apply(std::string_view text) const;

  private:
    struct Step {
        NormalizerStep spec;
        std::optional<Regex> regex;
    };
    std::vector<Step> steps_;
    std::string source_;
};

// Finds added tokens in text: at each position the longest token starting there, scanning left
// to right (Hugging Face's leftmost-longest Aho-Corasick), with lstrip / rstrip / single_word.
class AddedTokenMatcher {
  public:
    AddedTokenMatcher(std::vector<AddedToken> tokens, const std::vector<std::string>& pieces);
    struct Fragment {
        std::string_view text;  // id < 0: text to tokenize
        int id = -1;
    };
    std::vector<Fragment> split(std::string_view text) const;

  private:
    struct Candidate {
        std::string text;
        AddedToken token;
    };
    std::vector<std::vector<Candidate>> by_first_byte_;  // 256 lists, longest first
};

}  // namespace ps::detail
