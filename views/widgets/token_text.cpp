#include "views/widgets/token_text.h"

#include "core/tokenizer/tokenizer.h"

namespace ps {

namespace {

QString hex_byte(unsigned char b) {
    return QStringLiteral("<0x%1>").arg(QString::number(b, 16).toUpper().rightJustified(2, '0'));
}

// Length of the UTF-8 sequence starting at s[i] if it is complete and valid, else 0.
int utf8_char_length(const std::string& s, size_t i) {
    const auto c = static_cast<unsigned char>(s[i]);
    const int n = c < 0x80           ? 1
                  : (c >> 5) == 0x6  ? 2
                  : (c >> 4) == 0xE  ? 3
                  : (c >> 3) == 0x1E ? 4
                                     : 0;
    if (n == 0 || i + static_cast<size_t>(n) > s.size()) return 0;
    for (int k = 1; k < n; k++)
        if ((static_cast<unsigned char>(s[i + static_cast<size_t>(k)]) & 0xC0) != 0x80) return 0;
    return n;
}

QString visible_whitespace(const QString& text) {
    QString out;
    out.reserve(text.size());
    for (QChar c : text) {
        if (c == ' ')
            out += QChar(0x00B7);  // ·
        else if (c == '\n')
            out += QChar(0x23CE);  // ⏎
        else if (c == '\t')
            out += QChar(0x2192);  // →
        else if (c == '\r')
            out += QStringLiteral("\\r");
        else
            out += c;
    }
    return out;
}

}  // namespace

QString token_display(const Tokenizer& tok, int id) {
    if (id < 0 || id >= tok.vocab_size()) return QStringLiteral("<%1?>").arg(id);
    const TokenType type = tok.type(id);
    if (type == TokenType::Byte) return QString::fromStdString(tok.piece(id));
    const std::string bytes = tok.token_bytes(id);
    if (bytes.empty()) return QString::fromStdString(tok.piece(id));  // control tokens
    QString out;
    for (size_t i = 0; i < bytes.size();) {
        const int n = utf8_char_length(bytes, i);
        if (n == 0) {
            out += hex_byte(static_cast<unsigned char>(bytes[i]));
            i++;
        } else {
            out += visible_whitespace(QString::fromUtf8(bytes.data() + i, n));
            i += static_cast<size_t>(n);
        }
    }
    return out;
}

QString token_details(const Tokenizer& tok, int id) {
    if (id < 0 || id >= tok.vocab_size()) return QStringLiteral("token %1 (out of range)").arg(id);
    QString hex;
    for (unsigned char b : tok.token_bytes(id))
        hex += QStringLiteral("%1 ").arg(b, 2, 16, QChar('0'));
    return QStringLiteral("<b>%1</b><br>id %2<br>piece %3<br>bytes %4")
        .arg(token_display(tok, id).toHtmlEscaped())
        .arg(id)
        .arg(QString::fromStdString(tok.piece(id)).toHtmlEscaped())
        .arg(hex.isEmpty() ? QStringLiteral("(none)") : hex.trimmed());
}

}  // namespace ps
