// The tests and methods chat templates call, with the semantics of Jinja's built-ins
// (jinja2/tests.py) and Python's str and dict methods, and the helpers the filters share.
#include <algorithm>
#include <cctype>
#include <climits>
#include <cmath>
#include <cstdint>

#include "core/tokenizer/jinja_builtins.h"

namespace ps::jinja::detail {

namespace {
const char* const kWhitespace = " \t\n\r\f\v";
}  // namespace

int64_t int_arg(const Value& v, const std::string& what) {
    if (v.type() != Value::Type::Int)
        throw RuntimeError(what + " must be an integer, not " + v.type_name());
    return v.as_int();
}

const std::string& string_of(const Value& v, const std::string& what) {
    if (!v.is_string()) throw RuntimeError(what + " needs a string, not " + v.type_name());
    return v.as_string();
}

std::string strip(const std::string& s, const Value& chars, bool left, bool right) {
    const std::string set = chars.is_string() ? chars.as_string() : kWhitespace;
    size_t b = 0, e = s.size();
    if (left)
        while (b < e && set.find(s[b]) != std::string::npos) ++b;
    if (right)
        while (e > b && set.find(s[e - 1]) != std::string::npos) --e;
    return s.substr(b, e - b);
}

std::string map_chars(std::string s, int (*f)(int)) {
    for (char& c : s) c = static_cast<char>(f(static_cast<unsigned char>(c)));
    return s;
}

// Python's str.title / Jinja's title: the first letter of each word upper, the rest lower.
std::string title(const std::string& s) {
    std::string out = s;
    bool in_word = false;
    for (char& c : out) {
        const bool alpha = std::isalpha(static_cast<unsigned char>(c)) != 0;
        c = static_cast<char>(alpha && !in_word ? std::toupper(static_cast<unsigned char>(c))
                                                : std::tolower(static_cast<unsigned char>(c)));
        in_word = alpha;
    }
    return out;
}

std::string capitalize(const std::string& s) {
    std::string out = map_chars(s, [](int c) { return std::tolower(c); });
    if (!out.empty()) out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
    return out;
}

std::string replace(const std::string& s, const std::string& from, const std::string& to,
                    int64_t count) {
    if (from.empty()) return s;
    std::string out;
    size_t pos = 0;
    for (int64_t n = 0; count < 0 || n < count; ++n) {
        const size_t hit = s.find(from, pos);
        if (hit == std::string::npos) break;
        out += s.substr(pos, hit - pos) + to;
        pos = hit + from.size();
    }
    return out + s.substr(pos);
}

List split(const std::string& s, const Value& sep, int64_t maxsplit) {
    List out;
    if (!sep.is_string()) {  // runs of white space, none at the ends
        size_t pos = s.find_first_not_of(kWhitespace);
        while (pos != std::string::npos) {
            if (maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit) {
                out.push_back(Value(strip(s.substr(pos), Value(), false, true)));
                break;
            }
            const size_t end = std::min(s.size(), s.find_first_of(kWhitespace, pos));
            out.push_back(Value(s.substr(pos, end - pos)));
            pos = s.find_first_not_of(kWhitespace, end);
        }
        return out;
    }
    const std::string& d = sep.as_string();
    if (d.empty()) throw RuntimeError("split(): empty separator");
    size_t pos = 0;
    for (;;) {
        const size_t hit = maxsplit >= 0 && static_cast<int64_t>(out.size()) == maxsplit
                               ? std::string::npos
                               : s.find(d, pos);
        if (hit == std::string::npos) {
            out.push_back(Value(s.substr(pos)));
            return out;
        }
        out.push_back(Value(s.substr(pos, hit - pos)));
        pos = hit + d.size();
    }
}

bool affix(const std::string& s, const Value& what, bool prefix) {
    const auto one = [&](const Value& v) {
        const std::string& a = string_of(v, prefix ? "startswith()" : "endswith()");
        return s.size() >= a.size() && (prefix ? s.compare(0, a.size(), a) == 0
                                               : s.compare(s.size() - a.size(), a.size(), a) == 0);
    };
    if (what.is_list()) return std::any_of(what.list().begin(), what.list().end(), one);
    return one(what);
}

int64_t length(const Value& v) {
    switch (v.type()) {
        case Value::Type::String:
            return static_cast<int64_t>(code_points(v.as_string()).size());
        case Value::Type::List:
            return static_cast<int64_t>(v.list().size());
        case Value::Type::Dict:
            return static_cast<int64_t>(v.dict().size());
        case Value::Type::Undefined:
            return 0;
        default:
            throw RuntimeError("object of type '" + v.type_name() + "' has no len()");
    }
}

// An attribute path "a.b" of an item, as Jinja's make_attrgetter reads it.
Value attribute(const Value& item, const std::string& path) {
    Value v = item;
    size_t pos = 0;
    for (;;) {
        const size_t dot = path.find('.', pos);
        const std::string part = path.substr(pos, dot - pos);
        const bool numeric =
            !part.empty() && part.size() <= 18 && std::all_of(part.begin(), part.end(), ::isdigit);
        v = subscript(v, numeric ? Value(static_cast<int64_t>(std::stoll(part))) : Value(part));
        if (dot == std::string::npos) return v;
        pos = dot + 1;
    }
}

int compare_values(const Value& a, const Value& b) {
    if (a.is_number() && b.is_number())
        return a.as_double() < b.as_double() ? -1 : a.as_double() > b.as_double();
    if (a.is_string() && b.is_string()) return a.as_string().compare(b.as_string());
    throw RuntimeError("cannot compare " + a.type_name() + " with " + b.type_name());
}

// select/reject/selectattr/rejectattr: the items for which the test (default: truthy) holds.
Value select(const Value& input, const CallArgs& args, bool by_attribute, bool keep) {
    size_t next = 0;
    std::string attr;
    if (by_attribute) attr = string_of(args.arg(next++, "attribute"), "selectattr()");
    CallArgs test_args;
    std::string test;
    if (next < args.positional.size()) {
        test = string_of(args.positional[next++], "the test name");
        test_args.positional.assign(args.positional.begin() + static_cast<std::ptrdiff_t>(next),
                                    args.positional.end());
    }
    List out;
    if (!input.truthy()) return Value(std::move(out));  // Jinja: "if seq:" first, so none is empty
    for (const Value& item : iterate(input)) {
        const Value v = by_attribute ? attribute(item, attr) : item;
        const bool pass = test.empty() ? v.truthy() : call_test(test, v, test_args);
        if (pass == keep) out.push_back(item);
    }
    return Value(std::move(out));
}

std::vector<std::string> code_points(const std::string& s) {
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        const unsigned char c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 1;
        n = std::min(n, s.size() - i);
        out.push_back(s.substr(i, n));
        i += n;
    }
    return out;
}

