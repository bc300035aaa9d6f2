// Helpers the built-in filters and methods share (not a public interface): Python's string
// operations and Jinja's attribute paths, on template values.
#pragma once

#include <string>

#include "core/tokenizer/jinja_ast.h"

namespace ps::jinja::detail {

int64_t int_arg(const Value& v, const std::string& what);
const std::string& string_of(const Value& v, const std::string& what);
// str.strip/lstrip/rstrip: `chars` (undefined: white space) removed from the chosen ends.
std::string strip(const std::string& s, const Value& chars, bool left, bool right);
std::string map_chars(std::string s, int (*f)(int));
std::string title(const std::string& s);
std::string capitalize(const std::string& s);
std::string replace(const std::string& s, const std::string& from, const std::string& to,
                    int64_t count);
// str.split(sep, maxsplit); sep undefined: runs of white space.
List split(const std::string& s, const Value& sep, int64_t maxsplit);
bool affix(const std::string& s, const Value& what, bool prefix);
int64_t length(const Value& v);
// An attribute path "a.b" or "0" of an item, as Jinja's make_attrgetter reads it.
Value attribute(const Value& item, const std::string& path);
int compare_values(const Value& a, const Value& b);
// select/reject/selectattr/rejectattr.
Value select(const Value& input, const CallArgs& args, bool by_attribute, bool keep);

}  // namespace ps::jinja::detail
