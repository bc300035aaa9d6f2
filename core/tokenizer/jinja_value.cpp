// Python semantics of the template values: truth, str(), repr(), json.dumps and ==.
#include "core/tokenizer/jinja_value.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ps::jinja {

Value Value::none() {
    Value v;
    v.type_ = Type::None;
    return v;
}
Value::Value(bool b) : type_(Type::Bool), b_(b) {}
Value::Value(int64_t i) : type_(Type::Int), i_(i) {}
Value::Value(double d) : type_(Type::Float), d_(d) {}
Value::Value(std::string s)
    : type_(Type::String), s_(std::make_shared<const std::string>(std::move(s))) {}
Value::Value(List l) : type_(Type::List), list_(std::make_shared<List>(std::move(l))) {}
Value::Value(Dict d) : type_(Type::Dict), dict_(std::make_shared<Dict>(std::move(d))) {}
Value Value::function(Function f) {
    Value v;
    v.type_ = Type::Function;
    v.fn_ = std::make_shared<const Function>(std::move(f));
    return v;
}

bool Value::truthy() const {
    switch (type_) {
        case Type::Undefined:
        case Type::None:
            return false;
        case Type::Bool:
            return b_;
        case Type::Int:
            return i_ != 0;
        case Type::Float:
            return d_ != 0;
        case Type::String:
            return !s_->empty();
        case Type::List:
            return !list_->empty();
        case Type::Dict:
            return !dict_->empty();
        case Type::Function:
            return true;
    }
    return false;
}

Value Value::get(const std::string& key) const {
    if (type_ != Type::Dict) return {};
    for (const auto& [k, v] : *dict_)
        if (k == key) return v;
    return {};
}

void Value::set(const std::string& key, Value v) const {
    for (auto& [k, old] : *dict_)
        if (k == key) {
            old = std::move(v);
            return;
        }
    dict_->emplace_back(key, std::move(v));
}

namespace {

// Python's repr(float): the shortest digits that read back exactly, in fixed notation for
// exponents -4..15 and scientific ("1e-05", "1e+16") otherwise; always with a '.' or 'e'.
std::string float_repr(double d) {
    if (std::isnan(d)) return "nan";
    if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific);
    std::string sci(buf, r.ptr);  // "-1.2345e+02"
    const size_t e = sci.find('e');
    const int exponent = std::stoi(sci.substr(e + 1));
    const bool negative = sci[0] == '-';
    std::string digits;
    for (char c : sci.substr(0, e))
        if (c >= '0' && c <= '9') digits += c;
    std::string out = negative ? "-" : "";
    if (exponent < -4 || exponent >= 16) {
        out += digits.substr(0, 1);
        if (digits.size() > 1) out += "." + digits.substr(1);
        char exp[16];
        std::snprintf(exp, sizeof exp, "e%c%02d", exponent < 0 ? '-' : '+', std::abs(exponent));
        return out + exp;
    }
    if (exponent < 0) return out + "0." + std::string(-exponent - 1, '0') + digits;
    const size_t int_digits = static_cast<size_t>(exponent) + 1;
    if (digits.size() <= int_digits)
        return out + digits + std::string(int_digits - digits.size(), '0') + ".0";
    return out + digits.substr(0, int_digits) + "." + digits.substr(int_digits);
}

std::string string_repr(const std::string& s) {
    const char quote =
        s.find('\'') != std::string::npos && s.find('"') == std::string::npos ? '"' : '\'';
    std::string out(1, quote);
    for (unsigned char c : s) {
        if (c == '\\')
            out += "\\\\";
        else if (c == quote)
            out += std::string("\\") + static_cast<char>(c);
        else if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else if (c == '\t')
            out += "\\t";
        else if (c < 0x20 || c == 0x7f) {
            char hex[8];
            std::snprintf(hex, sizeof hex, "\\x%02x", c);
            out += hex;
        } else
            out += static_cast<char>(c);
    }
    return out + quote;
}

std::string json_string(const std::string& s) {
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
            case '"':
                out += "\\\"";
                break;
            case '\\':
                out += "\\\\";
                break;
            case '\n':
                out += "\\n";
                break;
            case '\r':
                out += "\\r";
                break;
            case '\t':
                out += "\\t";
                break;
            case '\b':
                out += "\\b";
                break;
            case '\f':
                out += "\\f";
                break;
            default:
                if (c < 0x20 || c == 0x7f) {
                    char hex[8];
                    std::snprintf(hex, sizeof hex, "\\u%04x", c);
                    out += hex;
                } else {
                    out += static_cast<char>(c);  // ensure_ascii=False: UTF-8 as is
                }
        }
    }
    return out + "\"";
}

