// tokenizer.json's normalizer and pre_tokenizer as Hugging Face tokenizers defines them
// (tokenizers/src/normalizers, src/pre_tokenizers): each supported component becomes steps of
// the byte-level BPE pipeline (core/tokenizer/pretokenize.h); anything else is refused by name.
#include "core/formats/tokenizer_json.h"

#include <cctype>

#include "core/error.h"

namespace ps {

namespace {

using nlohmann::json;

std::string shortened(const json& node) {
    std::string s = node.dump();
    return s.size() > 200 ? s.substr(0, 200) + "..." : s;
}

const json* member(const json& object, const char* key) {
    if (!object.is_object()) return nullptr;
    const auto it = object.find(key);
    return it == object.end() || it->is_null() ? nullptr : &*it;
}

bool flag(const json& node, const char* key, bool fallback, const std::string& path,
          const std::string& field) {
    const json* v = member(node, key);
    if (!v) return fallback;
    if (!v->is_boolean())
        fail(path, field + "." + key + " is " + shortened(*v) + "; expected true or false");
    return v->get<bool>();
}

std::string text_of(const json& node, const char* key, const std::string& path,
                    const std::string& field) {
    const json* v = member(node, key);
    if (!v || !v->is_string())
        fail(path, field + "." + key + " is " + (v ? shortened(*v) : std::string("missing")) +
                       "; expected a string");
    return v->get<std::string>();
}

std::string type_of(const json& node, const std::string& path, const std::string& field) {
    if (!node.is_object()) fail(path, field + " is " + shortened(node) + "; expected an object");
    return text_of(node, "type", path, field);
}

// A Split / Replace "pattern": {"String": s} (literal text) or {"Regex": r}. Returns the regex.
std::string pattern_of(const json& node, const std::string& path, const std::string& field,
                       bool* is_regex = nullptr) {
    const json* p = member(node, "pattern");
    if (p && p->is_object()) {
        if (const json* r = member(*p, "Regex"); r && r->is_string()) {
            if (is_regex) *is_regex = true;
            return r->get<std::string>();
        }
        if (const json* s = member(*p, "String"); s && s->is_string()) {
            if (is_regex) *is_regex = false;
            return s->get<std::string>();
        }
    }
    fail(path, field + ".pattern is " + (p ? shortened(*p) : std::string("missing")) +
                   "; expected {\"String\": ...} or {\"Regex\": ...}");
}

SplitBehavior behavior_of(const json& node, const std::string& path, const std::string& field,
                          SplitBehavior fallback) {
    const json* b = member(node, "behavior");
    if (!b) return fallback;
    const std::string name = b->is_string() ? b->get<std::string>() : b->dump();
    for (auto [n, v] : {std::pair{"Removed", SplitBehavior::Removed},
                        std::pair{"Isolated", SplitBehavior::Isolated},
                        std::pair{"MergedWithPrevious", SplitBehavior::MergedWithPrevious},
                        std::pair{"MergedWithNext", SplitBehavior::MergedWithNext},
                        std::pair{"Contiguous", SplitBehavior::Contiguous}})
        if (name == n) return v;
    fail(path, field + ".behavior '" + name +
                   "' is unknown; expected Removed, Isolated, MergedWithPrevious, "
                   "MergedWithNext or Contiguous");
}

PreTokenizerStep regex_step(std::string pattern, SplitBehavior behavior, bool invert = false) {
    return {PreTokenizerStep::Kind::Regex, std::move(pattern), behavior, invert};
}

void read_pre_tokenizer(const json& node, const std::string& path, const std::string& field,
                        std::vector<PreTokenizerStep>& out, int depth) {
    if (depth > 8) fail(path, field + ": pre_tokenizer Sequences nest too deeply");
    const std::string type = type_of(node, path, field);
    if (type == "Sequence") {
        const json* list = member(node, "pretokenizers");
        if (!list || !list->is_array())
            fail(path, field + ".pretokenizers is not an array; expected a list of pre-tokenizers");
        for (size_t i = 0; i < list->size(); ++i)
            read_pre_tokenizer((*list)[i], path,
                               field + ".pretokenizers[" + std::to_string(i) + "]", out, depth + 1);
    } else if (type == "Split") {
        bool is_regex = false;
        std::string p = pattern_of(node, path, field, &is_regex);
        if (!is_regex) p = regex_for_literal(p);
        out.push_back(regex_step(std::move(p),
                                 behavior_of(node, path, field, SplitBehavior::Isolated),
                                 flag(node, "invert", false, path, field)));
    } else if (type == "ByteLevel") {
        // Hugging Face's defaults: add_prefix_space true, use_regex true.
        if (flag(node, "add_prefix_space", true, path, field))
            out.push_back({PreTokenizerStep::Kind::PrefixSpace, {}, {}, false});
        if (flag(node, "use_regex", true, path, field))
            out.push_back({PreTokenizerStep::Kind::Gpt2, {}, {}, false});
    } else if (type == "Digits") {
        // Digits splits by Rust's char::is_numeric, i.e. \p{N}: each one alone, or runs.
        const bool individual = flag(node, "individual_digits", false, path, field);
        out.push_back(
            regex_step("\\p{N}", individual ? SplitBehavior::Isolated : SplitBehavior::Contiguous));
    } else if (type == "Whitespace") {
        out.push_back(regex_step("\\w+|[^\\w\\s]+", SplitBehavior::Removed, true));
    } else if (type == "WhitespaceSplit") {
        out.push_back(regex_step("\\s", SplitBehavior::Removed));
    } else if (type == "Punctuation") {
        // char::is_ascii_punctuation or Unicode punctuation (P*).
        out.push_back(regex_step("[\\p{P}!-/:-@\\[-`{-~]",
                                 behavior_of(node, path, field, SplitBehavior::Isolated)));
    } else {
        fail(path, field + " type '" + type +
                       "' is not supported for byte-level BPE; expected Sequence, Split, "
                       "ByteLevel, Digits, Whitespace, WhitespaceSplit or Punctuation");
    }
}

void read_normalizer(const json& node, const std::string& path, const std::string& field,
                     std::vector<NormalizerStep>& out, int depth) {
    if (depth > 8) fail(path, field + ": normalizer Sequences nest too deeply");
    const std::string type = type_of(node, path, field);
    using K = NormalizerStep::Kind;
    if (type == "Sequence") {
        const json* list = member(node, "normalizers");
        if (!list || !list->is_array())
            fail(path, field + ".normalizers is not an array; expected a list of normalizers");
        for (size_t i = 0; i < list->size(); ++i)
            read_normalizer((*list)[i], path, field + ".normalizers[" + std::to_string(i) + "]",
                            out, depth + 1);
        return;
    }
    for (auto [name, kind] :
         {std::pair{"NFC", K::NFC}, std::pair{"NFD", K::NFD}, std::pair{"NFKC", K::NFKC},
          std::pair{"NFKD", K::NFKD}, std::pair{"Lowercase", K::Lowercase}})
        if (type == name) {
            out.push_back({kind, {}, {}});
            return;
        }
    if (type == "Prepend") {
        out.push_back({K::Prepend, {}, text_of(node, "prepend", path, field)});
    } else if (type == "Replace") {
        bool is_regex = false;
        std::string p = pattern_of(node, path, field, &is_regex);
        out.push_back({is_regex ? K::ReplaceRegex : K::Replace, std::move(p),
                       text_of(node, "content", path, field)});
    } else if (type == "Strip") {
        NormalizerStep s{K::Strip, {}, {}};
        s.strip_left = flag(node, "strip_left", true, path, field);
        s.strip_right = flag(node, "strip_right", true, path, field);
        out.push_back(s);
    } else {
        fail(path, field + " type '" + type +
                       "' is not supported for byte-level BPE; expected Sequence, NFC, NFD, "
                       "NFKC, NFKD, Lowercase, Prepend, Replace or Strip");
    }
}

}  // namespace

std::string regex_for_literal(const std::string& text) {
    std::string out;
    for (char c : text) {
        // Every ASCII character that is not a letter or digit may be a metacharacter: escape it.
        // (Letters and digits are never escaped: "\s" would be a class.)
        const auto b = static_cast<unsigned char>(c);
        if (b < 0x80 && !std::isalnum(b)) out += '\\';
        out += c;
    }
    return out;
}

void read_bpe_pipeline(const json& j, const std::string& path, BpeVocab& v) {
    if (const json* n = member(j, "normalizer"))
        read_normalizer(*n, path, "normalizer", v.normalizer, 0);
    if (const json* p = member(j, "pre_tokenizer"))
        read_pre_tokenizer(*p, path, "pre_tokenizer", v.pre_tokenizer, 0);
    // An empty list would mean "GPT-2's pattern"; a tokenizer.json without a pre-tokenizer
    // keeps the whole text as one word.
    if (v.pre_tokenizer.empty())
        v.pre_tokenizer.push_back(regex_step("[\\s\\S]+", SplitBehavior::Isolated));

    const json& model = j.at("model");
    for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"})
        if (const json* s = member(model, key);
            s && !(s->is_string() && s->get<std::string>().empty()))
            fail(path, std::string("model.") + key + " is " + shortened(*s) +
                           "; expected none (ParamScope's BPE has no subword markers)");
    v.ignore_merges = flag(model, "ignore_merges", false, path, "model");

    if (const json* list = member(j, "added_tokens"); list && list->is_array()) {
        for (size_t i = 0; i < list->size(); ++i) {
            const json& t = (*list)[i];
            const std::string field = "added_tokens[" + std::to_string(i) + "]";
            AddedToken a;
            a.id = t.at("id").get<int>();  // checked by the caller
            a.lstrip = flag(t, "lstrip", false, path, field);
            a.rstrip = flag(t, "rstrip", false, path, field);
            a.single_word = flag(t, "single_word", false, path, field);
            v.added_tokens.push_back(a);
        }
    }
}

}  // namespace ps