List iterate(const Value& v) {
    switch (v.type()) {
        case Value::Type::List:
            return v.list();
        case Value::Type::Dict: {
            List keys;
            for (const auto& [k, item] : v.dict()) keys.push_back(key_value(k));
            return keys;
        }
        case Value::Type::String: {
            List chars;
            for (std::string& c : code_points(v.as_string())) chars.push_back(Value(std::move(c)));
            return chars;
        }
        case Value::Type::Undefined:
            return {};
        default:
            throw RuntimeError("'" + v.type_name() + "' object is not iterable");
    }
}

Value subscript(const Value& v, const Value& key) {
    if (v.is_dict()) {
        const std::optional<std::string> stored = dict_key(key);
        return stored ? v.get(*stored) : Value();
    }
    if ((v.is_list() || v.is_string()) && key.type() == Value::Type::Int) {
        const std::vector<std::string> chars =
            v.is_string() ? code_points(v.as_string()) : std::vector<std::string>();
        const int64_t n = v.is_list() ? static_cast<int64_t>(v.list().size())
                                      : static_cast<int64_t>(chars.size());
        int64_t i = key.as_int();
        if (i < 0) i += n;
        if (i < 0 || i >= n) return {};
        return v.is_list() ? v.list()[static_cast<size_t>(i)]
                           : Value(chars[static_cast<size_t>(i)]);
    }
    return {};  // Jinja: a missing attribute or item is undefined
}

