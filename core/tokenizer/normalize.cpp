// Normalization (Hugging Face normalizers: NFC, NFKC, ..., Lowercase, Prepend, Replace, Strip)
// and the matching of added tokens, the two things done to text before pre-tokenization.
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>

#include <algorithm>

#include "core/error.h"
#include "core/tokenizer/internal.h"
#include "core/tokenizer/pretokenize.h"
#include "core/tokenizer/unicode.h"

namespace ps::detail {

namespace {

std::string to_utf8(const icu::UnicodeString& s) {
    std::string out;
    s.toUTF8String(out);
    return out;
}

std::string unicode_normalize(std::string_view text, NormalizerStep::Kind kind,
                              const std::string& source) {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = nullptr;
    switch (kind) {
        case NormalizerStep::Kind::NFC:
            n = icu::Normalizer2::getNFCInstance(status);
            break;
        case NormalizerStep::Kind::NFD:
            n = icu::Normalizer2::getNFDInstance(status);
            break;
        case NormalizerStep::Kind::NFKC:
            n = icu::Normalizer2::getNFKCInstance(status);
            break;
        default:
            n = icu::Normalizer2::getNFKDInstance(status);
            break;
    }
    icu::UnicodeString out;
    if (U_SUCCESS(status))
        out = n->normalize(
            icu::UnicodeString::fromUTF8(icu::StringPiece(text.data(), int32_t(text.size()))),
            status);
    if (U_FAILURE(status))
        fail(source, std::string("Unicode normalization: ") + u_errorName(status));
    return to_utf8(out);
}

// Byte length of the White_Space run at the start (or, with `from_end`, the end) of `text`.
size_t white_space_run(std::string_view text, bool from_end) {
    std::vector<size_t> starts;
    for (size_t pos = 0; pos < text.size();
         pos += std::max<size_t>(1, unicode::sequence_length(text, pos)))
        starts.push_back(pos);
    starts.push_back(text.size());
    size_t run = 0;
    const size_t n = starts.size() - 1;
    for (size_t k = 0; k < n; ++k) {
        const size_t i = from_end ? n - 1 - k : k;
        const size_t len = starts[i + 1] - starts[i];
        if (!unicode::is_whitespace(unicode::decode(text, starts[i], len))) break;
        run += len;
    }
    return run;
}

bool is_word_char(char32_t cp) {
    return unicode::is_letter(cp) || unicode::is_number(cp) || cp == U'_';
}

}  // namespace

Normalizer::Normalizer(std::vector<NormalizerStep> steps, const std::string& source)
    : source_(source) {
    for (NormalizerStep& s : steps) {
        Step step{std::move(s), std::nullopt};
        if (step.spec.kind == NormalizerStep::Kind::ReplaceRegex)
            step.regex.emplace(step.spec.pattern, source);
        if (step.spec.kind == NormalizerStep::Kind::Replace && step.spec.pattern.empty())
            fail(source, "normalizer Replace with an empty pattern; expected the text to replace");
        steps_.push_back(std::move(step));
    }
}

std::string Normalizer::apply(std::string_view text) const {
    std::string s(text);
    for (const Step& step : steps_) {
        using K = NormalizerStep::Kind;
        switch (step.spec.kind) {
            case K::NFC:
            case K::NFD:
            case K::NFKC:
            case K::NFKD:
                s = unicode_normalize(s, step.spec.kind, source_);
                break;
            case K::Lowercase: {
                icu::UnicodeString u = icu::UnicodeString::fromUTF8(s);
                s = to_utf8(u.toLower(icu::Locale::getRoot()));
                break;
            }
            case K::Prepend:
                if (!s.empty()) s.insert(0, step.spec.content);  // as Hugging Face: not to ""
                break;
            case K::Replace: {
                std::string out;
                for (size_t pos = 0;;) {
                    const size_t hit = s.find(step.spec.pattern, pos);
                    out.append(s, pos, hit == std::string::npos ? std::string::npos : hit - pos);
                    if (hit == std::string::npos) break;
                    out += step.spec.content;
                    pos = hit + step.spec.pattern.size();
                }
                s = std::move(out);
                break;
            }
            case K::ReplaceRegex: {
                std::string out;
                size_t prev = 0;
                for (const Range& m : step.regex->find_all(s)) {
                    out.append(s, prev, m.first - prev);
                    out += step.spec.content;
                    prev = m.second;
                }
                out.append(s, prev);
                s = std::move(out);
                break;
            }
            case K::Strip: {
                if (step.spec.strip_right) s.resize(s.size() - white_space_run(s, true));
                if (step.spec.strip_left) s.erase(0, white_space_run(s, false));
                break;
            }
        }
    }
    return s;
}

AddedTokenMatcher::AddedTokenMatcher(std::vector<AddedToken> tokens,
                                     const std::vector<std::string>& pieces)
    : by_first_byte_(256) {
    for (const AddedToken& t : tokens) {
        const std::string& text = pieces.at(static_cast<size_t>(t.id));
        // Empty text matches nothing; text that is not UTF-8 (a llama2.c piece may be any
        // bytes) can't be typed, and could match inside a character of valid text.
        if (text.empty() || unicode::first_invalid_byte(text) != std::string_view::npos) continue;
        by_first_byte_[static_cast<unsigned char>(text[0])].push_back({text, t});
    }
    for (auto& list : by_first_byte_)
        std::stable_sort(list.begin(), list.end(), [](const Candidate& a, const Candidate& b) {
            return a.text.size() > b.text.size();
        });
}

std::vector<AddedTokenMatcher::Fragment> AddedTokenMatcher::split(std::string_view text) const {
    std::vector<Fragment> out;
    size_t text_start = 0;                                  // start of the text not yet emitted
    const auto char_before = [&](size_t pos) -> char32_t {  // pos > 0
        size_t b = pos - 1;
        while (b > 0 && (static_cast<unsigned char>(text[b]) & 0xC0) == 0x80) --b;
        return unicode::decode(text, b, pos - b);
    };
    for (size_t pos = 0; pos < text.size();) {
        const Candidate* hit = nullptr;
        for (const Candidate& c : by_first_byte_[static_cast<unsigned char>(text[pos])])
            if (text.substr(pos).starts_with(c.text)) {
                hit = &c;
                break;
            }
        if (!hit) {
            ++pos;
            continue;
        }
        size_t begin = pos, end = pos + hit->text.size();
        if (hit->token.single_word) {
            // Not inside a word: no letter, digit or '_' touches either end.
            const bool left_ok = pos == 0 || !is_word_char(char_before(pos));
            const size_t len = end < text.size() ? unicode::sequence_length(text, end) : 0;
            const bool right_ok = len == 0 || !is_word_char(unicode::decode(text, end, len));
            if (!left_ok || !right_ok) {
                pos = end;  // the scan moves past a refused match, as Aho-Corasick's does
                continue;
            }
        }
        if (hit->token.lstrip)
            begin -= white_space_run(text.substr(text_start, begin - text_start), true);
        if (hit->token.rstrip) end += white_space_run(text.substr(end), false);
        if (begin > text_start) out.push_back({text.substr(text_start, begin - text_start), -1});
        out.push_back({text.substr(begin, end - begin), hit->token.id});
        text_start = pos = end;
    }
    if (text_start < text.size()) out.push_back({text.substr(text_start), -1});
    return out;
}

}  // namespace ps::detail
