// Vocabulary checks shared by both tokenizers (see tokenizer_internal.h).
#include <cstdio>

#include "core/error.h"
#include "core/tokenizer/internal.h"
#include "core/tokenizer/unicode.h"

namespace ps::detail {

std::string quoted_piece(std::string_view piece) {
    std::string out = "'";
    for (char c : piece) {
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x20 || b == 0x7F) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02X", b);
            out += hex;
        } else {
            out += c;
        }
    }
    return out + "'";
}

namespace {

void check_special_id(const char* name, int id, int n, const std::string& source) {
    if (id == -1 || (id >= 0 && id < n)) return;
    fail(source, std::string(name) + " id " + std::to_string(id) +
                     " is out of range; expected -1 (none) or 0.." + std::to_string(n - 1));
}

}  // namespace

PieceMap check_vocab(const std::vector<std::string>& pieces, const std::vector<TokenType>& types,
                     int bos_id, int eos_id, bool add_bos, const std::string& source) {
    const int n = static_cast<int>(pieces.size());
    if (n == 0) fail(source, "the vocabulary is empty; expected at least one token");
    if (types.size() != pieces.size())
        fail(source, std::to_string(types.size()) + " token types for " + std::to_string(n) +
                         " tokens; expected one type per token");
    for (int id = 0; id < n; ++id) {
        const int t = static_cast<int>(types[id]);
        if (t < 1 || t > 6)
            fail(source, "token " + std::to_string(id) + " has type " + std::to_string(t) +
                             "; expected 1..6 (normal, unknown, control, user-defined, unused, "
                             "byte)");
    }
    PieceMap ids;
    ids.reserve(pieces.size());
    for (int id = 0; id < n; ++id) {
        const auto [it, inserted] = ids.emplace(pieces[id], id);
        if (!inserted)
            fail(source, "duplicate piece " + quoted_piece(pieces[id]) + " at ids " +
                             std::to_string(it->second) + " and " + std::to_string(id) +
                             "; expected every piece once");
    }
    check_special_id("BOS", bos_id, n, source);
    check_special_id("EOS", eos_id, n, source);
    if (add_bos && bos_id == -1) fail(source, "add_bos is set but the vocabulary has no BOS id");
    return ids;
}

void check_id(int id, int vocab_size) {
    if (id < 0 || id >= vocab_size)
        throw Error("token id " + std::to_string(id) + " is out of range; expected 0.." +
                    std::to_string(vocab_size - 1));
}

}  // namespace ps::detail

namespace ps {

std::vector<std::string> Tokenizer::pre_tokenize(std::string_view text) const {
    unicode::require_utf8(text);
    return {std::string(text)};
}

}  // namespace ps
