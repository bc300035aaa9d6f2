// The values a chat template computes with: Python's types as Jinja sees them (undefined,
// None, bool, int, float, str, list, dict, callable). Lists and dicts are shared by reference,
// as in Python, so `namespace()` objects can be changed by `{% set ns.x = ... %}`.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace ps::jinja {

class Value;
using List = std::vector<Value>;
// Insertion-ordered, like a Python dict; keys are strings (what chat templates use).
using Dict = std::vector<std::pair<std::string, Value>>;

struct CallArgs;
using Function = std::function<Value(const CallArgs&)>;

class Value {
  public:
    enum class Type { Undefined, None, Bool, Int, Float, String, List, Dict, Function };

    Value() = default;  // undefined
    static Value none();
    Value(bool b);
    Value(int i) : Value(static_cast<int64_t>(i)) {}
    Value(int64_t i);
    Value(double d);
    Value(std::string s);
    Value(const char* s) : Value(std::string(s)) {}
    Value(List l);
    Value(Dict d);
    static Value function(Function f);

    Type type() const { return type_; }
    bool is_undefined() const { return type_ == Type::Undefined; }
    bool is_none() const { return type_ == Type::None; }
    bool is_string() const { return type_ == Type::String; }
    bool is_number() const { return type_ == Type::Int || type_ == Type::Float; }
    bool is_list() const { return type_ == Type::List; }
    bool is_dict() const { return type_ == Type::Dict; }

    bool as_bool() const { return b_; }
    int64_t as_int() const { return i_; }
    double as_double() const { return type_ == Type::Int ? static_cast<double>(i_) : d_; }
    const std::string& as_string() const { return *s_; }
    List& list() const { return *list_; }
    Dict& dict() const { return *dict_; }
    const Function& callable() const { return *fn_; }

    // Python's truth value: empty strings, lists and dicts, 0, None and undefined are false.
    bool truthy() const;
    // A dict's member; undefined when missing or when this is not a dict.
    Value get(const std::string& key) const;
    // Sets a dict's member, keeping its position if it exists.
    void set(const std::string& key, Value v) const;

    // What {{ value }} prints: str() in Python ("True", "None", "['a', 1]"; undefined is "").
    std::string str() const;
    // Python's repr(): strings quoted ('it\'s' as "it's"), as inside printed lists.
    std::string repr() const;
    // json.dumps(value, ensure_ascii=False, indent=indent) as Hugging Face's tojson calls it.
    std::string to_json(int indent = -1) const;

    // Python's ==.
    friend bool operator==(const Value& a, const Value& b);

    // "str", "int", "list", ... for messages.
    std::string type_name() const;

  private:
    Type type_ = Type::Undefined;
    bool b_ = false;
    int64_t i_ = 0;
    double d_ = 0;
    std::shared_ptr<const std::string> s_;
    std::shared_ptr<List> list_;
    std::shared_ptr<Dict> dict_;
    std::shared_ptr<const Function> fn_;
};

// Python dicts may have integer keys ({0: 'a', 512: 'b'}); a Dict stores them as "\x1f" and
// the digits. dict_key gives the stored key of a str or int (nothing for other types), key_value
// the key as the template sees it.
std::optional<std::string> dict_key(const Value& key);
Value key_value(const std::string& stored);

// Arguments of a call: positional, then keyword, as written.
struct CallArgs {
    std::vector<Value> positional;
    std::vector<std::pair<std::string, Value>> keyword;
    // The argument at `index` or named `name`; undefined if neither was given.
    Value arg(size_t index, const std::string& name) const;
};

}  // namespace ps::jinja
