// Regular expressions for tokenizer patterns, on ICU's engine. A pattern comes from a
// downloaded file, so it is untrusted: matching is bounded in time and backtracking memory, and
// running out of either is a ps::Error naming the file and the pattern, never a hang.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <unicode/uversion.h>

U_NAMESPACE_BEGIN
class RegexPattern;
U_NAMESPACE_END

namespace ps::detail {

// Hugging Face's patterns are Oniguruma's, where \s and \S are Unicode White_Space; ICU's \s is
// [\t\n\f\r\p{Z}] (no U+000B, U+0085). Returns `pattern` with \s and \S spelled as the property.
std::string oniguruma_to_icu(std::string_view pattern);

class Regex {
  public:
    // Compiles `pattern` (Oniguruma syntax as above); an invalid one is a ps::Error naming
    // `source` and the pattern.
    Regex(std::string pattern, std::string source);
    ~Regex();
    Regex(Regex&&) noexcept;
    Regex& operator=(Regex&&) noexcept;

    // Byte ranges [begin, end) of the successive matches in `text` (valid UTF-8), empty matches
    // included, as Oniguruma's find_iter gives them. Throws ps::Error when the time or memory
    // bound is hit. Safe to call from several threads at once.
    std::vector<std::pair<size_t, size_t>> find_all(std::string_view text) const;

    const std::string& pattern() const { return pattern_; }

  private:
    std::string pattern_;  // as the file wrote it, for messages
    std::string source_;
    std::unique_ptr<icu::RegexPattern> compiled_;
};

}  // namespace ps::detail
