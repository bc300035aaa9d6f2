// The parsed form of a chat template (not a public interface): statements and expressions,
// each with the template line it came from, for error messages.
#pragma once

#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/tokenizer/jinja_value.h"

namespace ps::jinja::detail {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;
using Keywords = std::vector<std::pair<std::string, ExprPtr>>;

struct Expr {
    enum class Kind {
        Literal,  // value
        Name,     // name
        List,     // operands: the items
        Dict,     // operands: key, value, key, value, ...
        Attr,     // operands[0].name
        Index,    // operands[0][operands[1]]
        Slice,    // operands[0][1:2:3], missing parts null
        Call,     // operands[0](operands[1..], kwargs)
        Filter,   // operands[0] | name(operands[1..], kwargs)
        Test,     // operands[0] is [not] name(operands[1..])
        Not,      // not operands[0]
        Negate,   // -operands[0]
        Binary,   // operands[0] name operands[1]: + - * / // % ** ~ == != < > <= >= in, not in
        And,
        Or,
        Ternary,  // operands[0] if operands[1] else operands[2] (null: undefined)
    };
    Kind kind = Kind::Literal;
    int line = 1;
    Value value;
    std::string name;
    std::vector<ExprPtr> operands;
    Keywords kwargs;
    bool negated = false;  // Test: "is not"
};

struct Node;
struct Branch;
using Body = std::vector<Node>;

struct Node {
    enum class Kind {
        Text,      // text
        Output,    // {{ expr }}
        If,        // branches (an else branch has no condition)
        For,       // for targets in expr [if filter]: body [else: else_body]
        Set,       // set targets[0], targets[1], ... = expr; name ".": set targets[0].targets[1]
        SetBlock,  // set targets[0] %} body {% endset
        Macro,     // macro name(params) body
        Break,
        Continue,
    };
    Kind kind = Kind::Text;
    int line = 1;
    std::string text;
    std::string name;
    ExprPtr expr;
    ExprPtr filter;
    std::vector<std::string> targets;
    std::vector<Branch> branches;
    Keywords params;  // macro parameters with their defaults (null: none)
    Body body, else_body;
};

struct Branch {
    ExprPtr condition;  // null: else
    Body body;
};

// Parses a template; errors are ps::Error("<origin>: line N: ...").
Body parse_template(std::string_view source, const std::string& origin);

// ---- built-in filters, tests and methods (jinja_builtins.cpp) ----

// What a built-in reports; the renderer adds the template's name and line.
struct RuntimeError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

Value call_filter(const std::string& name, const Value& input, const CallArgs& args);
bool call_test(const std::string& name, const Value& input, const CallArgs& args);
// A method of a str, dict or list ("text".strip(), message.items(), ...).
Value call_method(const Value& object, const std::string& name, const CallArgs& args);
// The characters of a UTF-8 string, as Python indexes them.
std::vector<std::string> code_points(const std::string& s);
// value[key] and value[start:stop:step] with Python's rules (negative indices, clamping);
// a missing item is undefined, as in Jinja.
Value subscript(const Value& value, const Value& key);
Value slice(const Value& value, const Value& start, const Value& stop, const Value& step);
// The items a for loop visits: a list's items, a dict's keys, a string's characters.
List iterate(const Value& value);

}  // namespace ps::jinja::detail
