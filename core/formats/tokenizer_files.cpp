// Reading tokenizers from files: llama2.c's tokenizer.bin and Hugging Face directories
// (tokenizer.json, or vocab.json + merges.txt). Every length a file claims is checked against
// the file before it is used, and every JSON field's type before it is read.
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>

#include "core/error.h"
#include "core/formats/json_limits.h"
#include "core/formats/tokenizer_files.h"
#include "core/formats/tokenizer_json.h"

namespace ps {

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) fail(path, std::string("cannot open: ") + std::strerror(errno));
    std::ostringstream data;
    data << in.rdbuf();
    if (in.bad()) fail(path, "read error");
    return std::move(data).str();
}

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
        s.replace(pos, from.size(), to);
    return s;
}

const std::string kSpace = "\xE2\x96\x81";  // "▁"

// ---- llama2.c tokenizer.bin ----

// Reads little-endian fields in order, checking each against the bytes left.
struct BinReader {
    const std::string& data;
    const std::string& path;
    size_t pos = 0;

    void need(size_t n, const std::string& field) const {
        if (n > data.size() - pos)
            fail(path, field + " at byte " + std::to_string(pos) + " needs " + std::to_string(n) +
                           " bytes, but the file ends at byte " + std::to_string(data.size()) +
                           " (truncated?)");
    }
    int32_t i32(const std::string& field) {
        int32_t v;
        need(4, field);
        std::memcpy(&v, data.data() + pos, 4);
        pos += 4;
        return v;
    }
    float f32(const std::string& field) {
        float v;
        need(4, field);
        std::memcpy(&v, data.data() + pos, 4);
        pos += 4;
        return v;
    }
    std::string bytes(size_t n, const std::string& field) {
        need(n, field);
        std::string v = data.substr(pos, n);
        pos += n;
        return v;
    }
};

// ---- Hugging Face JSON ----

json read_json(const std::string& path) {
    // Parsed JSON takes about ten times its text: refuse what no real tokenizer file reaches.
    constexpr uintmax_t kMaxJsonBytes = uintmax_t(256) << 20;
    std::error_code ec;
    if (const uintmax_t size = fs::file_size(path, ec); !ec && size > kMaxJsonBytes)
        fail(path, "is " + std::to_string(size) + " bytes; a tokenizer's JSON file is at most " +
                       std::to_string(kMaxJsonBytes >> 20) + " MB");
    const std::string text = read_file(path);
    try {
        return json::parse(text, json_depth_limit(path));
    } catch (const json::exception& e) {  // also a number too large for a double: 1e999
        // e.what() is "[json.exception.parse_error.101] parse error at line L, column C: ..."
        std::string what = e.what();
        if (const size_t end = what.find("] "); end != std::string::npos) what.erase(0, end + 2);
        fail(path, "invalid JSON: " + what);
    }
}

