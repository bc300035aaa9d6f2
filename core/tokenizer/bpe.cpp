// Byte-level BPE (GPT-2, Llama 3, Qwen, ...): added tokens are found in the text, the text
// between them is normalized and split into words by the pre-tokenizer (GPT-2's pattern unless
// the vocabulary names another), each word's bytes are spelled in GPT-2's printable byte
// alphabet ("Ġ" for a space), and adjacent symbols are merged by the rank of their merge rule
// (earliest rule first) until none applies.
#include <array>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "core/error.h"
#include "core/tokenizer/internal.h"
#include "core/tokenizer/pretokenize.h"
#include "core/tokenizer/unicode.h"

namespace ps {

namespace {

// GPT-2's bytes_to_unicode(): printable Latin-1 bytes stand for themselves, the other 68
// (controls, space, 0x7F-0xA0, soft hyphen) become U+0100.. in byte order, so that every byte
// is one visible character.
std::array<char32_t, 256> bytes_to_unicode() {
    std::array<char32_t, 256> map{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        map[b] = printable ? static_cast<char32_t>(b) : next++;
    }
    return map;
}

// The pre-tokenization pattern, by hand over code points:
//   's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Alternatives are tried in order at each position, as a backtracking regex engine does.
enum class CharClass { Letter, Number, Space, Other };

CharClass classify(char32_t cp) {
    if (unicode::is_whitespace(cp)) return CharClass::Space;
    if (unicode::is_letter(cp)) return CharClass::Letter;
    if (unicode::is_number(cp)) return CharClass::Number;
    return CharClass::Other;
}

// Length of the contraction ('s 't 'm 'd 're 've 'll) at `i`, or 0.
size_t contraction_length(const std::vector<char32_t>& cps, size_t i) {
    const size_t n = cps.size();
    if (cps[i] != U'\'' || i + 1 >= n) return 0;
    const char32_t a = cps[i + 1];
    if (a == U's' || a == U't' || a == U'm' || a == U'd') return 2;
    if (i + 2 >= n) return 0;
    const char32_t b = cps[i + 2];
    if ((a == U'r' && b == U'e') || (a == U'v' && b == U'e') || (a == U'l' && b == U'l')) return 3;
    return 0;
}

// End (code point index) of the pattern's match starting at `i`.
size_t match_end(const std::vector<char32_t>& cps, const std::vector<CharClass>& cls, size_t i) {
    const size_t n = cps.size();
    if (size_t len = contraction_length(cps, i)) return i + len;
    // ' ?\p{L}+', ' ?\p{N}+', ' ?[^\s\p{L}\p{N}]+': an optional space, then a run of one class.
    const size_t j = (cps[i] == U' ' && i + 1 < n) ? i + 1 : i;
    if (cls[j] != CharClass::Space) {
        size_t end = j;
        while (end < n && cls[end] == cls[j]) ++end;
        return end;
    }
    // '\s+(?!\S)': a run of white space, less its last character when that one is followed by
    // a non-space (it then joins the next word as its leading space); else '\s+'.
    size_t end = i;
    while (end < n && cls[end] == CharClass::Space) ++end;
    return (end < n && end - i >= 2) ? end - 1 : end;
}

// The words of `text` (valid UTF-8), as byte ranges.
std::vector<std::string_view> split_words(std::string_view text) {
    std::vector<char32_t> cps;
    std::vector<size_t> offsets;  // byte offset of each code point, then text.size()
    for (size_t pos = 0; pos < text.size();) {
        const size_t len = unicode::sequence_length(text, pos);
        if (len == 0) throw Error("invalid UTF-8 at byte " + std::to_string(pos));
        cps.push_back(unicode::decode(text, pos, len));
        offsets.push_back(pos);
        pos += len;
    }
    offsets.push_back(text.size());
    std::vector<CharClass> cls;
    cls.reserve(cps.size());
    for (char32_t cp : cps) cls.push_back(classify(cp));

    std::vector<std::string_view> words;
    for (size_t i = 0; i < cps.size();) {
        const size_t end = match_end(cps, cls, i);
        words.push_back(text.substr(offsets[i], offsets[end] - offsets[i]));
        i = end;
    }
    return words;
}

// Types when a vocabulary stores none: `<|...|>` pieces (<|endoftext|>) are control tokens.
std::vector<TokenType> infer_bpe_types(const std::vector<std::string>& pieces) {
    std::vector<TokenType> types;
    types.reserve(pieces.size());
    for (const std::string& p : pieces) {
        const bool special = p.size() >= 4 && p.starts_with("<|") && p.ends_with("|>");
        types.push_back(special ? TokenType::Control : TokenType::Normal);
    }
    return types;
}

uint64_t pair_key(int left, int right) {
    return (static_cast<uint64_t>(static_cast<uint32_t>(left)) << 32) |
           static_cast<uint32_t>(right);
}

class BpeTokenizer final : public Tokenizer {
  public:
    BpeTokenizer(BpeVocab v, const std::string& source);
    std::vector<int> encode(std::string_view text) const override;
    std::vector<std::string> pre_tokenize(std::string_view text) const override;
    std::string token_bytes(int id) const override;
    std::string decode(const std::vector<int>& ids) const override;

