// Hard strings through Llama 3's and Qwen2's pre-tokenizer patterns. Each expected split is
// worked out by hand from the pattern, trying its alternatives in order at each position as
// Oniguruma (Hugging Face tokenizers) does; the comment of each case says why. With Llama 3's
// real tokenizer.json the ids are checked too: under ignore_merges a word that is in the
// vocabulary is that token, so the expected id is the test's own vocabulary lookup.
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <array>
#include <map>
#include <nlohmann/json.hpp>

#include "core/formats/tokenizer_files.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "tests/support/tiny_fixtures.h"
#include "tests/support/tokenizer_json_writer.h"
#include "tests/support/tokenizer_vectors.h"

using json = nlohmann::json;
using Pieces = std::vector<std::string>;

namespace {

const char* const kLlama3 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// Qwen2 / Qwen2.5 / Qwen3: the same but \p{N} alone.
const char* const kQwen2 =
    "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
    "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

struct Case {
    const char* why;
    std::string text;
    Pieces llama3;
};

// Alternatives, numbered: 1 contraction (any case), 2 [^\r\n\p{L}\p{N}]?\p{L}+, 3 \p{N}{1,3},
// 4 ' ?[^\s\p{L}\p{N}]+[\r\n]*', 5 \s*[\r\n]+, 6 \s+(?!\S), 7 \s+.
const std::vector<Case>& cases() {
    static const std::vector<Case> c = {
        {"3: digits in threes from the left", "1234567", {"123", "456", "7"}},
        {"1 is case-insensitive: 'T and 'LL split off; 2 takes ' I' (space as its optional "
         "non-letter)",
         "DON'T I'LL",
         {"DON", "'T", " I", "'LL"}},
        {"2: Han characters are letters (Lo), a run with its leading space",
         "hello 世界",
         {"hello", " 世界"}},
        {"U+0301 is a mark (Mn), not a letter: 2 stops before it, 4 takes it (no normalizer)",
         "Cafe\u0301",
         {"Cafe", "\u0301"}},
        {"emoji (So) and ZWJ (Cf) are neither letters, digits nor space: one run of 4, with the "
         "optional space",
         "hi \U0001F468\u200D\U0001F469\u200D\U0001F467",
         {"hi", " \U0001F468\u200D\U0001F469\u200D\U0001F467"}},
        {"5: \\s*[\\r\\n]+ takes CR LF together", "a\r\nb", {"a", "\r\n", "b"}},
        {"4: punctuation takes the line break after it", "end.\r\nNext", {"end", ".\r\n", "Next"}},
        {"2: a tab is a [^\\r\\n\\p{L}\\p{N}], so it leads the word", "a\tb", {"a", "\tb"}},
        {"6: of two tabs the first is white space not followed by \\S; the second leads b",
         "a\t\tb",
         {"a", "\t", "\tb"}},
        {"2: a no-break space leads the word like a space", "a\u00A0b", {"a", "\u00A0b"}},
        {"6 with \\s as Unicode White_Space: U+000B counts as space (ICU's own \\s does not "
         "include it, which would give 4 the run \\x0B\\x0B)",
         "a\x0B\x0B"
         "b",
         {"a", "\x0B",
          "\x0B"
          "b"}},
        {"7: a space before a digit: 2, 3, 4 and 6 fail there, \\s+ takes it",
         "x 1234",
         {"x", " ", "123", "4"}},
        {"3 then 2: digits and letters part", "abc123def", {"abc", "123", "def"}},
        {"6 leaves the last space of a run for the next word (2)", "a   b", {"a", "  ", " b"}},
        {"special tokens are found before the regex runs, the text between them is split alone",
         "<|begin_of_text|>Hi <|eot_id|>",
         {"<|begin_of_text|>", "Hi", " ", "<|eot_id|>"}},
    };
    return c;
}

json llama3_like_pre(const char* pattern) {
    return {{"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Split"},
               {"pattern", {{"Regex", pattern}}},
               {"behavior", "Isolated"},
               {"invert", false}},
              {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
}

// The small fixture vocabulary with Llama 3's two special tokens of the cases.
std::unique_ptr<ps::Tokenizer> small(const char* pattern) {
    ps::BpeVocab v = ps::test::small_bpe_vocab();
    ps::test::TokenizerJsonParts parts;
    parts.pre_tokenizer = llama3_like_pre(pattern);
    for (const char* special : {"<|begin_of_text|>", "<|eot_id|>"}) {
        v.pieces.push_back(special);
        parts.added_tokens.push_back({{"id", v.pieces.size() - 1},
                                      {"content", special},
                                      {"special", true},
                                      {"normalized", false}});
    }
    QTemporaryDir dir;
    ps::test::write_byte_level_tokenizer_json(dir.path().toStdString(), v, parts);
    return ps::load_hf_tokenizer(dir.path().toStdString());
}

// GPT-2's bytes_to_unicode, written again here: printable Latin-1 bytes are themselves, the
// other 68 are U+0100.. in byte order.
std::string byte_level_spelling(const std::string& raw) {
    std::array<char32_t, 256> map{};
    char32_t next = 256;
    for (int b = 0; b < 256; ++b) {
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        map[b] = printable ? char32_t(b) : next++;
    }
    std::string out;
    for (unsigned char b : raw) {
        const char32_t cp = map[b];
        if (cp < 0x80) {
            out += char(cp);
        } else {
            out += char(0xC0 | (cp >> 6));
            out += char(0x80 | (cp & 0x3F));
        }
    }
    return out;
}

}  // namespace

class TokenizerSplitsTest : public QObject {
    Q_OBJECT