const json* member(const json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

int as_id(const json& v, const std::string& path, const std::string& field) {
    if (!v.is_number_integer() || v.get<int64_t>() < 0 || v.get<int64_t>() > INT32_MAX)
        fail(path, field + " is " + v.dump() + "; expected a token id (an integer >= 0)");
    return static_cast<int>(v.get<int64_t>());
}

const std::string& as_string(const json& v, const std::string& path, const std::string& field) {
    if (!v.is_string()) fail(path, field + " is " + v.dump() + "; expected a string");
    return v.get_ref<const std::string&>();
}

// Pieces indexed by id from (piece, id) entries; ids must be 0..n-1 with no gaps.
struct IdPieces {
    std::map<int, std::string> by_id;
    const std::string& path;

    void add(int id, const std::string& piece, const std::string& field) {
        const auto [it, inserted] = by_id.emplace(id, piece);
        if (!inserted && it->second != piece)
            fail(path, field + ": id " + std::to_string(id) + " is both '" + it->second +
                           "' and '" + piece + "'; expected one piece per id");
    }
    std::vector<std::string> pieces() const {
        std::vector<std::string> out;
        for (const auto& [id, piece] : by_id) {
            if (id != static_cast<int>(out.size()))
                fail(path, "no piece has id " + std::to_string(out.size()) + "; expected ids 0.." +
                               std::to_string(by_id.size() - 1));
            out.push_back(piece);
        }
        return out;
    }
};

void add_vocab_object(IdPieces& ids, const json& vocab, const std::string& path,
                      const std::string& field) {
    if (!vocab.is_object()) fail(path, field + " is not an object; expected {piece: id, ...}");
    for (const auto& [piece, id] : vocab.items())
        ids.add(as_id(id, path, field + "['" + piece + "']"), piece, field);
}

// A merge as "a b", from either tokenizer.json form: "a b" or ["a", "b"].
std::string merge_line(const json& m, const std::string& path, size_t i) {
    const std::string field = "model.merges[" + std::to_string(i) + "]";
    if (m.is_string()) return m.get<std::string>();
    if (m.is_array() && m.size() == 2)
        return as_string(m[0], path, field) + " " + as_string(m[1], path, field);
    fail(path, field + " is " + m.dump() + "; expected \"a b\" or [\"a\", \"b\"]");
}

// BOS/EOS as tokenizer_config.json names them (or config.json numbers them).
struct SpecialTokens {
    int bos_id = -1, eos_id = -1;
    std::optional<bool> add_bos;
};

SpecialTokens read_special_tokens(const fs::path& dir, const std::vector<std::string>& pieces,
                                  const std::string& default_bos, const std::string& default_eos) {
    const auto find = [&](const std::string& piece) -> int {
        for (size_t id = 0; id < pieces.size(); ++id)
            if (pieces[id] == piece) return static_cast<int>(id);
        return -1;
    };
    SpecialTokens s{find(default_bos), find(default_eos), std::nullopt};

    const std::string config = (dir / "config.json").string();
    if (fs::exists(config)) {
        const json j = read_json(config);
        if (const json* v = member(j, "bos_token_id")) s.bos_id = as_id(*v, config, "bos_token_id");
        if (const json* v = member(j, "eos_token_id")) {
            // Some models list several end tokens; the first is the canonical one.
            const json& first = v->is_array() && !v->empty() ? (*v)[0] : *v;
            s.eos_id = as_id(first, config, "eos_token_id");
        }
    }
    const std::string tok_config = (dir / "tokenizer_config.json").string();
    if (fs::exists(tok_config)) {
        const json j = read_json(tok_config);
        for (auto [key, id] :
             {std::pair{"bos_token", &s.bos_id}, std::pair{"eos_token", &s.eos_id}}) {
            const json* v = member(j, key);
            if (!v) continue;
            const json& content = v->is_object() && member(*v, "content") ? (*v)["content"] : *v;
            const std::string& piece = as_string(content, tok_config, key);
            *id = find(piece);
            if (*id < 0)
                fail(tok_config, std::string(key) + " '" + piece + "' is not in the vocabulary");
        }
        if (const json* v = member(j, "add_bos_token")) {
            if (!v->is_boolean()) fail(tok_config, "add_bos_token is not true or false");
            s.add_bos = v->get<bool>();
        }
    }
    return s;
}

std::unique_ptr<Tokenizer> gpt2_from_files(const fs::path& dir) {
    const std::string vocab_path = (dir / "vocab.json").string();
    const std::string merges_path = (dir / "merges.txt").string();
    IdPieces ids{{}, vocab_path};
    add_vocab_object(ids, read_json(vocab_path), vocab_path, "vocab");
    BpeVocab v;
    v.pieces = ids.pieces();
    std::istringstream merges(read_file(merges_path));
    for (std::string line; std::getline(merges, line);) {
        if (!line.empty() && line.back() == '\r') line.pop_back();
        if (line.empty() || line.starts_with("#version")) continue;
        v.merges.push_back(line);
    }
    const SpecialTokens s = read_special_tokens(dir, v.pieces, "<|endoftext|>", "<|endoftext|>");
    v.bos_id = s.bos_id;
    v.eos_id = s.eos_id;
    v.add_bos = s.add_bos.value_or(false);
    return make_bpe_tokenizer(std::move(v), vocab_path + " + merges.txt");
}

// ---- tokenizer.json ----

// Whether a component tree (normalizer, pre_tokenizer, decoder; Sequences nest) has a node of
// this "type" for which `match` holds.
bool has_component(
    const json* node, const std::string& type,
    const std::function<bool(const json&)>& match = [](const json&) { return true; }) {
    if (!node) return false;
    if (node->is_object()) {
        const json* t = member(*node, "type");
        if (t && t->is_string() && t->get<std::string>() == type && match(*node)) return true;
    }
    if (node->is_object() || node->is_array())
        for (const json& child : *node)
            if (has_component(&child, type, match)) return true;
    return false;
}

bool flag(const json& node, const char* key, bool fallback) {
    const json* v = member(node, key);
    return v && v->is_boolean() ? v->get<bool>() : fallback;
}

bool is_byte_piece(const std::string& p) {
    return p.size() == 6 && p.starts_with("<0x") && p.back() == '>' &&
           std::isxdigit(static_cast<unsigned char>(p[3])) &&
           std::isxdigit(static_cast<unsigned char>(p[4]));
}

// SentencePiece-style BPE from a Hugging Face conversion (llama): merge priority comes from the
// merges' order, so a piece scores minus the rank of the first merge that forms it.
std::unique_ptr<Tokenizer> spm_from_tokenizer_json(const json& j, const json& model,
                                                   std::vector<std::string> pieces,
                                                   std::vector<TokenType> types,
                                                   const std::vector<std::string>& merges,
                                                   const std::string& path, const fs::path& dir) {
    std::map<std::string, int> ids;
    for (size_t id = 0; id < pieces.size(); ++id) ids.emplace(pieces[id], static_cast<int>(id));
    SpmVocab v;
    v.scores.assign(pieces.size(), std::numeric_limits<float>::lowest());
    for (size_t rank = 0; rank < merges.size(); ++rank) {
        const std::string& m = merges[rank];
        const size_t space = m.find(' ');
        if (space == std::string::npos || m.find(' ', space + 1) != std::string::npos)
            fail(path, "model.merges[" + std::to_string(rank) + "] '" + m +
                           "': expected two pieces separated by one space");
        const auto it = ids.find(m.substr(0, space) + m.substr(space + 1));
        if (it == ids.end())
            fail(path, "model.merges[" + std::to_string(rank) + "] '" + m +
                           "': the merged piece is not in the vocabulary");
        float& score = v.scores[it->second];
        score = std::max(score, -static_cast<float>(rank));
    }
    for (size_t id = 0; id < pieces.size(); ++id)
        if (types[id] == TokenType::Normal && is_byte_piece(pieces[id]))
            types[id] = TokenType::Byte;

    const json* normalizer = member(j, "normalizer");
    const json* pre = member(j, "pre_tokenizer");
    // The dummy prefix: a Prepend("▁") normalizer, or a Metaspace pre-tokenizer that prepends.
    v.add_space_prefix =
        has_component(normalizer, "Prepend",
                      [](const json& n) { return n.value("prepend", std::string()) == kSpace; }) ||
        has_component(pre, "Metaspace", [](const json& n) {
            const json* scheme = member(n, "prepend_scheme");
            if (scheme && scheme->is_string()) return scheme->get<std::string>() != "never";
            return flag(n, "add_prefix_space", true);
        });
    const json* unk = member(model, "unk_token");
    v.unk_id = -1;
    if (unk && unk->is_string())
        if (const auto it = ids.find(unk->get<std::string>()); it != ids.end())
            v.unk_id = it->second;
    const SpecialTokens s = read_special_tokens(dir, pieces, "<s>", "</s>");
    v.bos_id = s.bos_id;
    v.eos_id = s.eos_id;
    v.add_bos = s.add_bos.value_or(s.bos_id >= 0);
    v.pieces = std::move(pieces);
    v.types = std::move(types);
    return make_spm_tokenizer(std::move(v), path);
}

std::unique_ptr<Tokenizer> tokenizer_json(const std::string& path, const fs::path& dir) {
    const json j = read_json(path);
    const json* model = member(j, "model");
    if (!model || !model->is_object()) fail(path, "no 'model' object");
    if (const json* type = member(*model, "type"); type && *type != "BPE")
        fail(path, "model.type is " + type->dump() + "; expected \"BPE\"");
    const json* vocab = member(*model, "vocab");
    const json* merges_json = member(*model, "merges");
    if (!vocab) fail(path, "model.vocab is missing");
    if (!merges_json || !merges_json->is_array()) fail(path, "model.merges is not an array");

    IdPieces ids{{}, path};
    add_vocab_object(ids, *vocab, path, "model.vocab");
    std::map<int, bool> added;  // id -> special
    if (const json* list = member(j, "added_tokens")) {
        if (!list->is_array()) fail(path, "added_tokens is not an array");
        for (size_t i = 0; i < list->size(); ++i) {
            const json& t = (*list)[i];
            const std::string field = "added_tokens[" + std::to_string(i) + "]";
            const json* id = member(t, "id");
            const json* content = member(t, "content");
            if (!id || !content) fail(path, field + ": expected \"id\" and \"content\"");
            const int token = as_id(*id, path, field + ".id");
            ids.add(token, as_string(*content, path, field + ".content"), field);
            added[token] = flag(t, "special", false);
        }
    }
    std::vector<std::string> pieces = ids.pieces();
    std::vector<TokenType> types(pieces.size(), TokenType::Normal);
    for (const auto& [id, special] : added)
        types[id] = special ? TokenType::Control : TokenType::UserDefined;
    std::vector<std::string> merges;
    merges.reserve(merges_json->size());
    for (size_t i = 0; i < merges_json->size(); ++i)
        merges.push_back(merge_line((*merges_json)[i], path, i));

    // SentencePiece-style (llama): byte fallback, "▁" for spaces. Else GPT-2 byte-level.
    const json* normalizer = member(j, "normalizer");
    const bool spm_style = flag(*model, "byte_fallback", false) ||
                           has_component(member(j, "pre_tokenizer"), "Metaspace") ||
                           has_component(normalizer, "Replace", [](const json& n) {
                               return n.value("content", std::string()) == kSpace;
                           });
    if (spm_style)
        return spm_from_tokenizer_json(j, *model, std::move(pieces), std::move(types), merges, path,
                                       dir);
    if (!has_component(member(j, "pre_tokenizer"), "ByteLevel") &&
        !has_component(member(j, "decoder"), "ByteLevel"))
        fail(path,
             "BPE model is neither byte-level (ByteLevel) nor SentencePiece-style "
             "(byte_fallback, Metaspace); expected one of them");
    BpeVocab v;
    const SpecialTokens s = read_special_tokens(dir, pieces, "<|endoftext|>", "<|endoftext|>");
    v.pieces = std::move(pieces);
    v.types = std::move(types);
    v.merges = std::move(merges);
    read_bpe_pipeline(j, path, v);
    v.bos_id = s.bos_id;
    v.eos_id = s.eos_id;
    v.add_bos = s.add_bos.value_or(false);
    return make_bpe_tokenizer(std::move(v), path);
}

}  // namespace