  private:
    std::string piece_to_bytes(int id, const std::string& source) const;
    void encode_word(std::string_view word, std::vector<int>& ids) const;
    template <class Word, class Token>
    void for_each_piece(std::string_view text, Word word, Token token) const;
    static std::vector<AddedToken> default_added_tokens(const std::vector<TokenType>& types);
    void add_merge(size_t rank, const std::string& merge, const detail::PieceMap& all_ids,
                   const std::string& source);

    std::array<char32_t, 256> byte_chars_ = bytes_to_unicode();
    std::unordered_map<char32_t, uint8_t> char_bytes_;  // inverse of byte_chars_
    std::vector<std::string> bytes_;                    // token_bytes of each id
    detail::PieceMap raw_ids_;  // normal tokens by the raw bytes they stand for
    std::unordered_map<uint64_t, size_t> merge_ranks_;  // (left id, right id) -> rank
    std::optional<detail::AddedTokenMatcher> added_;
    std::optional<detail::Normalizer> normalizer_;
    std::optional<detail::PreTokenizer> pre_tokenizer_;
    bool gpt2_only_ = true;  // no normalizer, GPT-2's pattern: split with no copies
    bool ignore_merges_ = false;
};

std::vector<AddedToken> BpeTokenizer::default_added_tokens(const std::vector<TokenType>& types) {
    std::vector<AddedToken> out;
    for (size_t id = 0; id < types.size(); ++id)
        if (types[id] == TokenType::Control || types[id] == TokenType::UserDefined)
            out.push_back({static_cast<int>(id)});
    return out;
}

BpeTokenizer::BpeTokenizer(BpeVocab v, const std::string& source) {
    if (v.types.empty()) v.types = infer_bpe_types(v.pieces);
    const detail::PieceMap all_ids =
        detail::check_vocab(v.pieces, v.types, v.bos_id, v.eos_id, v.add_bos, source);
    pieces_ = std::move(v.pieces);
    types_ = std::move(v.types);
    for (int b = 0; b < 256; ++b) char_bytes_[byte_chars_[b]] = static_cast<uint8_t>(b);

    bytes_.resize(pieces_.size());
    for (int id = 0; id < vocab_size(); ++id) {
        const TokenType t = types_[id];
        if (t == TokenType::Normal || t == TokenType::Byte) {
            bytes_[id] = piece_to_bytes(id, source);
            raw_ids_.emplace(bytes_[id], id);  // unique: the byte alphabet is a bijection
        } else if (t == TokenType::UserDefined) {
            bytes_[id] = pieces_[id];  // added text, stored as itself
        }
    }
    // Every byte must have a token, so that any text can be encoded.
    for (int b = 0; b < 256; ++b)
        if (!raw_ids_.contains(std::string(1, static_cast<char>(b))))
            fail(source, "no token for byte " + std::to_string(b) + " (piece " +
                             detail::quoted_piece(unicode::encode(byte_chars_[b])) +
                             "); expected all 256 byte pieces of GPT-2's byte alphabet");
    for (size_t rank = 0; rank < v.merges.size(); ++rank)
        add_merge(rank, v.merges[rank], all_ids, source);

    for (const AddedToken& t : v.added_tokens) detail::check_id(t.id, vocab_size());
    added_.emplace(v.added_tokens.empty() ? default_added_tokens(types_) : v.added_tokens, pieces_);
    gpt2_only_ =
        v.normalizer.empty() &&
        (v.pre_tokenizer.empty() ||
         (v.pre_tokenizer.size() == 1 && v.pre_tokenizer[0].kind == PreTokenizerStep::Kind::Gpt2));
    normalizer_.emplace(std::move(v.normalizer), source);
    pre_tokenizer_.emplace(std::move(v.pre_tokenizer), source);
    ignore_merges_ = v.ignore_merges;

    kind_ = "gpt2";
    bos_id = v.bos_id;
    eos_id = v.eos_id;
    add_bos = v.add_bos;
}

// A piece spelled in the byte alphabet, back to its raw bytes.
std::string BpeTokenizer::piece_to_bytes(int id, const std::string& source) const {
    const std::string& piece = pieces_[id];
    std::string raw;
    for (size_t pos = 0; pos < piece.size();) {
        const size_t len = unicode::sequence_length(piece, pos);
        const auto it =
            len ? char_bytes_.find(unicode::decode(piece, pos, len)) : char_bytes_.end();
        if (it == char_bytes_.end())
            fail(source, "token " + std::to_string(id) + " " + detail::quoted_piece(piece) +
                             " has a character outside GPT-2's byte alphabet at byte " +
                             std::to_string(pos) + "; expected a byte-level BPE vocabulary");
        raw += static_cast<char>(it->second);
        pos += len;
    }
    return raw;
}

// One merges.txt line "Ġ t": both sides and their concatenation must be normal tokens.
void BpeTokenizer::add_merge(size_t rank, const std::string& merge, const detail::PieceMap& all_ids,
                             const std::string& source) {
    const std::string where = "merge " + std::to_string(rank) + " " + detail::quoted_piece(merge);
    const size_t space = merge.find(' ');
    if (space == std::string::npos || space == 0 || space + 1 == merge.size() ||
        merge.find(' ', space + 1) != std::string::npos)
        fail(source, where + ": expected two pieces separated by one space");
    const std::string parts[3] = {merge.substr(0, space), merge.substr(space + 1),
                                  merge.substr(0, space) + merge.substr(space + 1)};
    int ids[3];
    for (int k = 0; k < 3; ++k) {
        const auto it = all_ids.find(parts[k]);
        if (it == all_ids.end())
            fail(source, where + ": " + detail::quoted_piece(parts[k]) +
                             " is not in the vocabulary; expected merges of known pieces");
        const TokenType t = types_[it->second];
        if (t != TokenType::Normal && t != TokenType::Byte)
            fail(source, where + ": " + detail::quoted_piece(parts[k]) +
                             " is a special token; expected merges of normal pieces");
        ids[k] = it->second;
    }
    merge_ranks_.emplace(pair_key(ids[0], ids[1]), rank);  // a repeated rule keeps its first rank
}

void BpeTokenizer::encode_word(std::string_view word, std::vector<int>& ids) const {
    if (ignore_merges_) {
        // Llama 3 (Hugging Face's ignore_merges, llama.cpp's llama-bpe): a word that is itself
        // a token is that token, even where the merges would not build it.
        if (const auto it = raw_ids_.find(word); it != raw_ids_.end()) {
            ids.push_back(it->second);
            return;
        }
    }
    // The ids of the symbols being merged are looked up by their raw bytes.
    const auto pair_rank = [&](std::string_view left,
                               std::string_view right) -> std::optional<double> {
        const auto l = raw_ids_.find(left), r = raw_ids_.find(right);
        if (l == raw_ids_.end() || r == raw_ids_.end()) return std::nullopt;
        const auto it = merge_ranks_.find(pair_key(l->second, r->second));
        if (it == merge_ranks_.end()) return std::nullopt;
        return static_cast<double>(it->second);
    };
    const std::vector<size_t> single_bytes(word.size(), 1);
    for (std::string_view symbol : detail::merge_symbols(word, single_bytes, pair_rank)) {
        // Single bytes have tokens (checked when built) and merge results are tokens.
        ids.push_back(raw_ids_.find(symbol)->second);
    }
}

// Calls word(bytes) for each word of `text` to merge and token(id) for each added token.
template <class Word, class Token>
void BpeTokenizer::for_each_piece(std::string_view text, Word word, Token token) const {
    unicode::require_utf8(text);
    for (const detail::AddedTokenMatcher::Fragment& f : added_->split(text)) {
        if (f.id >= 0) {
            token(f);
        } else if (gpt2_only_) {
            for (std::string_view w : split_words(f.text)) word(w);
        } else {
            const std::string normalized =
                normalizer_->empty() ? std::string(f.text) : normalizer_->apply(f.text);
            for (const std::string& w : pre_tokenizer_->split(normalized)) word(w);
        }
    }
}

std::vector<int> BpeTokenizer::encode(std::string_view text) const {
    std::vector<int> ids;
    for_each_piece(
        text, [&](std::string_view w) { encode_word(w, ids); },
        [&](const detail::AddedTokenMatcher::Fragment& f) { ids.push_back(f.id); });
    return ids;
}

std::vector<std::string> BpeTokenizer::pre_tokenize(std::string_view text) const {
    std::vector<std::string> out;
    for_each_piece(
        text, [&](std::string_view w) { out.emplace_back(w); },
        [&](const detail::AddedTokenMatcher::Fragment& f) { out.emplace_back(f.text); });
    return out;
}

std::string BpeTokenizer::token_bytes(int id) const {
    detail::check_id(id, vocab_size());
    return bytes_[id];
}

std::string BpeTokenizer::decode(const std::vector<int>& ids) const {
    std::string text;
    for (int id : ids) text += token_bytes(id);
    return text;
}

}  // namespace

std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeVocab vocab, const std::string& source) {
    return std::make_unique<BpeTokenizer>(std::move(vocab), source);
}

namespace detail {
std::vector<std::string_view> gpt2_split_words(std::string_view text) {
    return split_words(text);
}
}  // namespace detail

}  // namespace ps
