// ICU regex matching over UTF-8 text, with byte offsets in and out.
#include "core/tokenizer/regex.h"

#include <unicode/regex.h>
#include <unicode/unistr.h>

#include "core/error.h"
#include "core/tokenizer/internal.h"
#include "core/tokenizer/unicode.h"

namespace ps::detail {

namespace {

// Bounds for one find(). ICU's time unit is a "step" of its engine, of the order of a
// millisecond: 2000 is a few seconds at worst on a slow machine, while real pre-tokenizer
// patterns need a handful of steps per match. The backtracking stack limit keeps a pattern
// from taking memory without bound; 64 MB lets a greedy \s* run over a megabyte of spaces.
constexpr int32_t kTimeLimit = 2000;
constexpr int32_t kStackLimit = 64 << 20;

std::string icu_error_text(UErrorCode status) {
    switch (status) {
        case U_REGEX_TIME_OUT:
            return "matching took longer than the time limit (catastrophic backtracking?)";
        case U_REGEX_STACK_OVERFLOW:
            return "matching needed more than " + std::to_string(kStackLimit >> 20) +
                   " MB of backtracking memory (catastrophic backtracking?)";
        default:
            return u_errorName(status);
    }
}

}  // namespace

std::string oniguruma_to_icu(std::string_view pattern) {
    std::string out;
    out.reserve(pattern.size() + 16);
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] != '\\' || i + 1 == pattern.size()) {
            out += pattern[i];
            continue;
        }
        // An escape: \s and \S change, any other pair (\\ included) is copied unchanged, so a
        // literal backslash followed by 's' stays what it is.
        const char next = pattern[++i];
        if (next == 's')
            out += "\\p{White_Space}";
        else if (next == 'S')
            out += "\\P{White_Space}";
        else
            out += {'\\', next};
    }
    return out;
}

Regex::Regex(std::string pattern, std::string source)
    : pattern_(std::move(pattern)), source_(std::move(source)) {
    if (unicode::first_invalid_byte(pattern_) != std::string_view::npos)
        fail(source_, "pattern " + quoted_piece(pattern_) + " is not valid UTF-8");
    const std::string icu_pattern = oniguruma_to_icu(pattern_);
    UParseError where{};
    UErrorCode status = U_ZERO_ERROR;
    compiled_.reset(
        icu::RegexPattern::compile(icu::UnicodeString::fromUTF8(icu_pattern), 0, where, status));
    if (U_FAILURE(status) || !compiled_)
        fail(source_, "invalid regex " + quoted_piece(pattern_) + ": " + u_errorName(status) +
                          " at offset " + std::to_string(where.offset) +
                          "; expected a regular expression in Oniguruma / ICU syntax");
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

std::vector<std::pair<size_t, size_t>> Regex::find_all(std::string_view text) const {
    // ICU works on UTF-16: convert, keeping the byte offset of every UTF-16 index.
    icu::UnicodeString u16;
    std::vector<size_t> byte_at;  // byte offset of each UTF-16 unit, then text.size()
    byte_at.reserve(text.size() + 1);
    for (size_t pos = 0; pos < text.size();) {
        const size_t len = unicode::sequence_length(text, pos);
        if (len == 0) throw Error("invalid UTF-8 at byte " + std::to_string(pos));
        const char32_t cp = unicode::decode(text, pos, len);
        u16.append(static_cast<UChar32>(cp));
        byte_at.push_back(pos);
        if (cp > 0xFFFF) byte_at.push_back(pos);  // the low surrogate; never a match boundary
        pos += len;
    }
    byte_at.push_back(text.size());

    UErrorCode status = U_ZERO_ERROR;
    // A matcher per call: RegexPattern is shareable between threads, a matcher is not.
    std::unique_ptr<icu::RegexMatcher> m(compiled_->matcher(u16, status));
    if (U_SUCCESS(status)) m->setTimeLimit(kTimeLimit, status);
    if (U_SUCCESS(status)) m->setStackLimit(kStackLimit, status);
    std::vector<std::pair<size_t, size_t>> out;
    while (U_SUCCESS(status) && m->find(status)) {
        const int32_t begin = m->start(status);
        const int32_t end = m->end(status);
        if (U_FAILURE(status)) break;
        out.emplace_back(byte_at[static_cast<size_t>(begin)], byte_at[static_cast<size_t>(end)]);
    }
    if (U_FAILURE(status))
        fail(source_, "pattern " + quoted_piece(pattern_) + " on a text of " +
                          std::to_string(text.size()) + " bytes: " + icu_error_text(status));
    return out;
}

}  // namespace ps::detail