std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path, int vocab_size) {
    if (vocab_size <= 0)
        fail(path, "vocab_size " + std::to_string(vocab_size) + "; expected at least 1 token");
    const std::string data = read_file(path);
    BinReader in{data, path};
    const int32_t max_len = in.i32("max_token_length");
    if (max_len <= 0 || static_cast<size_t>(max_len) > data.size())
        fail(path, "max_token_length " + std::to_string(max_len) +
                       "; expected a positive length within the file");
    // Each token takes at least 8 bytes: reject a vocabulary the file cannot hold before
    // allocating for it.
    if (static_cast<size_t>(vocab_size) > (data.size() - 4) / 8)
        fail(path, "the file's " + std::to_string(data.size()) + " bytes cannot hold " +
                       std::to_string(vocab_size) + " tokens (8 bytes at least each)");

    SpmVocab v;
    v.pieces.reserve(vocab_size);
    v.scores.reserve(vocab_size);
    v.types.reserve(vocab_size);
    for (int id = 0; id < vocab_size; ++id) {
        const std::string field = "token " + std::to_string(id);
        v.scores.push_back(in.f32(field + " score"));
        const int32_t len = in.i32(field + " length");
        if (len < 0 || len > max_len)
            fail(path, field + " length " + std::to_string(len) + " at byte " +
                           std::to_string(in.pos - 4) + "; expected 0.." + std::to_string(max_len) +
                           " (max_token_length)");
        std::string piece = in.bytes(static_cast<size_t>(len), field + " bytes");
        // llama2.c's export writes "▁" as a space and wraps <s> and </s> in newlines.
        if (id < 3) {
            piece.erase(0, piece.find_first_not_of('\n'));
            piece.erase(piece.find_last_not_of('\n') + 1);
        }
        v.pieces.push_back(replace_all(std::move(piece), " ", kSpace));
        const std::string& p = v.pieces.back();
        v.types.push_back(id < 3             ? TokenType::Control
                          : is_byte_piece(p) ? TokenType::Byte
                                             : TokenType::Normal);
    }
    // The format has no token count: bytes left over mean the tokenizer has more tokens than the
    // checkpoint's vocabulary, i.e. it belongs to another model.
    if (in.pos != data.size())
        fail(path, std::to_string(data.size() - in.pos) + " bytes follow the " +
                       std::to_string(vocab_size) +
                       " tokens of the model's vocabulary; expected the tokenizer of this model, "
                       "not of a model with a larger vocabulary");
    v.bos_id = 1;
    v.eos_id = 2;
    v.unk_id = 0;
    v.add_bos = true;
    v.add_space_prefix = true;
    return make_spm_tokenizer(std::move(v), path);
}

