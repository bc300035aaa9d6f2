// Tokenizers: SentencePiece-style BPE (llama: score-ordered merges, "▁" dummy prefix, byte
// fallback <0xNN>) and GPT-2 byte-level BPE (pre-tokenization pattern, byte-to-unicode map,
// ranked merges). Both give each token's stored piece and the raw bytes it decodes to.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/chat_template.h"

namespace ps {

// Values as in GGUF's tokenizer.ggml.token_type.
enum class TokenType {
    Normal = 1,
    Unknown = 2,
    Control = 3,
    UserDefined = 4,
    Unused = 5,
    Byte = 6
};

class Tokenizer {
  public:
    virtual ~Tokenizer() = default;

    // Token ids for `text`, without BOS. Throws ps::Error on invalid UTF-8. Byte-level BPE
    // finds added and special tokens written in the text ("<|begin_of_text|>"), as Hugging Face
    // tokenizers does.
    virtual std::vector<int> encode(std::string_view text) const = 0;
    // The pieces encode() merges separately, in order: for byte-level BPE the added tokens found
    // in the text and the words of the normalized, pre-tokenized text between them (raw bytes);
    // for SentencePiece the whole text. Throws ps::Error on invalid UTF-8.
    virtual std::vector<std::string> pre_tokenize(std::string_view text) const;
    // The raw bytes token `id` stands for ("▁the" -> " the", "<0x0A>" -> "\n", "Ġthe" -> " the");
    // empty for control tokens.
    virtual std::string token_bytes(int id) const = 0;
    // Decoded text of a sequence: control tokens (BOS/EOS) dropped, SentencePiece's dummy
    // prefix space removed from the start.
    virtual std::string decode(const std::vector<int>& ids) const = 0;

    const std::string& piece(int id) const { return pieces_.at(static_cast<size_t>(id)); }
    TokenType type(int id) const { return types_.at(static_cast<size_t>(id)); }
    int vocab_size() const { return static_cast<int>(pieces_.size()); }
    const std::string& kind() const { return kind_; }  // "spm" or "gpt2"

    int bos_id = -1;
    int eos_id = -1;
    bool add_bos = false;
    // The model's chat template; bos_token and eos_token are filled in by the loader.
    ChatTemplate chat_template;

  protected:
    std::string kind_;
    std::vector<std::string> pieces_;
    std::vector<TokenType> types_;
};

struct SpmVocab {
    std::vector<std::string> pieces;  // UTF-8, "▁" for a space, "<0xNN>" byte tokens
    std::vector<float> scores;        // merge priority: higher merges first
    std::vector<TokenType> types;     // empty: inferred (<0xNN> byte, <unk>/<s>/</s> control)
    int bos_id = 1;
    int eos_id = 2;
    int unk_id = 0;
    bool add_bos = true;
    bool add_space_prefix = true;
};

// Hugging Face tokenizers' SplitDelimiterBehavior: what happens to the matches of a Split.
enum class SplitBehavior { Removed, Isolated, MergedWithPrevious, MergedWithNext, Contiguous };

// One pre-tokenization step. Each step splits every piece the steps before it produced, as
// Hugging Face's pre-tokenizer Sequence and llama.cpp's list of regexes do.
struct PreTokenizerStep {
    enum class Kind {
        Regex,        // split by `pattern` with `behavior` and `invert` (Split, Digits, ...)
        Gpt2,         // GPT-2's pattern, hand-written (ByteLevel with use_regex; llama.cpp gpt-2)
        PrefixSpace,  // ByteLevel's add_prefix_space: " " before each piece not starting with one
    };
    Kind kind = Kind::Regex;
    // A regex in Hugging Face's (Oniguruma) syntax; \s and \S mean Unicode White_Space, as
    // there. Matched with ICU, bounded in time and memory (untrusted input).
    std::string pattern;
    SplitBehavior behavior = SplitBehavior::Isolated;
    bool invert = false;  // split by what the pattern does not match
};

// One normalization step, applied to the text between added tokens before pre-tokenization.
struct NormalizerStep {
    enum class Kind { NFC, NFD, NFKC, NFKD, Lowercase, Prepend, Replace, ReplaceRegex, Strip };
    Kind kind = Kind::NFC;
    std::string pattern;  // Replace: the text replaced; ReplaceRegex: the regex
    std::string content;  // Prepend: the text prepended; Replace*: the replacement
    bool strip_left = false, strip_right = false;  // Strip: which ends lose white space
};

// Flags of a tokenizer.json added token (its text is the token's piece).
struct AddedToken {
    int id = 0;
    bool lstrip = false;       // also takes the white space before it
    bool rstrip = false;       // also takes the white space after it
    bool single_word = false;  // only when not inside a word
};

struct BpeVocab {
    std::vector<std::string> pieces;  // in GPT-2's byte-to-unicode alphabet ("Ġthe")
    std::vector<std::string> merges;  // "Ġ t" lines, highest priority first
    std::vector<TokenType> types;     // empty: all Normal, except `<|...|>` pieces -> Control
    int bos_id = -1;
    int eos_id = -1;
    bool add_bos = false;
    // Text pipeline. Added tokens are found in the text first (leftmost, then longest); the
    // text between them is normalized, pre-tokenized and merged word by word.
    std::vector<NormalizerStep> normalizer;       // empty: none
    std::vector<PreTokenizerStep> pre_tokenizer;  // empty: GPT-2's pattern
    // Tokens matched as text: empty means every control and user-defined token, no flags.
    std::vector<AddedToken> added_tokens;
    bool ignore_merges = false;  // a word that is a token is that token, merges or not (Llama 3)
};

// Validate and build; errors name `source` (the file the vocabulary came from).
std::unique_ptr<Tokenizer> make_spm_tokenizer(SpmVocab vocab, const std::string& source);
std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeVocab vocab, const std::string& source);

}  // namespace ps