Value slice(const Value& v, const Value& start, const Value& stop, const Value& step) {
    if (!v.is_list() && !v.is_string())
        throw RuntimeError("'" + v.type_name() + "' object is not subscriptable");
    const std::vector<std::string> chars =
        v.is_string() ? code_points(v.as_string()) : std::vector<std::string>();
    const int64_t n =
        v.is_list() ? static_cast<int64_t>(v.list().size()) : static_cast<int64_t>(chars.size());
    const int64_t stride = step.is_none() ? 1 : int_arg(step, "a slice step");
    if (stride == 0) throw RuntimeError("slice step cannot be zero");
    // Python's PySlice_AdjustIndices.
    const auto bound = [&](const Value& x, int64_t fallback) {
        if (x.is_none()) return fallback;
        int64_t i = int_arg(x, "a slice index");
        if (i < 0)
            i = std::max<int64_t>(i + n, stride < 0 ? -1 : 0);
        else
            i = std::min(i, stride < 0 ? n - 1 : n);
        return i;
    };
    const int64_t b = bound(start, stride < 0 ? n - 1 : 0), e = bound(stop, stride < 0 ? -1 : n);
    List items;
    std::string text;
    for (int64_t i = b; stride > 0 ? i < e : i > e;) {
        if (v.is_list())
            items.push_back(v.list()[static_cast<size_t>(i)]);
        else
            text += chars[static_cast<size_t>(i)];
        if (__builtin_add_overflow(i, stride, &i)) break;
    }
    return v.is_list() ? Value(std::move(items)) : Value(text);
}

bool call_test(const std::string& name, const Value& in, const CallArgs& a) {
    using T = Value::Type;
    const Value arg = a.arg(0, "value");
    if (name == "defined") return !in.is_undefined();
    if (name == "undefined") return in.is_undefined();
    if (name == "none") return in.is_none();
    if (name == "boolean") return in.type() == T::Bool;
    if (name == "true") return in.type() == T::Bool && in.as_bool();
    if (name == "false") return in.type() == T::Bool && !in.as_bool();
    if (name == "integer") return in.type() == T::Int;
    if (name == "float") return in.type() == T::Float;
    if (name == "number") return in.is_number();
    if (name == "string") return in.is_string();
    if (name == "mapping") return in.is_dict();
    if (name == "iterable") return in.is_list() || in.is_dict() || in.is_string();
    if (name == "sequence") return in.is_list() || in.is_dict() || in.is_string();
    if (name == "callable") return in.type() == T::Function;
    if (name == "sameas") return in.type() == arg.type() && in == arg;
    if (name == "eq" || name == "equalto" || name == "==") return in == arg;
    if (name == "ne" || name == "!=") return !(in == arg);
    if (name == "lt" || name == "lessthan" || name == "<") return compare_values(in, arg) < 0;
    if (name == "le" || name == "<=") return compare_values(in, arg) <= 0;
    if (name == "gt" || name == "greaterthan" || name == ">") return compare_values(in, arg) > 0;
    if (name == "ge" || name == ">=") return compare_values(in, arg) >= 0;
    if (name == "in") {
        if (arg.is_string())
            return in.is_string() && arg.as_string().find(in.as_string()) != std::string::npos;
        if (arg.is_dict()) return dict_key(in) && !arg.get(*dict_key(in)).is_undefined();
        const List items = iterate(arg);
        return std::find(items.begin(), items.end(), in) != items.end();
    }
    if (name == "odd") return int_arg(in, "odd") % 2 != 0;
    if (name == "even") return int_arg(in, "even") % 2 == 0;
    if (name == "divisibleby") {
        const int64_t d = int_arg(arg, "divisibleby");
        return d != 0 && int_arg(in, "divisibleby") % d == 0;
    }
    if (name == "lower")
        return in.is_string() &&
               map_chars(in.as_string(), [](int c) { return std::tolower(c); }) == in.as_string();
    if (name == "upper")
        return in.is_string() &&
               map_chars(in.as_string(), [](int c) { return std::toupper(c); }) == in.as_string();
    throw RuntimeError(
        "unsupported test '" + name +
        "'; supported: defined, undefined, none, boolean, true, false, integer, float, number, "
        "string, "
        "mapping, iterable, sequence, callable, sameas, eq, ne, lt, le, gt, ge, in, odd, even, "
        "divisibleby, lower, upper");
}

