// UTF-8 per RFC 3629 (Table 3-7 of the Unicode standard), code point classes from ICU.
#include "core/tokenizer/unicode.h"

#include <unicode/uchar.h>

#include "core/error.h"

namespace ps::unicode {

namespace {

bool is_continuation(unsigned char b) {
    return (b & 0xC0) == 0x80;
}

}  // namespace

size_t sequence_length(std::string_view text, size_t pos) {
    if (pos >= text.size()) return 0;
    const auto byte = [&](size_t i) { return static_cast<unsigned char>(text[pos + i]); };
    const unsigned char b0 = byte(0);
    if (b0 < 0x80) return 1;
    // The allowed range of the second byte excludes overlong forms (E0 80..9F, F0 80..8F),
    // UTF-16 surrogates (ED A0..BF) and code points above U+10FFFF (F4 90..BF).
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0) lo = 0xA0;
        if (b0 == 0xED) hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0) lo = 0x90;
        if (b0 == 0xF4) hi = 0x8F;
    } else {
        return 0;  // continuation byte, C0/C1 (always overlong) or F5..FF
    }
    if (pos + len > text.size()) return 0;
    if (byte(1) < lo || byte(1) > hi) return 0;
    for (size_t i = 2; i < len; ++i)
        if (!is_continuation(byte(i))) return 0;
    return len;
}

size_t first_invalid_byte(std::string_view text) {
    for (size_t pos = 0; pos < text.size();) {
        const size_t len = sequence_length(text, pos);
        if (len == 0) return pos;
        pos += len;
    }
    return std::string_view::npos;
}

void require_utf8(std::string_view text) {
    const size_t bad = first_invalid_byte(text);
    if (bad != std::string_view::npos) throw Error("invalid UTF-8 at byte " + std::to_string(bad));
}

char32_t decode(std::string_view text, size_t pos, size_t len) {
    const auto byte = [&](size_t i) { return static_cast<char32_t>(text[pos + i]) & 0xFF; };
    switch (len) {
        case 1:
            return byte(0);
        case 2:
            return ((byte(0) & 0x1F) << 6) | (byte(1) & 0x3F);
        case 3:
            return ((byte(0) & 0x0F) << 12) | ((byte(1) & 0x3F) << 6) | (byte(2) & 0x3F);
        default:
            return ((byte(0) & 0x07) << 18) | ((byte(1) & 0x3F) << 12) | ((byte(2) & 0x3F) << 6) |
                   (byte(3) & 0x3F);
    }
}

std::string encode(char32_t cp) {
    std::string out;
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
    return out;
}

bool is_letter(char32_t cp) {
    return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_L_MASK) != 0;
}

bool is_number(char32_t cp) {
    return (U_GET_GC_MASK(static_cast<UChar32>(cp)) & U_GC_N_MASK) != 0;
}

bool is_whitespace(char32_t cp) {
    return u_hasBinaryProperty(static_cast<UChar32>(cp), UCHAR_WHITE_SPACE) != 0;
}

}  // namespace ps::unicode