  private slots:
    void llama3Splits() {
        const auto tok = small(kLlama3);
        for (const Case& c : cases()) QVERIFY2(tok->pre_tokenize(c.text) == c.llama3, c.why);
    }

    void qwen2Splits() {
        const auto tok = small(kQwen2);
        // \p{N} alone: every digit its own word, in runs and after letters.
        QCOMPARE(tok->pre_tokenize("1234567"), (Pieces{"1", "2", "3", "4", "5", "6", "7"}));
        QCOMPARE(tok->pre_tokenize("abc123"), (Pieces{"abc", "1", "2", "3"}));
        // Everything without digits splits as in Llama 3.
        for (const Case& c : cases())
            if (c.text.find_first_of("0123456789") == std::string::npos)
                QVERIFY2(tok->pre_tokenize(c.text) == c.llama3, c.why);
    }

    // The real Llama 3 tokenizer: the same splits, and ids by vocabulary lookup.
    void llama3RealFileSplitsAndIds() {
        PS_REQUIRE_SHARED(dir, "tokenizers/llama3");
        const auto tok = ps::load_hf_tokenizer(dir);
        const json j = json::parse(ps::test::read_whole_file(dir + "/tokenizer.json"));
        const json& vocab = j["model"]["vocab"];
        std::map<std::string, int> specials;
        for (const json& t : j["added_tokens"]) specials[t["content"]] = t["id"];
        int checked = 0;
        for (const Case& c : cases()) {
            QVERIFY2(tok->pre_tokenize(c.text) == c.llama3, c.why);
            std::vector<int> expected;
            bool all_known = true;
            for (const std::string& piece : c.llama3) {
                if (specials.contains(piece)) {
                    expected.push_back(specials[piece]);
                } else if (const auto it = vocab.find(byte_level_spelling(piece));
                           it != vocab.end()) {
                    expected.push_back(it->get<int>());
                } else {
                    all_known = false;  // merged from smaller tokens: not derivable by lookup
                }
            }
            if (!all_known) continue;
            QVERIFY2(tok->encode(c.text) == expected, c.why);
            ++checked;
        }
        qInfo("ids checked by vocabulary lookup for %d of %zu cases", checked, cases().size());
        QVERIFY(checked >= 8);
        // <|begin_of_text|> inside a prompt is the special token, not 7 pieces of text.
        const std::vector<int> ids = tok->encode("Say <|begin_of_text|> now");
        QVERIFY(std::find(ids.begin(), ids.end(), specials["<|begin_of_text|>"]) != ids.end());
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TokenizerSplitsTest)
#include "test_tokenizer_splits.moc"
