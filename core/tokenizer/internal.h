// Pieces shared by the SentencePiece-style and the GPT-2 tokenizers (not a public interface):
// vocabulary checks, a piece-to-id map with string_view lookup, and the pair-merging loop.
#pragma once

#include <cstddef>
#include <optional>
#include <queue>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace ps::detail {

// Hash and equality that let an unordered_map<std::string, int> be searched with a
// string_view, so looking up a substring of the text allocates nothing.
struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using PieceMap = std::unordered_map<std::string, int, StringHash, std::equal_to<>>;

// "'abc'" for messages, with control characters shown as \xNN.
std::string quoted_piece(std::string_view piece);

// Checks what every vocabulary needs (non-empty, one valid type per piece, unique pieces,
// special ids in range) and returns the piece -> id map. Errors name `source`.
PieceMap check_vocab(const std::vector<std::string>& pieces, const std::vector<TokenType>& types,
                     int bos_id, int eos_id, bool add_bos, const std::string& source);

// Throws ps::Error unless 0 <= id < vocab_size.
void check_id(int id, int vocab_size);

// The symbols of a word are adjacent byte ranges of `text`. Repeatedly merge the adjacent pair
// with the lowest rank (ties: the leftmost pair) until no pair has a rank; `pair_rank(left,
// right)` returns the rank of merging two adjacent symbols, or nothing if they don't merge.
// A priority queue keeps this O(n log n), as in llama.cpp's tokenizers.
template <class PairRank>
std::vector<std::string_view> merge_symbols(std::string_view text,
                                            const std::vector<size_t>& lengths,
                                            PairRank pair_rank) {
    struct Symbol {
        size_t begin, size;
        int prev, next;
    };
    struct Candidate {
        double rank;
        int left;
        size_t size;  // of both symbols when queued: differs later if either has grown
        bool operator>(const Candidate& o) const {
            return rank > o.rank || (rank == o.rank && left > o.left);
        }
    };
    std::vector<Symbol> symbols;
    size_t begin = 0;
    for (size_t len : lengths) {
        const int i = static_cast<int>(symbols.size());
        symbols.push_back({begin, len, i - 1, i + 1});
        begin += len;
    }
    if (!symbols.empty()) symbols.back().next = -1;

    const auto view = [&](const Symbol& s) { return text.substr(s.begin, s.size); };
    std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
    const auto try_pair = [&](int left) {
        if (left < 0 || symbols[left].next < 0) return;
        const Symbol& l = symbols[left];
        const Symbol& r = symbols[l.next];
        if (std::optional<double> rank = pair_rank(view(l), view(r)))
            queue.push({*rank, left, l.size + r.size});
    };
    for (int i = 0; i + 1 < static_cast<int>(symbols.size()); ++i) try_pair(i);

    while (!queue.empty()) {
        const Candidate c = queue.top();
        queue.pop();
        Symbol& l = symbols[c.left];
        // Symbols only grow, so a queued pair is current iff both still have their sizes.
        if (l.size == 0 || l.next < 0 || l.size + symbols[l.next].size != c.size) continue;
        Symbol& r = symbols[l.next];
        l.size += r.size;
        r.size = 0;
        l.next = r.next;
        if (l.next >= 0) symbols[l.next].prev = c.left;
        try_pair(l.prev);
        try_pair(c.left);
    }

    std::vector<std::string_view> out;
    for (int i = symbols.empty() ? -1 : 0; i >= 0; i = symbols[i].next)
        out.push_back(view(symbols[i]));
    return out;
}

// GPT-2's pre-tokenization of `text` into words (byte ranges of `text`); the BPE tokenizer and
// the BPE trainer both use it, so a trained vocabulary splits text exactly as it will be encoded:
// 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
// Throws ps::Error("invalid UTF-8 at byte N").
std::vector<std::string_view> gpt2_split_words(std::string_view text);

}  // namespace ps::detail
