// libFuzzer target: tokenizer.json's text pipeline. The first input byte picks the mode:
//   bit 0 clear: the input up to the first newline is the regex of a Split pre-tokenizer (bits
//     1-3 pick its behavior, bit 4 sets invert) in an otherwise valid byte-level tokenizer.json,
//     and the rest is the text encoded with it;
//   bit 0 set: the rest is the whole tokenizer.json, and a fixed set of texts is encoded.
// A pattern that fails to compile, or that hits ICU's time or memory bound on the text, must be a
// ps::Error; anything else escaping (or a hang) is a finding.
#include <string>
#include <string_view>

#include "core/error.h"
#include "core/formats/tokenizer_files.h"
#include "core/tokenizer/unicode.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/tiny_fixtures.h"
#include "tests/support/tokenizer_json_writer.h"

namespace {

using nlohmann::json;

const char* const kBehaviors[] = {"Removed",    "Isolated", "MergedWithPrevious", "MergedWithNext",
                                  "Contiguous", "Isolated", "Isolated",           "Isolated"};

void write_split_tokenizer(const std::string& dir, std::string_view pattern, uint8_t flags) {
    ps::test::TokenizerJsonParts parts;
    parts.pre_tokenizer = {
        {"type", "Sequence"},
        {"pretokenizers",
         {{{"type", "Split"},
           {"pattern", {{"Regex", std::string(pattern)}}},
           {"behavior", kBehaviors[(flags >> 1) & 7]},
           {"invert", (flags & 16) != 0}},
          {{"type", "ByteLevel"}, {"add_prefix_space", false}, {"use_regex", false}}}}};
    parts.normalizer = (flags & 32) ? json{{"type", "NFC"}} : json(nullptr);
    // Invalid UTF-8 in the pattern becomes U+FFFD, as a JSON writer would have to.
    ps::test::write_byte_level_tokenizer_json(dir, ps::test::small_bpe_vocab(), parts);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 1) return 0;
    static const std::string dir = ps::fuzz::scratch_dir();
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    std::string_view text = "Hello, world! 1234567 DON'T \r\n\t\u00a0 caf\u00e9 \u4e16\u754c";
    if ((data[0] & 1) == 0) {
        const size_t newline = rest.find('\n');
        write_split_tokenizer(dir, rest.substr(0, newline), data[0]);
        text = newline == std::string_view::npos ? std::string_view() : rest.substr(newline + 1);
    } else {
        ps::fuzz::write_scratch("tokenizer.json", rest);
    }
    std::unique_ptr<ps::Tokenizer> tok;
    try {
        tok = ps::load_hf_tokenizer(dir);
    } catch (const ps::Error&) {
        return 0;  // an invalid pattern or file, refused by name
    }
    std::vector<int> ids;
    try {
        ids = tok->encode(text);
    } catch (const ps::Error& e) {
        // Refused: invalid UTF-8, or the time or memory bound of a pathological pattern.
        const std::string what = e.what();
        ps::fuzz::check(ps::unicode::first_invalid_byte(text) != std::string_view::npos ||
                            what.find("backtracking") != std::string::npos,
                        "encode refused valid UTF-8 without hitting a regex bound");
        return 0;
    }
    for (int id : ids) ps::fuzz::check(id >= 0 && id < tok->vocab_size(), "id out of range");
    tok->decode(ids);
    tok->pre_tokenize(text);
    return 0;
}