void json_dump(const Value& v, int indent, int depth, std::string& out) {
    const auto newline = [&](int d) {
        if (indent >= 0) out += "\n" + std::string(static_cast<size_t>(indent * d), ' ');
    };
    const char* item_sep = indent >= 0 ? "," : ", ";
    switch (v.type()) {
        case Value::Type::List: {
            if (v.list().empty()) {
                out += "[]";
                return;
            }
            out += "[";
            for (size_t i = 0; i < v.list().size(); ++i) {
                if (i) out += item_sep;
                newline(depth + 1);
                json_dump(v.list()[i], indent, depth + 1, out);
            }
            newline(depth);
            out += "]";
            return;
        }
        case Value::Type::Dict: {
            if (v.dict().empty()) {
                out += "{}";
                return;
            }
            out += "{";
            bool first = true;
            for (const auto& [k, item] : v.dict()) {
                if (!first) out += item_sep;
                first = false;
                newline(depth + 1);
                out += json_string(key_value(k).str()) + ": ";  // json.dumps: int keys as strings
                json_dump(item, indent, depth + 1, out);
            }
            newline(depth);
            out += "}";
            return;
        }
        case Value::Type::String:
            out += json_string(v.as_string());
            return;
        case Value::Type::Bool:
            out += v.as_bool() ? "true" : "false";
            return;
        case Value::Type::Int:
            out += std::to_string(v.as_int());
            return;
        case Value::Type::Float: {
            const double d = v.as_double();
            out += std::isnan(d)   ? "NaN"
                   : std::isinf(d) ? (d > 0 ? "Infinity" : "-Infinity")
                                   : float_repr(d);
            return;
        }
        default:
            out += "null";
            return;  // None, undefined, functions
    }
}

}  // namespace

std::string Value::str() const {
    switch (type_) {
        case Type::Undefined:
            return "";
        case Type::String:
            return *s_;
        default:
            return repr();
    }
}

std::string Value::repr() const {
    switch (type_) {
        case Type::Undefined:
            return "";
        case Type::None:
            return "None";
        case Type::Bool:
            return b_ ? "True" : "False";
        case Type::Int:
            return std::to_string(i_);
        case Type::Float:
            return float_repr(d_);
        case Type::String:
            return string_repr(*s_);
        case Type::List: {
            std::string out = "[";
            for (size_t i = 0; i < list_->size(); ++i) out += (i ? ", " : "") + (*list_)[i].repr();
            return out + "]";
        }
        case Type::Dict: {
            std::string out = "{";
            bool first = true;
            for (const auto& [k, v] : *dict_) {
                out += (first ? "" : ", ") + key_value(k).repr() + ": " + v.repr();
                first = false;
            }
            return out + "}";
        }
        case Type::Function:
            return "<function>";
    }
    return "";
}

std::string Value::to_json(int indent) const {
    std::string out;
    json_dump(*this, indent, 0, out);
    return out;
}

bool operator==(const Value& a, const Value& b) {
    using T = Value::Type;
    if (a.is_number() && b.is_number()) {
        if (a.type() == T::Int && b.type() == T::Int) return a.as_int() == b.as_int();
        return a.as_double() == b.as_double();
    }
    // In Python True == 1; templates compare booleans with booleans, so keep the types apart.
    if (a.type() != b.type()) return false;
    switch (a.type()) {
        case T::Undefined:
        case T::None:
            return true;
        case T::Bool:
            return a.as_bool() == b.as_bool();
        case T::String:
            return a.as_string() == b.as_string();
        case T::List:
            return a.list() == b.list();
        case T::Dict: {
            if (a.dict().size() != b.dict().size()) return false;
            for (const auto& [k, v] : a.dict())
                if (!(b.get(k) == v) || b.get(k).is_undefined()) return false;
            return true;
        }
        default:
            return &a.callable() == &b.callable();
    }
}

std::string Value::type_name() const {
    switch (type_) {
        case Type::Undefined:
            return "undefined";
        case Type::None:
            return "NoneType";
        case Type::Bool:
            return "bool";
        case Type::Int:
            return "int";
        case Type::Float:
            return "float";
        case Type::String:
            return "str";
        case Type::List:
            return "list";
        case Type::Dict:
            return "dict";
        case Type::Function:
            return "function";
    }
    return "?";
}

std::optional<std::string> dict_key(const Value& key) {
    if (key.is_string()) return key.as_string();
    if (key.type() == Value::Type::Int) return "\x1f" + std::to_string(key.as_int());
    return std::nullopt;
}

Value key_value(const std::string& stored) {
    int64_t i = 0;
    if (!stored.empty() && stored[0] == '\x1f') {
        const auto r = std::from_chars(stored.data() + 1, stored.data() + stored.size(), i);
        if (r.ec == std::errc() && r.ptr == stored.data() + stored.size()) return Value(i);
    }
    return Value(stored);  // a string that merely starts with \x1f
}

Value CallArgs::arg(size_t index, const std::string& name) const {
    for (const auto& [k, v] : keyword)
        if (k == name) return v;
    return index < positional.size() ? positional[index] : Value();
}

}  // namespace ps::jinja
