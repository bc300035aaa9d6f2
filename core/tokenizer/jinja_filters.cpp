// The Jinja filters chat templates use (jinja2/filters.py), and Hugging Face's tojson
// (json.dumps with ensure_ascii=False).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>

#include "core/tokenizer/jinja_builtins.h"

namespace ps::jinja::detail {

Value call_filter(const std::string& name, const Value& in, const CallArgs& a) {
    if (name == "trim") return Value(strip(string_of(in, "trim"), a.arg(0, "chars"), true, true));
    if (name == "upper") return Value(map_chars(in.str(), [](int c) { return std::toupper(c); }));
    if (name == "lower") return Value(map_chars(in.str(), [](int c) { return std::tolower(c); }));
    if (name == "title") return Value(title(in.str()));
    if (name == "capitalize") return Value(capitalize(in.str()));
    if (name == "length" || name == "count") return Value(length(in));
    if (name == "string" || name == "safe" || name == "e" || name == "escape") {
        if (name == "e" || name == "escape") {
            std::string out;
            for (char c : in.str()) {
                switch (c) {
                    case '&':
                        out += "&amp;";
                        break;
                    case '<':
                        out += "&lt;";
                        break;
                    case '>':
                        out += "&gt;";
                        break;
                    case '"':
                        out += "&#34;";
                        break;
                    case '\'':
                        out += "&#39;";
                        break;
                    default:
                        out += c;
                }
            }
            return Value(out);
        }
        return Value(in.str());
    }
    if (name == "default" || name == "d") {
        const bool boolean = a.arg(1, "boolean").truthy();
        if (in.is_undefined() || (boolean && !in.truthy())) {
            const Value fallback = a.arg(0, "default_value");
            return fallback.is_undefined() ? Value("") : fallback;
        }
        return in;
    }
    if (name == "tojson") {
        const Value indent = a.arg(0, "indent");
        return Value(
            in.to_json(indent.type() == Value::Type::Int ? static_cast<int>(indent.as_int()) : -1));
    }
    if (name == "list") return Value(iterate(in));
    if (name == "first" || name == "last") {
        const List items = iterate(in);
        if (items.empty()) return {};
        return name == "first" ? items.front() : items.back();
    }
    if (name == "join") {
        const std::string sep = a.arg(0, "d").is_undefined() ? "" : a.arg(0, "d").str();
        const Value attr = a.arg(1, "attribute");
        std::string out;
        bool first = true;
        for (const Value& item : iterate(in)) {
            out += (first ? "" : sep) +
                   (attr.is_string() ? attribute(item, attr.as_string()) : item).str();
            first = false;
        }
        return Value(out);
    }
    if (name == "items") {
        if (in.is_undefined()) return Value(List{});
        if (!in.is_dict()) throw RuntimeError("items needs a dict, not " + in.type_name());
        List out;
        for (const auto& [k, v] : in.dict()) out.push_back(Value(List{key_value(k), v}));
        return Value(std::move(out));
    }
    if (name == "dictsort") {  // items sorted by key (case-insensitive) or by value
        Value items = call_filter("items", in, {});
        const bool case_sensitive = a.arg(0, "case_sensitive").truthy();
        const size_t by =
            a.arg(1, "by").is_string() && a.arg(1, "by").as_string() == "value" ? 1 : 0;
        const bool reverse = a.arg(2, "reverse").truthy();
        const auto key = [&](const Value& item) {
            const Value& k = item.list()[by];
            return k.is_string() && !case_sensitive
                       ? Value(map_chars(k.as_string(), [](int c) { return std::tolower(c); }))
                       : k;
        };
        std::stable_sort(items.list().begin(), items.list().end(),
                         [&](const Value& x, const Value& y) {
                             const int c = compare_values(key(x), key(y));
                             return reverse ? c > 0 : c < 0;
                         });
        return items;
    }
    if (name == "replace") {
        const Value count = a.arg(2, "count");
        return Value(replace(in.str(), a.arg(0, "old").str(), a.arg(1, "new").str(),
                             count.type() == Value::Type::Int ? count.as_int() : -1));
    }
    if (name == "reverse") {
        if (in.is_string()) {
            std::vector<std::string> chars = code_points(in.as_string());
            std::string out;
            for (auto it = chars.rbegin(); it != chars.rend(); ++it) out += *it;
            return Value(out);
        }
        List items = iterate(in);
        std::reverse(items.begin(), items.end());
        return Value(std::move(items));
    }
    if (name == "int") {
        if (in.type() == Value::Type::Int) return in;
        if (in.type() == Value::Type::Float) {
            const double d = in.as_double();
            if (!(d > -9.2e18 && d < 9.2e18))
                throw RuntimeError("cannot convert " + in.str() + " to int");
            return Value(static_cast<int64_t>(d));
        }
        if (in.type() == Value::Type::Bool) return Value(static_cast<int64_t>(in.as_bool()));
        try {
            return Value(static_cast<int64_t>(std::stoll(strip(in.str(), Value(), true, true))));
        } catch (const std::exception&) {
            const Value fallback = a.arg(0, "default");
            return fallback.is_undefined() ? Value(static_cast<int64_t>(0)) : fallback;
        }
    }
    if (name == "float") {
        if (in.is_number()) return Value(in.as_double());
        try {
            return Value(std::stod(in.str()));
        } catch (const std::exception&) {
            return Value(0.0);
        }
    }
    if (name == "abs") {
        if (in.type() == Value::Type::Int) {
            if (in.as_int() == INT64_MIN) throw RuntimeError("integer overflow");
            return Value(in.as_int() < 0 ? -in.as_int() : in.as_int());
        }
        if (in.is_number()) return Value(std::fabs(in.as_double()));
        throw RuntimeError("abs needs a number, not " + in.type_name());
    }
    if (name == "unique") {
        List out;
        for (const Value& item : iterate(in))
            if (std::find(out.begin(), out.end(), item) == out.end()) out.push_back(item);
        return Value(std::move(out));
    }
    if (name == "sort") {
        List items = iterate(in);
        const bool reverse = a.arg(0, "reverse").truthy();
        const Value attr = a.arg(2, "attribute");
        const auto key = [&](const Value& v) {
            return attr.is_string() ? attribute(v, attr.as_string()) : v;
        };
        std::stable_sort(items.begin(), items.end(), [&](const Value& x, const Value& y) {
            const int c = compare_values(key(x), key(y));
            return reverse ? c > 0 : c < 0;
        });
        return Value(std::move(items));
    }
    if (name == "map") {
        List out;
        const Value attr = a.arg(99, "attribute");
        if (attr.is_string()) {
            const Value fallback = a.arg(99, "default");
            for (const Value& item : iterate(in)) {
                Value v = attribute(item, attr.as_string());
                out.push_back(v.is_undefined() && !fallback.is_undefined() ? fallback : v);
            }
            return Value(std::move(out));
        }
        if (a.positional.empty()) throw RuntimeError("map needs a filter name or attribute=");
        const std::string filter = string_of(a.positional[0], "map");
        CallArgs rest;
        rest.positional.assign(a.positional.begin() + 1, a.positional.end());
        for (const Value& item : iterate(in)) out.push_back(call_filter(filter, item, rest));
        return Value(std::move(out));
    }
    if (name == "select") return select(in, a, false, true);
    if (name == "reject") return select(in, a, false, false);
    if (name == "selectattr") return select(in, a, true, true);
    if (name == "rejectattr") return select(in, a, true, false);
    if (name == "indent") {
        const Value w = a.arg(0, "width");
        const int64_t width = w.type() == Value::Type::Int ? w.as_int() : 4;
        if (!w.is_string() && (width < 0 || width > 1000))
            throw RuntimeError("indent width must be 0..1000");
        const std::string pad =
            w.is_string() ? w.as_string() : std::string(static_cast<size_t>(width), ' ');
        const bool first = a.arg(1, "first").truthy(), blank = a.arg(2, "blank").truthy();
        std::string out;
        const List lines = split(in.str(), Value("\n"), -1);
        for (size_t i = 0; i < lines.size(); ++i) {
            const std::string& line = lines[i].as_string();
            if (i) out += "\n";
            if ((i > 0 || first) && (blank || !line.empty())) out += pad;
            out += line;
        }
        return Value(out);
    }
    throw RuntimeError(
        "unsupported filter '" + name +
        "'; supported: trim, upper, lower, title, capitalize, length, count, string, safe, escape, "
        "default, tojson, list, first, last, join, items, dictsort, replace, reverse, int, float, "
        "abs, unique, "
        "sort, map, select, reject, selectattr, rejectattr, indent");
}

}  // namespace ps::jinja::detail
