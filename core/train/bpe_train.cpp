// Byte-level BPE training as in GPT-2 / Hugging Face `tokenizers`: count the pre-tokenized
// words once, then repeatedly merge the most frequent adjacent pair of symbols inside them.
#include "core/train/bpe_train.h"

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "core/error.h"
#include "core/tokenizer/internal.h"
#include "core/tokenizer/unicode.h"

namespace ps {

namespace {

// GPT-2's bytes_to_unicode() order: the printable bytes ('!'..'~', '¡'..'¬', '®'..'ÿ') stand
// for themselves and come first; the 68 others map to U+0100.. in byte order. Byte b is the
// single-byte token with id order[b] and is spelled char_of[b].
struct ByteAlphabet {
    std::array<int, 256> id_of{};
    std::array<std::string, 256> char_of;
    ByteAlphabet() {
        auto printable = [](int b) {
            return (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        };
        int next_id = 0;
        for (int b = 0; b < 256; ++b)
            if (printable(b)) id_of[b] = next_id++, char_of[b] = unicode::encode(char32_t(b));
        char32_t next_char = 256;
        for (int b = 0; b < 256; ++b)
            if (!printable(b)) id_of[b] = next_id++, char_of[b] = unicode::encode(next_char++);
    }
};

const ByteAlphabet& alphabet() {
    static const ByteAlphabet a;
    return a;
}

uint64_t pair_key(int left, int right) {
    return (static_cast<uint64_t>(left) << 32) | static_cast<uint32_t>(right);
}

// Replaces every non-overlapping occurrence of (left, right), left to right, by `merged`.
void merge_pair(std::vector<int>& symbols, int left, int right, int merged) {
    size_t out = 0;
    for (size_t i = 0; i < symbols.size(); ++i) {
        if (i + 1 < symbols.size() && symbols[i] == left && symbols[i + 1] == right) {
            symbols[out++] = merged;
            ++i;
        } else {
            symbols[out++] = symbols[i];
        }
    }
    symbols.resize(out);
}

}  // namespace

BpeTrained train_bpe(const std::vector<std::string>& documents, int vocab_size) {
    if (vocab_size < 257)
        throw Error("BPE vocabulary size " + std::to_string(vocab_size) +
                    " is too small: 256 byte tokens + <|endoftext|> need 257");
    const ByteAlphabet& a = alphabet();

    // Distinct words and their counts, in a sorted map so the order never depends on hashing.
    std::map<std::string, int64_t> counts;
    for (const std::string& doc : documents)
        for (std::string_view w : detail::gpt2_split_words(doc)) ++counts[std::string(w)];
    struct Word {
        std::vector<int> symbols;
        int64_t count;
    };
    std::vector<Word> words;
    for (const auto& [text, count] : counts) {
        Word w{{}, count};
        for (unsigned char c : text) w.symbols.push_back(a.id_of[c]);
        words.push_back(std::move(w));
    }

    BpeTrained bpe;
    bpe.pieces.resize(256);
    for (int b = 0; b < 256; ++b) bpe.pieces[static_cast<size_t>(a.id_of[b])] = a.char_of[b];
    // A pair whose concatenation is already a piece (reached by other merges) is skipped:
    // vocab.json maps each piece string to one id, so a second id could never be loaded.
    std::set<std::string> known(bpe.pieces.begin(), bpe.pieces.end());
    std::set<uint64_t> skipped;
    while (bpe.vocab_size() < vocab_size - 1) {
        std::unordered_map<uint64_t, int64_t> pairs;
        for (const Word& w : words)
            for (size_t i = 0; i + 1 < w.symbols.size(); ++i)
                pairs[pair_key(w.symbols[i], w.symbols[i + 1])] += w.count;
        uint64_t best = 0;
        int64_t best_count = 0;
        for (const auto& [key, count] : pairs)
            if ((count > best_count || (count == best_count && key < best)) && !skipped.count(key))
                best = key, best_count = count;
        if (best_count < 2) break;  // nothing left worth a token
        const int left = static_cast<int>(best >> 32), right = static_cast<int>(best & 0xffffffffu);
        const std::string piece =
            bpe.pieces[static_cast<size_t>(left)] + bpe.pieces[static_cast<size_t>(right)];
        if (!known.insert(piece).second) {
            skipped.insert(best);
            continue;
        }
        const int merged = bpe.vocab_size();
        for (Word& w : words) merge_pair(w.symbols, left, right, merged);
        bpe.merges.emplace_back(left, right);
        bpe.pieces.push_back(piece);
    }
    bpe.eot_id = bpe.vocab_size();
    bpe.pieces.push_back("<|endoftext|>");
    return bpe;
}

std::vector<int> BpeTrained::encode_word(std::string_view word) {
    if (rank_.empty())
        for (size_t i = 0; i < merges.size(); ++i)
            rank_[pair_key(merges[i].first, merges[i].second)] = static_cast<int>(i);
    std::vector<int> symbols;
    for (unsigned char c : word) symbols.push_back(alphabet().id_of[c]);
    // As GPT-2's bpe(): merge the lowest-ranked pair present, everywhere, until none is left.
    while (symbols.size() > 1) {
        int best = -1;
        for (size_t i = 0; i + 1 < symbols.size(); ++i) {
            auto it = rank_.find(pair_key(symbols[i], symbols[i + 1]));
            if (it != rank_.end() && (best < 0 || it->second < best)) best = it->second;
        }
        if (best < 0) break;
        const auto [left, right] = merges[static_cast<size_t>(best)];
        merge_pair(symbols, left, right, 256 + best);
    }
    return symbols;
}

std::vector<int> BpeTrained::encode(std::string_view text) {
    std::vector<int> ids;
    for (std::string_view w : detail::gpt2_split_words(text)) {
        auto it = cache_.find(std::string(w));
        if (it == cache_.end()) it = cache_.emplace(std::string(w), encode_word(w)).first;
        ids.insert(ids.end(), it->second.begin(), it->second.end());
    }
    return ids;
}

std::string BpeTrained::decode(const std::vector<int>& ids) const {
    // Invert the byte alphabet: each piece is a sequence of byte characters.
    std::map<std::string, char> byte_of;
    for (int b = 0; b < 256; ++b) byte_of[alphabet().char_of[b]] = static_cast<char>(b);
    std::string out;
    for (int id : ids) {
        if (id == eot_id) continue;
        const std::string& piece = pieces.at(static_cast<size_t>(id));
        for (size_t pos = 0; pos < piece.size();) {
            const size_t len = unicode::sequence_length(piece, pos);
            out += byte_of.at(piece.substr(pos, len));
            pos += len;
        }
    }
    return out;
}

void BpeTrained::write(const std::string& dir) const {
    nlohmann::ordered_json vocab = nlohmann::ordered_json::object();
    for (size_t id = 0; id < pieces.size(); ++id) vocab[pieces[id]] = id;
    const std::filesystem::path d(dir);
    {
        std::ofstream out(d / "vocab.json", std::ios::binary);
        out << vocab.dump() << "\n";
        if (!out) fail((d / "vocab.json").string(), "cannot write");
    }
    std::ofstream out(d / "merges.txt", std::ios::binary);
    out << "#version: 0.2\n";
    for (const auto& [left, right] : merges)
        out << pieces[static_cast<size_t>(left)] << ' ' << pieces[static_cast<size_t>(right)]
            << '\n';
    if (!out) fail((d / "merges.txt").string(), "cannot write");
}

}  // namespace ps
