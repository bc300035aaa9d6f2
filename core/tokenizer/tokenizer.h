// Tokenizers: SentencePiece-style BPE (llama: score-ordered merges, "▁" dummy prefix, byte
// fallback <0xNN>) and GPT-2 byte-level BPE (pre-tokenization pattern, byte-to-unicode map,
// ranked merges). Both give each token's stored piece and the raw bytes it decodes to.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

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

    // Token ids for `text`, without BOS. Throws ps::Error on invalid UTF-8.
    virtual std::vector<int> encode(std::string_view text) const = 0;
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

struct BpeVocab {
    std::vector<std::string> pieces;  // in GPT-2's byte-to-unicode alphabet ("Ġthe")
    std::vector<std::string> merges;  // "Ġ t" lines, highest priority first
    std::vector<TokenType> types;     // empty: all Normal, except `<|...|>` pieces -> Control
    int bos_id = -1;
    int eos_id = -1;
    bool add_bos = false;
};

// Validate and build; errors name `source` (the file the vocabulary came from).
std::unique_ptr<Tokenizer> make_spm_tokenizer(SpmVocab vocab, const std::string& source);
std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeVocab vocab, const std::string& source);

}  // namespace ps
