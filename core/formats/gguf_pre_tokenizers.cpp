// The regex lists of llama.cpp's llm_tokenizer_bpe (src/llama-vocab.cpp, the
// LLAMA_VOCAB_PRE_TYPE_* cases), copied verbatim, and the names that select them. llama.cpp
// applies the regexes in turn, each to every piece the ones before it produced, keeping both the
// matches and the text between them: that is a Split with behavior Isolated.
//
// Where llama.cpp rewrote a Hugging Face pattern for std::regex (the (?i:...) group spelled
// '[sS]..., \p{Lu} spelled ((?=[\p{L}])([^a-z])) for gpt-4o), its rewrite is used, since that is
// what llama.cpp computes. Its GPT-2 regex lacks the final |\s+ of GPT-2's own; llama.cpp keeps
// the unmatched white space as a piece anyway, which is what \s+ would match, so the hand-written
// GPT-2 splitter (core/tokenizer/bpe.cpp) stands in for it.
#include "core/formats/gguf_pre_tokenizers.h"

#include <vector>

namespace ps {

namespace {

const char* const kGpt2 =
    "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)";

struct Entry {
    std::vector<const char*> names;
    std::vector<const char*> regexes;
    bool ignore_merges = false;
    bool add_bos = false;
};

const std::vector<Entry>& entries() {
    static const std::vector<Entry> table = {
        // LLAMA_VOCAB_PRE_TYPE_DEFAULT: also what llama.cpp uses when the key is missing.
        {{"default"}, {"[\\p{P}\\$\\+<=>\\^~\\|]+", kGpt2, "\\p{N}+", "[0-9][0-9][0-9]"}},
        // LLAMA_VOCAB_PRE_TYPE_GPT2
        {{"gpt-2", "phi-2", "mpt", "olmo"}, {kGpt2}},
        // LLAMA_VOCAB_PRE_TYPE_LLAMA3: ignore_merges and add_bos set as llama.cpp does.
        {{"llama-bpe", "llama3", "llama-v3", "falcon3"},
         {"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
          "\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"},
         true,
         true},
        // LLAMA_VOCAB_PRE_TYPE_QWEN2: as Llama 3 but digits one at a time.
        {{"qwen2", "deepseek-r1-qwen", "megrez", "stablelm2"},
         {"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|"
          "\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
        // LLAMA_VOCAB_PRE_TYPE_SMOLLM (shared with STARCODER, REFACT, COMMAND_R, ...).
        {{"smollm", "starcoder", "refact", "command-r", "codeshell", "exaone", "minerva-7b"},
         {"\\p{N}", kGpt2}},
        // LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM (one line: clang-format would cut its UTF-8 string)
        // clang-format off
        {{"deepseek-llm"},
         {"[\r\n]",
          "\\s?[A-Za-zµÀ-ÖØ-öø-ƺƼ-ƿǄ-ʓʕ-ʯͰ-ͳͶͷͻ-ͽͿΆΈ-ΊΌΎ-ΡΣ-ϵϷ-ҁҊ-ԯԱ-ՖႠ-ჅᎠ-Ᏽᏸ-ᏽᲐ-ᲺᲽ-Ჿᴀ-ᴫᵫ-ᵷᵹ-ᶚḀ-ἕἘ-Ἕἠ-ὅὈ-Ὅὐ-ὗὙὛὝὟ-ώᾀ-ᾴᾶ-ᾼιῂ-ῄῆ-ῌῐ-ΐῖ-Ίῠ-Ῥῲ-ῴῶ-ῼℂℇℊ-ℓℕℙ-ℝℤΩℨK-ℭℯ-ℴℹℼ-ℿⅅ-ⅉⅎↃↄⰀ-ⱻⱾ-ⳤⳫ-ⳮⳲⳳꙀ-ꙭꚀ-ꚛꜢ-ꝯꝱ-ꞇꞋ-ꞎꭰ-ꮿﬀ-ﬆﬓ-ﬗＡ-Ｚａ-ｚ𐐀-𐑏𐒰-𐓓𐓘-𐓻𐲀-𐲲𐳀-𐳲𑢠-𑣟𞤀-𞥃]+",
          "\\s?[!-/:-~！-／：-～‘-‟　-。]+", "\\s+$", "[一-龥ࠀ-一가-퟿]+", "\\p{N}+"}},
        // clang-format on
        // LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_CODER
        {{"deepseek-coder"},
         {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", "[一-龥ࠀ-一가-퟿]+", "\\p{N}"}},
        // LLAMA_VOCAB_PRE_TYPE_GPT4O
        {{"gpt-4o", "llama4"},
         {"[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))*((?=[\\p{L}])([^A-Z]))+(?:'[sS]|'[tT]|'[rR]"
          "["
          "eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|[^\\r\\n\\p{L}\\p{N}]?((?=[\\p{L}])([^a-z]))+((?=["
          "\\p{L}])([^A-Z]))*(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?|\\p{N}{1,3}"
          "| "
          "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
    };
    return table;
}

}  // namespace

std::optional<LlamaCppPreTokenizer> llama_cpp_pre_tokenizer(const std::string& name) {
    for (const Entry& e : entries())
        for (const char* n : e.names)
            if (name == n) {
                LlamaCppPreTokenizer p;
                for (const char* r : e.regexes) {
                    if (std::string(r) == kGpt2)
                        p.steps.push_back({PreTokenizerStep::Kind::Gpt2, {}, {}, false});
                    else
                        p.steps.push_back(
                            {PreTokenizerStep::Kind::Regex, r, SplitBehavior::Isolated, false});
                }
                p.ignore_merges = e.ignore_merges;
                p.add_bos = e.add_bos;
                return p;
            }
    return std::nullopt;
}

std::string llama_cpp_pre_tokenizer_names() {
    std::string out;
    for (const Entry& e : entries())
        for (const char* n : e.names) out += (out.empty() ? "" : ", ") + std::string(n);
    return out;
}

}  // namespace ps
