// SentencePiece-style BPE, as llama.cpp's llm_tokenizer_spm and llama2.c's encode(): the text
// gets a "▁" dummy prefix and its spaces become "▁"; starting from single characters, the
// adjacent pair whose concatenation is a vocabulary piece with the highest score is merged
// until no pair is a piece; characters that are not pieces fall back to <0xNN> byte tokens.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>
#include <optional>

#include "core/error.h"
#include "core/tokenizer/internal.h"
#include "core/tokenizer/pretokenize.h"
#include "core/tokenizer/unicode.h"

namespace ps {

namespace {

constexpr std::string_view kSpace = "\xE2\x96\x81";  // U+2581 "▁", SentencePiece's space

// The byte of a "<0xNN>" piece, or -1.
int parse_byte_piece(std::string_view piece) {
    if (piece.size() != 6 || piece.substr(0, 3) != "<0x" || piece[5] != '>') return -1;
    int value = 0;
    for (char c : piece.substr(3, 2)) {
        int digit = -1;
        if (c >= '0' && c <= '9') digit = c - '0';
        if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
        if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
        if (digit < 0) return -1;
        value = value * 16 + digit;
    }
    return value;
}

// Types as SentencePiece assigns them when a vocabulary doesn't store any.
std::vector<TokenType> infer_spm_types(const std::vector<std::string>& pieces) {
    std::vector<TokenType> types;
    types.reserve(pieces.size());
    for (const std::string& p : pieces) {
        if (parse_byte_piece(p) >= 0)
            types.push_back(TokenType::Byte);
        else if (p == "<unk>" || p == "<s>" || p == "</s>")
            types.push_back(TokenType::Control);
        else
            types.push_back(TokenType::Normal);
    }
    return types;
}

std::string replace_all(std::string_view s, std::string_view from, std::string_view to) {
    std::string out;
    for (size_t pos = 0;;) {
        const size_t hit = s.find(from, pos);
        out.append(s.substr(pos, hit == std::string_view::npos ? s.npos : hit - pos));
        if (hit == std::string_view::npos) return out;
        out.append(to);
        pos = hit + from.size();
    }
}

class SpmTokenizer final : public Tokenizer {
  public:
    SpmTokenizer(SpmVocab v, const std::string& source);
    std::vector<int> encode(std::string_view text) const override;
    std::string token_bytes(int id) const override;
    std::string decode(const std::vector<int>& ids) const override;

  private:
    std::vector<int> encode_text(std::string_view text, bool space_prefix) const;

