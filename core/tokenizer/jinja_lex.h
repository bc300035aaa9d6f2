// Cutting a chat template into segments and its tags into tokens (not a public interface).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/tokenizer/jinja_value.h"

namespace ps::jinja::detail {

struct Segment {
    enum class Kind { Text, Var, Block };
    Kind kind;
    std::string text;
    int line;
};

// Text, {{ }} and {% %} segments with Jinja's whitespace rules as Hugging Face configures them:
// trim_blocks, lstrip_blocks, "-" and "+" markers, \r\n as \n, one trailing newline dropped;
// comments dropped and {% raw %} blocks kept as text. Errors name `origin` and the line.
std::vector<Segment> segment_template(std::string_view source, const std::string& origin);

struct Token {
    enum class Kind { Name, String, Int, Float, Op, End };
    Kind kind = Kind::End;
    std::string text;
    Value value;
};

// The tokens of one tag's contents, an End token last; errors name `where`.
std::vector<Token> lex(const std::string& s, const std::string& where);

}  // namespace ps::jinja::detail