// The chat template as transformers finds it: chat_template.jinja, else tokenizer_config.json's
// chat_template (a string, or a list of {name, template} of which "default" is the one used).
ChatTemplate read_chat_template(const fs::path& dir) {
    ChatTemplate chat;
    const fs::path file = dir / "chat_template.jinja";
    if (fs::exists(file)) {
        chat.text = read_file(file.string());
        chat.source = file.string();
        return chat;
    }
    const std::string config = (dir / "tokenizer_config.json").string();
    if (!fs::exists(config)) return chat;
    const json j = read_json(config);
    const json* t = member(j, "chat_template");
    if (!t || t->is_null()) return chat;
    chat.source = config + ": chat_template";
    if (t->is_string()) {
        chat.text = t->get<std::string>();
    } else if (t->is_array()) {
        for (size_t i = 0; i < t->size(); ++i) {
            const json& entry = (*t)[i];
            const std::string field = "chat_template[" + std::to_string(i) + "]";
            const json* name = entry.is_object() ? member(entry, "name") : nullptr;
            const json* text = entry.is_object() ? member(entry, "template") : nullptr;
            if (!name || !text) fail(config, field + " is not {\"name\": ..., \"template\": ...}");
            if (as_string(*name, config, field + ".name") == "default") {
                chat.text = as_string(*text, config, field + ".template");
                chat.source = config + ": " + field;
            }
        }
    } else {
        fail(config, "chat_template is " + std::string(t->type_name()) +
                         "; expected a string or a list of named templates");
    }
    return chat;
}

std::unique_ptr<Tokenizer> with_chat_template(std::unique_ptr<Tokenizer> tok, const fs::path& dir) {
    tok->chat_template = read_chat_template(dir);
    if (tok->bos_id >= 0) tok->chat_template.bos_token = tok->piece(tok->bos_id);
    if (tok->eos_id >= 0) tok->chat_template.eos_token = tok->piece(tok->eos_id);
    return tok;
}

std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& dir) {
    const fs::path d(dir);
    try {
        if (fs::exists(d / "tokenizer.json"))
            return with_chat_template(tokenizer_json((d / "tokenizer.json").string(), d), d);
        if (fs::exists(d / "vocab.json") && fs::exists(d / "merges.txt"))
            return with_chat_template(gpt2_from_files(d), d);
    } catch (const json::exception& e) {  // a field of an unexpected JSON type
        fail(dir, std::string("unexpected tokenizer JSON content: ") + e.what());
    }
    fail(dir, "no tokenizer found; expected tokenizer.json, or vocab.json and merges.txt");
}

}  // namespace ps
