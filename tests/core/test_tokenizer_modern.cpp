// Modern byte-level BPE tokenizers (Llama 3, Qwen2, ...): llama.cpp's Llama 3 vectors through
// tokenizer.json and through a GGUF with tokenizer.ggml.pre = llama-bpe, tokenizer.json's
// pre-tokenizers, normalizers and added tokens on a small vocabulary (expected splits worked out
// by hand from Hugging Face tokenizers' definitions), and the refusal of bad patterns.
#include <QTemporaryDir>
#include <QtTest>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/formats/tokenizer_files.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/support/expect_error.h"
#include "tests/support/gguf_writer.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "tests/support/tiny_fixtures.h"
#include "tests/support/tokenizer_json_writer.h"
#include "tests/support/tokenizer_vectors.h"

using json = nlohmann::json;
using Pieces = std::vector<std::string>;

namespace {

json split(const std::string& kind, const std::string& pattern, const std::string& behavior,
           bool invert = false) {
    return {{"type", "Split"},
            {"pattern", {{kind, pattern}}},
            {"behavior", behavior},
            {"invert", invert}};
}

json byte_level(bool add_prefix_space, bool use_regex) {
    return {{"type", "ByteLevel"},
            {"add_prefix_space", add_prefix_space},
            {"trim_offsets", true},
            {"use_regex", use_regex}};
}

// A tokenizer.json over tiny_fixtures' small byte-level vocabulary (256 bytes, merges
// "Ġ t", "h e", "Ġt he", ..., <|endoftext|> last).
std::unique_ptr<ps::Tokenizer> small(const ps::test::TokenizerJsonParts& parts) {
    QTemporaryDir dir;
    ps::test::write_byte_level_tokenizer_json(dir.path().toStdString(), ps::test::small_bpe_vocab(),
                                              parts);
    return ps::load_hf_tokenizer(dir.path().toStdString());
}

std::unique_ptr<ps::Tokenizer> small_with_pre(const json& pre) {
    ps::test::TokenizerJsonParts parts;
    parts.pre_tokenizer = pre;
    return small(parts);
}

std::string written_json_error(const json& tokenizer_json) {
    QTemporaryDir dir;
    std::ofstream(dir.path().toStdString() + "/tokenizer.json") << tokenizer_json.dump();
    try {
        ps::load_hf_tokenizer(dir.path().toStdString());
    } catch (const ps::Error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

class TokenizerModernTest : public QObject {
    Q_OBJECT

  private slots:
    // ---- llama.cpp's Llama 3 vectors ----

    void llama3VectorsFromTokenizerJson() {
        PS_REQUIRE_SHARED(dir, "tokenizers/llama3");
        PS_REQUIRE_SHARED(inp, "tokenizers/ggml-vocab-llama-bpe.gguf.inp");
        PS_REQUIRE_SHARED(out, "tokenizers/ggml-vocab-llama-bpe.gguf.out");
        const auto tok = ps::load_hf_tokenizer(dir);
        QCOMPARE(tok->vocab_size(), 128256);
        const std::vector<ps::test::VectorCase> cases = ps::test::read_vectors(inp, out);
        QCOMPARE(int(cases.size()), 46);
        QCOMPARE(ps::test::count_matching(*tok, cases), 46);
    }

    // The same vocabulary and merges, read by the test from tokenizer.json, in a GGUF such as
    // llama.cpp's convert_hf_to_gguf.py writes for Llama 3.
    void llama3VectorsFromGguf() {
        PS_REQUIRE_SHARED(tokenizer_json, "tokenizers/llama3/tokenizer.json");
        PS_REQUIRE_SHARED(inp, "tokenizers/ggml-vocab-llama-bpe.gguf.inp");
        PS_REQUIRE_SHARED(out, "tokenizers/ggml-vocab-llama-bpe.gguf.out");
        const json j = json::parse(ps::test::read_whole_file(tokenizer_json));
        std::vector<std::string> tokens(128256);
        std::vector<int32_t> types(tokens.size(), 1);
        for (const auto& [piece, id] : j["model"]["vocab"].items())
            tokens.at(id.get<size_t>()) = piece;
        for (const json& t : j["added_tokens"]) {
            tokens.at(t["id"].get<size_t>()) = t["content"].get<std::string>();
            types.at(t["id"].get<size_t>()) = 3;  // control
        }
        std::vector<std::string> merges;
        for (const json& m : j["model"]["merges"])
            merges.push_back(m.is_string()
                                 ? m.get<std::string>()
                                 : m[0].get<std::string>() + " " + m[1].get<std::string>());
        ps::test::GgufWriter w;
        w.set_string("general.architecture", "llama");
        w.set_string("tokenizer.ggml.model", "gpt2");
        w.set_string("tokenizer.ggml.pre", "llama-bpe");
        w.set_string_array("tokenizer.ggml.tokens", tokens);
        w.set_i32_array("tokenizer.ggml.token_type", types);
        w.set_string_array("tokenizer.ggml.merges", merges);
        w.set_u32("tokenizer.ggml.bos_token_id", 128000);
        w.set_u32("tokenizer.ggml.eos_token_id", 128001);
        QTemporaryDir dir;
        const std::string path = dir.path().toStdString() + "/llama3-vocab.gguf";
        w.write(path);
        const auto tok = ps::load_gguf_tokenizer(path);
        // llama.cpp's llama-bpe adds BOS when the file does not say otherwise.
        QVERIFY(tok->add_bos);
        const std::vector<ps::test::VectorCase> cases = ps::test::read_vectors(inp, out);
        QCOMPARE(int(cases.size()), 46);
        QCOMPARE(ps::test::count_matching(*tok, cases), 46);
        // A special token's text in a prompt is that token (128000 = <|begin_of_text|>).
        QCOMPARE(tok->encode("<|begin_of_text|>").at(0), 128000);
    }

    // ---- GGUF pre-tokenizer names ----

    void ggufPreTokenizerNames() {
        const ps::BpeVocab v = ps::test::small_bpe_vocab();
        const auto gguf = [&](const char* pre) {
            ps::test::GgufWriter w;
            w.set_string("tokenizer.ggml.model", "gpt2");
            if (pre) w.set_string("tokenizer.ggml.pre", pre);
            w.set_string_array("tokenizer.ggml.tokens", v.pieces);
            w.set_string_array("tokenizer.ggml.merges", v.merges);
            static QTemporaryDir dir;
            const std::string path = dir.path().toStdString() + "/v.gguf";
            w.write(path);
            return path;
        };
        // qwen2: \p{N} alone, so digits one at a time; llama-bpe: \p{N}{1,3}.
        QCOMPARE(ps::load_gguf_tokenizer(gguf("qwen2"))->pre_tokenize("x 2024"),
                 (Pieces{"x", " ", "2", "0", "2", "4"}));
        QCOMPARE(ps::load_gguf_tokenizer(gguf("llama-bpe"))->pre_tokenize("x 2024"),
                 (Pieces{"x", " ", "202", "4"}));
        // gpt-2: ' ?\p{N}+' keeps the space and the whole run.
        QCOMPARE(ps::load_gguf_tokenizer(gguf("gpt-2"))->pre_tokenize("x 2024"),
                 (Pieces{"x", " 2024"}));
        // smollm: first every \p{N} alone, then GPT-2's regex within each piece.
        QCOMPARE(ps::load_gguf_tokenizer(gguf("smollm"))->pre_tokenize("x 2024"),
                 (Pieces{"x", " ", "2", "0", "2", "4"}));
        // default (also a missing key): punctuation runs first, then GPT-2's regex, then \p{N}+,
        // then [0-9]{3}: " 12345!" -> " 12345", "!" -> " ", "12345", "!" -> "123", "45".
        QCOMPARE(ps::load_gguf_tokenizer(gguf(nullptr))->pre_tokenize(" 12345!"),
                 (Pieces{" ", "123", "45", "!"}));
        // deepseek-coder: [\r\n] alone, \s?\p{L}+, \s?\p{P}+, CJK runs, each \p{N}.
        QCOMPARE(ps::load_gguf_tokenizer(gguf("deepseek-coder"))->pre_tokenize("a1\n b."),
                 (Pieces{"a", "1", "\n", " b", "."}));
        // deepseek-llm: [\r\n] alone; \s?[Latin, Greek, Cyrillic... letters]+ takes "Hello"
        // but not Han, so " 世界" stays a gap until the CJK-run regex cuts " " from "世界".
        QCOMPARE(ps::load_gguf_tokenizer(gguf("deepseek-llm"))->pre_tokenize("Hello 世界\n123"),
                 (Pieces{"Hello", " ", "世界", "\n", "123"}));
        // gpt-4o: a capitalised word keeps its contraction: "Don't" is one piece.
        QCOMPARE(ps::load_gguf_tokenizer(gguf("gpt-4o"))->pre_tokenize("Don't 12345"),
                 (Pieces{"Don't", " ", "123", "45"}));
        EXPECT_ERROR(ps::load_gguf_tokenizer(gguf("llama-9000")), "v.gguf", "tokenizer.ggml.pre",
                     "'llama-9000' is not supported", "llama-bpe", "qwen2", "deepseek-coder");
    }

    // ---- tokenizer.json pre-tokenizers ----

    void splitBehaviors() {
        // "a b  c" split by the string " ": parts a | _ | b | _ | _ | c (_ = a match).
        const auto with = [](const char* behavior) {
            return small_with_pre(split("String", " ", behavior))->pre_tokenize("a b  c");
        };
        QCOMPARE(with("Removed"), (Pieces{"a", "b", "c"}));
        QCOMPARE(with("Isolated"), (Pieces{"a", " ", "b", " ", " ", "c"}));
        // A match joins the part before it unless that part is itself a match.
        QCOMPARE(with("MergedWithPrevious"), (Pieces{"a ", "b ", " ", "c"}));
        // The mirror image: a match joins the part after it unless that part is a match.
        QCOMPARE(with("MergedWithNext"), (Pieces{"a", " b", " ", " c"}));
        // Neighbouring parts of the same kind become one.
        QCOMPARE(with("Contiguous"), (Pieces{"a", " ", "b", "  ", "c"}));
        // invert: the regex says what to keep; Removed drops the rest (Whitespace's trick).
        QCOMPARE(small_with_pre(split("Regex", "\\w+", "Removed", true))->pre_tokenize("hi, you"),
                 (Pieces{"hi", "you"}));
        // A String pattern is literal text: "." is a dot, not any character.
        QCOMPARE(small_with_pre(split("String", ".", "Removed"))->pre_tokenize("a.b-c"),
                 (Pieces{"a", "b-c"}));
    }

    void digitsAndByteLevel() {
        QCOMPARE(
            small_with_pre({{"type", "Digits"}, {"individual_digits", true}})->pre_tokenize("a12b"),
            (Pieces{"a", "1", "2", "b"}));
        QCOMPARE(small_with_pre({{"type", "Digits"}, {"individual_digits", false}})
                     ->pre_tokenize("a12b"),
                 (Pieces{"a", "12", "b"}));
        // ByteLevel with its own regex (GPT-2's) and add_prefix_space: " " first, then the split.
        QCOMPARE(small_with_pre(byte_level(true, true))->pre_tokenize("the cat"),
                 (Pieces{" the", " cat"}));
        // Without the prefix space and without the regex: one word, merged as a whole.
        const auto whole = small_with_pre(byte_level(false, false));
        QCOMPARE(whole->pre_tokenize("the cat"), (Pieces{"the cat"}));
        // A Sequence: Digits then ByteLevel; every piece gets its prefix space.
        const json seq = {
            {"type", "Sequence"},
            {"pretokenizers",
             {{{"type", "Digits"}, {"individual_digits", true}}, byte_level(true, false)}}};
        QCOMPARE(small_with_pre(seq)->pre_tokenize("a12"), (Pieces{" a", " 1", " 2"}));
        // Ids: "Ġthe" is formed by the merges "Ġ t" and "Ġt he" (small_bpe_vocab).
        const auto tok = small_with_pre(byte_level(true, true));
        const std::vector<int> ids = tok->encode("the");
        QCOMPARE(int(ids.size()), 1);
        QCOMPARE(tok->piece(ids[0]), std::string("\u0120the"));
    }

    // ---- normalizers ----

    void normalizers() {
        ps::test::TokenizerJsonParts parts;
        parts.pre_tokenizer = byte_level(false, true);
        // "e" + U+0301 COMBINING ACUTE composes to U+00E9 under NFC; NFKC also folds the
        // ligature U+FB01 "ﬁ" to "fi".
        parts.normalizer = {{"type", "NFC"}};
        QCOMPARE(small(parts)->pre_tokenize("cafe\u0301 \ufb01"), (Pieces{"caf\u00e9", " \ufb01"}));
        parts.normalizer = {{"type", "NFKC"}};
        QCOMPARE(small(parts)->pre_tokenize("cafe\u0301 \ufb01"), (Pieces{"caf\u00e9", " fi"}));
        // Without a normalizer GPT-2's regex cuts before the mark: U+0301 is no letter.
        parts.normalizer = nullptr;
        QCOMPARE(small(parts)->pre_tokenize("cafe\u0301"), (Pieces{"cafe", "\u0301"}));
        // Sequence of Replace, Prepend, Lowercase, Strip (SentencePiece-style conversions).
        parts.pre_tokenizer = byte_level(false, false);
        parts.normalizer = {
            {"type", "Sequence"},
            {"normalizers",
             {{{"type", "Strip"}, {"strip_left", true}, {"strip_right", true}},
              {{"type", "Lowercase"}},
              {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "_"}},
              {{"type", "Replace"}, {"pattern", {{"Regex", "[0-9]+"}}}, {"content", "#"}},
              {{"type", "Prepend"}, {"prepend", ">"}}}}};
        QCOMPARE(small(parts)->pre_tokenize("  Hello World 42 "), (Pieces{">hello_world_#"}));
        parts.normalizer = {{"type", "BertNormalizer"}};
        EXPECT_ERROR(small(parts), "tokenizer.json", "normalizer type 'BertNormalizer'",
                     "not supported");
    }

    // ---- added tokens ----

    void addedTokens() {
        ps::test::TokenizerJsonParts parts;
        parts.pre_tokenizer = byte_level(false, true);
        const int eot = int(ps::test::small_bpe_vocab().pieces.size()) - 1;  // <|endoftext|>
        json token = {{"id", eot},          {"content", "<|endoftext|>"},
                      {"special", true},    {"lstrip", false},
                      {"rstrip", false},    {"single_word", false},
                      {"normalized", false}};
        parts.added_tokens = json::array({token});
        // Found before pre-tokenization: the text around it is split on its own.
        QCOMPARE(small(parts)->pre_tokenize("a <|endoftext|>b"),
                 (Pieces{"a", " ", "<|endoftext|>", "b"}));
        QCOMPARE(small(parts)->encode("<|endoftext|>"), (std::vector<int>{eot}));
        // lstrip / rstrip: the token takes the white space beside it.
        parts.added_tokens[0]["lstrip"] = true;
        parts.added_tokens[0]["rstrip"] = true;
        QCOMPARE(small(parts)->pre_tokenize("a  <|endoftext|> b"),
                 (Pieces{"a", "  <|endoftext|> ", "b"}));
        // single_word: not inside a word, so "x<|endoftext|>" stays text.
        parts.added_tokens[0] = token;
        parts.added_tokens[0]["single_word"] = true;
        QCOMPARE(int(small(parts)->encode("x<|endoftext|>").size()), 1 + 13);
        QCOMPARE(small(parts)->encode("x <|endoftext|>").back(), eot);
    }

    // Merges as ["a", "b"] pairs (tokenizers >= 0.20) give the same ids as "a b" strings.
    void pairMerges() {
        ps::test::TokenizerJsonParts parts;
        parts.pre_tokenizer = byte_level(false, true);
        const std::vector<int> strings = small(parts)->encode("the abc on in");
        parts.pair_merges = true;
        QCOMPARE(small(parts)->encode("the abc on in"), strings);
        // "the" "Ġabc" ... the merges apply: fewer ids than bytes.
        QVERIFY(strings.size() < std::string("the abc on in").size());
    }

    // ByteLevel's GPT-2 split is hand-written (2.6x faster than ICU on it); a Split by the same
    // pattern on ICU must cut every text identically, llama.cpp's 46 test strings included.
    void gpt2FastPathMatchesIcu() {
        const char* gpt2 =
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|"
            "\\s+(?!\\S)|\\s+";
        const auto icu = small_with_pre(
            {{"type", "Sequence"},
             {"pretokenizers", {split("Regex", gpt2, "Isolated"), byte_level(false, false)}}});
        const auto fast = small_with_pre(byte_level(false, true));
        std::vector<std::string> texts = {"a\t\tb  c\u00a0\u00a0d\x0b\x0b e", "I'm 12345 you've",
                                          "\r\n\r\n x", "caf\u00e9\u0301!!  ?"};
        const QString inp = ps::test::shared_path("tokenizers/ggml-vocab-llama-bpe.gguf.inp");
        if (QFileInfo::exists(inp))
            for (const auto& c : ps::test::read_vectors(inp.toStdString(), "/dev/null"))
                texts.push_back(c.text);
        for (const std::string& t : texts)
            QVERIFY2(icu->pre_tokenize(t) == fast->pre_tokenize(t), t.c_str());
    }

    // ---- bad patterns ----

    void regexErrors() {
        for (const char* bad : {"(unclosed", "[a-", "a{2,1}", "\\p{NoSuchProperty}"}) {
            ps::test::TokenizerJsonParts parts;
            parts.pre_tokenizer = split("Regex", bad, "Isolated");
            EXPECT_ERROR(small(parts), "tokenizer.json", "invalid regex", bad);
        }
        EXPECT_ERROR(small_with_pre(split("Regex", "x", "Sideways")), "tokenizer.json",
                     "pre_tokenizer.behavior 'Sideways' is unknown");
        EXPECT_ERROR(small_with_pre({{"type", "UnicodeScripts"}}), "tokenizer.json",
                     "pre_tokenizer type 'UnicodeScripts' is not supported for byte-level BPE");
        json j = ps::test::byte_level_tokenizer_json(ps::test::small_bpe_vocab(), {});
        j["pre_tokenizer"] = split("Regex", "\\s+", "Isolated");
        j["model"]["continuing_subword_prefix"] = "##";
        const std::string msg = written_json_error(j);
        QVERIFY2(msg.find("model.continuing_subword_prefix") != std::string::npos, msg.c_str());
    }

    // (a+)+$ on "aaa...ab" backtracks 2^n ways: the time limit turns that into an error that
    // names the file and the pattern (the test asserts the error, not how long it took).
    void catastrophicPattern() {
        const auto tok = small_with_pre(split("Regex", "(a+)+$", "Isolated"));
        const std::string text = std::string(64, 'a') + "b";
        EXPECT_ERROR(tok->encode(text), "tokenizer.json", "(a+)+$", "time limit");
        // The same tokenizer still works on text where the pattern is harmless.
        QCOMPARE(tok->pre_tokenize("ba"), (Pieces{"b", "a"}));
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TokenizerModernTest)
#include "test_tokenizer_modern.moc"