Value call_method(const Value& o, const std::string& name, const CallArgs& a) {
    if (o.is_string()) {
        const std::string& s = o.as_string();
        if (name == "strip") return Value(strip(s, a.arg(0, "chars"), true, true));
        if (name == "lstrip") return Value(strip(s, a.arg(0, "chars"), true, false));
        if (name == "rstrip") return Value(strip(s, a.arg(0, "chars"), false, true));
        if (name == "upper" || name == "lower" || name == "title" || name == "capitalize")
            return call_filter(name, o, {});
        if (name == "startswith") return Value(affix(s, a.arg(0, "prefix"), true));
        if (name == "endswith") return Value(affix(s, a.arg(0, "suffix"), false));
        if (name == "split") {
            const Value max = a.arg(1, "maxsplit");
            return Value(
                split(s, a.arg(0, "sep"), max.type() == Value::Type::Int ? max.as_int() : -1));
        }
        if (name == "replace") return call_filter("replace", o, a);
        if (name == "find") {
            const size_t hit = s.find(string_of(a.arg(0, "sub"), "find()"));
            return Value(hit == std::string::npos
                             ? int64_t{-1}
                             : static_cast<int64_t>(code_points(s.substr(0, hit)).size()));
        }
        if (name == "count") {
            const std::string& sub = string_of(a.arg(0, "sub"), "count()");
            int64_t n = 0;
            for (size_t pos = 0; !sub.empty() && (pos = s.find(sub, pos)) != std::string::npos;
                 pos += sub.size())
                ++n;
            return Value(n);
        }
        if (name == "join") {
            std::string out;
            bool first = true;
            for (const Value& item : iterate(a.arg(0, "iterable"))) {
                out += (first ? "" : s) + string_of(item, "join()");
                first = false;
            }
            return Value(out);
        }
        if (name == "format") {  // "{}" and "{0}" fields, as str.format fills them
            std::string out;
            size_t next = 0;
            for (size_t i = 0; i < s.size(); ++i) {
                if (s[i] == '{' && i + 1 < s.size() && s[i + 1] == '{') {
                    out += '{';
                    ++i;
                    continue;
                }
                if (s[i] == '}' && i + 1 < s.size() && s[i + 1] == '}') {
                    out += '}';
                    ++i;
                    continue;
                }
                if (s[i] != '{') {
                    out += s[i];
                    continue;
                }
                const size_t close = s.find('}', i);
                if (close == std::string::npos) throw RuntimeError("format(): '{' without '}'");
                const std::string field = s.substr(i + 1, close - i - 1);
                const bool numeric =
                    field.size() <= 6 && std::all_of(field.begin(), field.end(), ::isdigit);
                const size_t index = field.empty() ? next++
                                     : numeric     ? static_cast<size_t>(std::stoul(field))
                                                   : SIZE_MAX;
                if (index >= a.positional.size())
                    throw RuntimeError("format(): field {" + field +
                                       "} has no positional argument");
                out += a.positional[index].str();
                i = close;
            }
            return Value(out);
        }
        if (name == "isdigit" || name == "isalpha" || name == "isspace") {
            int (*f)(int) = name == "isdigit"   ? ::isdigit
                            : name == "isalpha" ? ::isalpha
                                                : ::isspace;
            return Value(!s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
                return f(static_cast<unsigned char>(c)) != 0;
            }));
        }
    } else if (o.is_dict()) {
        if (name == "items") return call_filter("items", o, {});
        if (name == "keys") return Value(iterate(o));
        if (name == "values") {
            List out;
            for (const auto& [k, v] : o.dict()) out.push_back(v);
            return Value(std::move(out));
        }
        if (name == "get") {
            const std::optional<std::string> key = dict_key(a.arg(0, "key"));
            const Value v = key ? o.get(*key) : Value();
            const Value fallback = a.arg(1, "default");
            return v.is_undefined() ? (fallback.is_undefined() ? Value::none() : fallback) : v;
        }
    }
    throw RuntimeError("'" + o.type_name() + "' has no method '" + name + "'" +
                       (o.is_undefined() ? " (the value is undefined)" : ""));
}

}  // namespace ps::jinja::detail
