// UTF-8 decoding and validation, and the Unicode code point classes the tokenizers need
// (letters, numbers, white space), taken from ICU so that no tables are hand-written here.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace ps::unicode {

// Length in bytes of the well-formed UTF-8 sequence starting at text[pos], or 0 when there is
// none (stray continuation byte, truncated sequence, overlong form, surrogate, > U+10FFFF).
size_t sequence_length(std::string_view text, size_t pos);

// Byte offset of the first ill-formed sequence, or std::string_view::npos if `text` is valid.
size_t first_invalid_byte(std::string_view text);

// Throws ps::Error("invalid UTF-8 at byte N") unless `text` is well-formed UTF-8.
void require_utf8(std::string_view text);

// The code point of the well-formed sequence text[pos, pos + len) (len from sequence_length).
char32_t decode(std::string_view text, size_t pos, size_t len);

// UTF-8 encoding of a code point (<= U+10FFFF, not a surrogate).
std::string encode(char32_t cp);

// Regex classes as in \p{L}, \p{N} and \s: general categories L* and N*, and the White_Space
// property (the set llama.cpp and Python's `regex` use for \s).
bool is_letter(char32_t cp);
bool is_number(char32_t cp);
bool is_whitespace(char32_t cp);

}  // namespace ps::unicode