    std::vector<float> scores_;
    std::optional<detail::AddedTokenMatcher> special_;  // control, user-defined, unknown
    detail::PieceMap text_ids_;        // pieces that text can spell: normal and user-defined
    std::vector<std::string> bytes_;   // token_bytes of each id
    std::array<int, 256> byte_ids_{};  // <0xNN> token of each byte; all -1 without byte tokens
    bool has_byte_tokens_ = false;
    int unk_id_ = -1;
    bool add_space_prefix_ = true;
};

SpmTokenizer::SpmTokenizer(SpmVocab v, const std::string& source) {
    if (v.types.empty()) v.types = infer_spm_types(v.pieces);
    const detail::PieceMap all_ids =
        detail::check_vocab(v.pieces, v.types, v.bos_id, v.eos_id, v.add_bos, source);
    const int n = static_cast<int>(v.pieces.size());
    if (v.scores.size() != v.pieces.size())
        fail(source, std::to_string(v.scores.size()) + " scores for " + std::to_string(n) +
                         " tokens; expected one score per token");
    for (int id = 0; id < n; ++id)
        if (std::isnan(v.scores[id]))
            fail(source, "the score of token " + std::to_string(id) + " is NaN");

    // Byte fallback needs a token for each of the 256 bytes, or none at all (then unknown
    // characters become the unknown token).
    byte_ids_.fill(-1);
    int n_bytes = 0;
    for (int id = 0; id < n; ++id) {
        if (v.types[id] != TokenType::Byte) continue;
        const int b = parse_byte_piece(v.pieces[id]);
        if (b < 0)
            fail(source, "token " + std::to_string(id) + " " + detail::quoted_piece(v.pieces[id]) +
                             " has type byte; expected a piece <0xNN>");
        if (byte_ids_[b] >= 0) continue;  // "<0x0a>" and "<0x0A>": the first one counts
        byte_ids_[b] = id;
        ++n_bytes;
    }
    if (n_bytes != 0 && n_bytes != 256) {
        int missing = 0;
        while (byte_ids_[missing] >= 0) ++missing;
        char piece[16];
        std::snprintf(piece, sizeof piece, "<0x%02X>", missing);
        fail(source, "byte-fallback tokens exist for only " + std::to_string(n_bytes) +
                         " of 256 bytes (" + piece + " is missing); expected all or none");
    }
    has_byte_tokens_ = n_bytes == 256;
    if (v.unk_id != -1 && (v.unk_id < 0 || v.unk_id >= n))
        fail(source, "unknown-token id " + std::to_string(v.unk_id) +
                         " is out of range; expected -1 (none) or 0.." + std::to_string(n - 1));
    if (!has_byte_tokens_ && v.unk_id == -1)
        fail(source,
             "the vocabulary has neither byte-fallback tokens <0x00>..<0xFF> nor an "
             "unknown token; expected one of them to encode characters it lacks");

    for (const auto& [piece, id] : all_ids)
        if (v.types[id] == TokenType::Normal || v.types[id] == TokenType::UserDefined)
            text_ids_.emplace(piece, id);
    bytes_.resize(v.pieces.size());
    for (int id = 0; id < n; ++id) {
        switch (v.types[id]) {
            case TokenType::Normal:
            case TokenType::UserDefined:
                bytes_[id] = replace_all(v.pieces[id], kSpace, " ");
                break;
            case TokenType::Byte:
                bytes_[id] = std::string(1, static_cast<char>(parse_byte_piece(v.pieces[id])));
                break;
            default:
                break;  // control, unknown, unused: no text
        }
    }

    // Special tokens written in the text are those tokens, as llama.cpp tokenizes with
    // parse_special (chat templates write "<start_of_turn>") and Hugging Face matches added
    // tokens. They are matched by the text they stand for ("▁" as a space).
    std::vector<AddedToken> special;
    std::vector<std::string> special_text(v.pieces.size());
    for (int id = 0; id < n; ++id) {
        const TokenType t = v.types[id];
        if (t != TokenType::Control && t != TokenType::UserDefined && t != TokenType::Unknown)
            continue;
        special.push_back({id});
        special_text[id] = replace_all(v.pieces[id], kSpace, " ");
    }
    special_.emplace(std::move(special), special_text);

    kind_ = "spm";
    pieces_ = std::move(v.pieces);
    types_ = std::move(v.types);
    scores_ = std::move(v.scores);
    unk_id_ = v.unk_id;
    add_space_prefix_ = v.add_space_prefix;
    bos_id = v.bos_id;
    eos_id = v.eos_id;
    add_bos = v.add_bos;
}

std::vector<int> SpmTokenizer::encode(std::string_view text) const {
    unicode::require_utf8(text);
    std::vector<int> ids;
    // llama.cpp: the dummy prefix goes before text that starts the input or follows a special
    // token.
    bool after_special = true;
    for (const detail::AddedTokenMatcher::Fragment& f : special_->split(text)) {
        if (f.id >= 0) {
            ids.push_back(f.id);
            after_special = true;
            continue;
        }
        const std::vector<int> part = encode_text(f.text, add_space_prefix_ && after_special);
        ids.insert(ids.end(), part.begin(), part.end());
        after_special = false;
    }
    return ids;
}

std::vector<int> SpmTokenizer::encode_text(std::string_view text, bool space_prefix) const {
    if (text.empty()) return {};
    const std::string normalized =
        (space_prefix ? std::string(kSpace) : std::string()) + replace_all(text, " ", kSpace);

    std::vector<size_t> chars;
    for (size_t pos = 0; pos < normalized.size(); pos += chars.back())
        chars.push_back(std::max<size_t>(1, unicode::sequence_length(normalized, pos)));

    // Merge the pair whose concatenation scores highest: rank = -score.
    const auto pair_rank = [&](std::string_view left,
                               std::string_view right) -> std::optional<double> {
        const auto it = text_ids_.find(std::string_view(left.data(), left.size() + right.size()));
        if (it == text_ids_.end()) return std::nullopt;
        return -static_cast<double>(scores_[it->second]);
    };
    std::vector<int> ids;
    for (std::string_view symbol : detail::merge_symbols(normalized, chars, pair_rank)) {
        if (const auto it = text_ids_.find(symbol); it != text_ids_.end()) {
            ids.push_back(it->second);
        } else if (has_byte_tokens_) {
            for (char c : symbol) ids.push_back(byte_ids_[static_cast<unsigned char>(c)]);
        } else {
            ids.push_back(unk_id_);
        }
    }
    return ids;
}

std::string SpmTokenizer::token_bytes(int id) const {
    detail::check_id(id, vocab_size());
    return bytes_[id];
}

std::string SpmTokenizer::decode(const std::vector<int>& ids) const {
    std::string text;
    for (int id : ids) text += token_bytes(id);
    // The dummy prefix encode() added is not part of the text.
    if (add_space_prefix_ && !text.empty() && text[0] == ' ') text.erase(0, 1);
    return text;
}

}  // namespace

std::unique_ptr<Tokenizer> make_spm_tokenizer(SpmVocab vocab, const std::string& source) {
    return std::make_unique<SpmTokenizer>(std::move(vocab), source);
}

}  // namespace ps
