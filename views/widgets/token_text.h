// How a token is written on screen, the same in every view: its text with visible whitespace
// (space "·", newline "⏎", tab "→"), byte-fallback tokens and bytes that are not whole UTF-8
// characters as <0xNN>, control tokens as their piece (<s>, <|endoftext|>).
#pragma once

#include <QString>

namespace ps {

class Tokenizer;

QString token_display(const Tokenizer& tok, int id);
// Rich text (HTML, escaped) for a tooltip: display text, id, piece, raw bytes in hex.
QString token_details(const Tokenizer& tok, int id);

}  // namespace ps
