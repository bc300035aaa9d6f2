// Rendering a parsed chat template: statements write to the output, expressions follow
// Python's semantics (jinja_value.cpp), scopes follow Jinja's (a for loop and a macro call
// have their own; {% if %} has none, so namespace() is how a loop reports out).
#include "core/tokenizer/jinja.h"

#include <algorithm>
#include <climits>
#include <cmath>
#include <unordered_map>

#include "core/error.h"
#include "core/tokenizer/jinja_ast.h"

namespace ps::jinja {

using namespace detail;

namespace {

using Scope = std::unordered_map<std::string, Value>;

class Renderer {
  public:
    Renderer(const std::string& origin, const RenderLimits& limits, std::time_t now)
        : origin_(origin), limits_(limits), now_(now) {}

    std::string render(const Body& body, const Dict& globals) {
        scopes_.emplace_back();
        install_globals();
        for (const auto& [k, v] : globals) scopes_.back()[k] = v;
        std::string out;
        run(body, out);
        return out;
    }

  private:
    enum class Flow { Normal, Break, Continue };

    [[noreturn]] void error(int line, const std::string& what) const {
        fail(origin_, "line " + std::to_string(line) + ": " + what);
    }
    void step(int line) {
        if (++steps_ > limits_.max_steps)
            error(line, "the template takes more than " + std::to_string(limits_.max_steps) +
                            " steps; expected a chat template to render in far fewer");
    }
    void write(std::string& out, const std::string& text, int line) const {
        if (out.size() + text.size() > limits_.max_output_bytes)
            error(line,
                  "the output exceeds " + std::to_string(limits_.max_output_bytes) + " bytes");
        out += text;
    }

    Value lookup(const std::string& name) const {
        for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it)
            if (auto found = it->find(name); found != it->end()) return found->second;
        return {};
    }

    void install_globals() {
        Scope& g = scopes_.back();
        g["raise_exception"] = Value::function([](const CallArgs& a) -> Value {
            throw RuntimeError("the template raised an error: " + a.arg(0, "message").str());
        });
        g["namespace"] = Value::function([](const CallArgs& a) {
            Dict d;
            for (const auto& [k, v] : a.keyword) d.emplace_back(k, v);
            return Value(std::move(d));
        });
        g["dict"] = g["namespace"];
        g["range"] = Value::function([this](const CallArgs& a) {
            int64_t start = 0, stop = 0, stride = 1;
            for (const Value& v : a.positional)
                if (v.type() != Value::Type::Int) throw RuntimeError("range() takes integers");
            if (a.positional.size() == 1)
                stop = a.positional[0].as_int();
            else if (a.positional.size() >= 2) {
                start = a.positional[0].as_int();
                stop = a.positional[1].as_int();
                if (a.positional.size() == 3) stride = a.positional[2].as_int();
            }
            if (stride == 0) throw RuntimeError("range() step must not be zero");
            List out;
            for (int64_t i = start; stride > 0 ? i < stop : i > stop;) {
                if (out.size() >= limits_.max_steps) throw RuntimeError("range() is too long");
                out.push_back(Value(i));
                if (__builtin_add_overflow(i, stride, &i)) break;  // past any stop
            }
            return Value(std::move(out));
        });
        g["strftime_now"] = Value::function([this](const CallArgs& a) {
            const std::string format = a.arg(0, "format").str();
            std::tm tm{};
            localtime_r(&now_, &tm);
            char buf[256];
            const size_t n = std::strftime(buf, sizeof buf, format.c_str(), &tm);
            return Value(std::string(buf, n));
        });
    }

    // ---- statements ----

    Flow run(const Body& body, std::string& out) {
        for (const Node& n : body) {
            step(n.line);
            try {
                const Flow f = run(n, out);
                if (f != Flow::Normal) return f;
            } catch (const RuntimeError& e) {
                error(n.line, e.what());
            }
        }
        return Flow::Normal;
    }

    Flow run(const Node& n, std::string& out) {
        switch (n.kind) {
            case Node::Kind::Text:
                write(out, n.text, n.line);
                return Flow::Normal;
            case Node::Kind::Output:
                write(out, eval(*n.expr).str(), n.line);
                return Flow::Normal;
            case Node::Kind::If:
                for (const Branch& b : n.branches)
                    if (!b.condition || eval(*b.condition).truthy()) return run(b.body, out);
                return Flow::Normal;
            case Node::Kind::For:
                return run_for(n, out);
            case Node::Kind::Set:
                assign(n, eval(*n.expr));
                return Flow::Normal;
            case Node::Kind::SetBlock: {
                std::string text;
                run(n.body, text);
                assign(n, Value(text));
                return Flow::Normal;
            }
            case Node::Kind::Macro:
                scopes_.back()[n.name] = macro(n);
                return Flow::Normal;
            case Node::Kind::Break:
                return Flow::Break;
            case Node::Kind::Continue:
                return Flow::Continue;
        }
        return Flow::Normal;
    }

    void assign(const Node& n, const Value& v) {
        if (n.name == ".") {
            const Value object = lookup(n.targets[0]);
            if (!object.is_dict())
                throw RuntimeError("cannot set '" + n.targets[1] + "' on " + n.targets[0] + ", a " +
                                   object.type_name() + "; expected a namespace()");
            object.set(n.targets[1], v);
        } else if (n.targets.size() == 1) {
            scopes_.back()[n.targets[0]] = v;
        } else {
            unpack(n.targets, v);
        }
    }

    void unpack(const std::vector<std::string>& targets, const Value& v) {
        const List items = iterate(v);
        if (items.size() != targets.size())
            throw RuntimeError("cannot unpack " + std::to_string(items.size()) + " values into " +
                               std::to_string(targets.size()) + " names");
        for (size_t i = 0; i < targets.size(); ++i) scopes_.back()[targets[i]] = items[i];
    }

    Flow run_for(const Node& n, std::string& out) {
        const List all = iterate(eval(*n.expr));
        scopes_.emplace_back();
        List items;
        for (const Value& item : all) {
            bind(n.targets, item);
            if (!n.filter || eval(*n.filter).truthy()) items.push_back(item);
        }
        const int64_t length = static_cast<int64_t>(items.size());
        for (int64_t i = 0; i < length; ++i) {
            step(n.line);  // an empty body still costs a step per item
            const Value& item = items[static_cast<size_t>(i)];
            bind(n.targets, item);
            Dict loop{{"index", Value(i + 1)},
                      {"index0", Value(i)},
                      {"revindex", Value(length - i)},
                      {"revindex0", Value(length - i - 1)},
                      {"first", Value(i == 0)},
                      {"last", Value(i == length - 1)},
                      {"length", Value(length)},
                      {"previtem", i > 0 ? items[static_cast<size_t>(i - 1)] : Value()},
                      {"nextitem", i + 1 < length ? items[static_cast<size_t>(i + 1)] : Value()}};
            loop.emplace_back("cycle", Value::function([i](const CallArgs& a) {
                                  if (a.positional.empty())
                                      throw RuntimeError("loop.cycle() needs at least one value");
                                  return a.positional[static_cast<size_t>(i) % a.positional.size()];
                              }));
            scopes_.back()["loop"] = Value(std::move(loop));
            if (run(n.body, out) == Flow::Break) break;
        }
        scopes_.pop_back();
        if (items.empty()) run(n.else_body, out);
        return Flow::Normal;
    }

    void bind(const std::vector<std::string>& targets, const Value& item) {
        if (targets.size() == 1)
            scopes_.back()[targets[0]] = item;
        else
            unpack(targets, item);
    }

    Value macro(const Node& n) {
        return Value::function([this, &n](const CallArgs& a) {
            if (++call_depth_ > limits_.max_call_depth)
                throw RuntimeError("macro calls nest deeper than " +
                                   std::to_string(limits_.max_call_depth));
            if (a.positional.size() > n.params.size())
                throw RuntimeError("macro '" + n.name + "' takes " +
                                   std::to_string(n.params.size()) + " arguments, " +
                                   std::to_string(a.positional.size()) + " given");
            // A macro sees the template's top level and its own arguments, not the caller's
            // locals.
            std::vector<Scope> saved(scopes_.begin() + 1, scopes_.end());
            scopes_.resize(1);
            scopes_.emplace_back();
            for (size_t i = 0; i < n.params.size(); ++i) {
                const auto& [name, fallback] = n.params[i];
                Value v = a.arg(i, name);
                if (v.is_undefined() && fallback) v = eval(*fallback);
                scopes_.back()[name] = v;
            }
            std::string text;
            run(n.body, text);
            scopes_.resize(1);
            scopes_.insert(scopes_.end(), saved.begin(), saved.end());
            --call_depth_;
            return Value(text);
        });
    }

    // ---- expressions ----

    CallArgs arguments(const Expr& e, size_t first) {
        CallArgs a;
        for (size_t i = first; i < e.operands.size(); ++i)
            a.positional.push_back(eval(*e.operands[i]));
        for (const auto& [k, v] : e.kwargs) a.keyword.emplace_back(k, eval(*v));
        return a;
    }

    Value eval(const Expr& e) {
        step(e.line);
        switch (e.kind) {
            case Expr::Kind::Literal:
                return e.value;
            case Expr::Kind::Name:
                return lookup(e.name);
            case Expr::Kind::List: {
                List l;
                for (const ExprPtr& item : e.operands) l.push_back(eval(*item));
                return Value(std::move(l));
            }
            case Expr::Kind::Dict: {
                Value d{Dict{}};
                for (size_t i = 0; i + 1 < e.operands.size(); i += 2) {
                    const Value key = eval(*e.operands[i]);
                    const std::optional<std::string> stored = dict_key(key);
                    if (!stored)
                        throw RuntimeError("dictionary keys must be strings or integers, not " +
                                           key.type_name());
                    d.set(*stored, eval(*e.operands[i + 1]));
                }
                return d;
            }
            case Expr::Kind::Attr:
                return subscript(eval(*e.operands[0]), Value(e.name));
            case Expr::Kind::Index:
                return subscript(eval(*e.operands[0]), eval(*e.operands[1]));
            case Expr::Kind::Slice: {
                const auto part = [&](size_t i) {
                    return e.operands[i] ? eval(*e.operands[i]) : Value::none();
                };
                return slice(eval(*e.operands[0]), part(1), part(2), part(3));
            }
            case Expr::Kind::Call:
                return call(e);
            case Expr::Kind::Filter: {
                const Value input = eval(*e.operands[0]);
                return call_filter(e.name, input, arguments(e, 1));
            }
            case Expr::Kind::Test: {
                const Value input = eval(*e.operands[0]);
                return Value(call_test(e.name, input, arguments(e, 1)) != e.negated);
            }
            case Expr::Kind::Not:
                return Value(!eval(*e.operands[0]).truthy());
            case Expr::Kind::Negate: {
                const Value v = eval(*e.operands[0]);
                if (v.type() == Value::Type::Int) {
                    if (v.as_int() == INT64_MIN) throw RuntimeError("integer overflow");
                    return Value(-v.as_int());
                }
                if (v.type() == Value::Type::Float) return Value(-v.as_double());
                throw RuntimeError("bad operand type for unary -: '" + v.type_name() + "'");
            }
            case Expr::Kind::And: {
                Value l = eval(*e.operands[0]);
                return l.truthy() ? eval(*e.operands[1]) : l;
            }
            case Expr::Kind::Or: {
                Value l = eval(*e.operands[0]);
                return l.truthy() ? l : eval(*e.operands[1]);
            }
            case Expr::Kind::Ternary:
                if (eval(*e.operands[1]).truthy()) return eval(*e.operands[0]);
                return e.operands[2] ? eval(*e.operands[2]) : Value();
            case Expr::Kind::Binary:
                return binary(e.name, eval(*e.operands[0]), eval(*e.operands[1]));
        }
        return {};
    }

    Value call(const Expr& e) {
        const Expr& callee = *e.operands[0];
        if (callee.kind == Expr::Kind::Attr) {
            const Value object = eval(*callee.operands[0]);
            const Value member = object.get(callee.name);
            if (member.type() == Value::Type::Function) return member.callable()(arguments(e, 1));
            return call_method(object, callee.name, arguments(e, 1));
        }
        const Value f = eval(callee);
        if (f.type() != Value::Type::Function) {
            const std::string name =
                callee.kind == Expr::Kind::Name ? "'" + callee.name + "'" : "the value";
            throw RuntimeError(name + " is " +
                               (f.is_undefined() ? "undefined" : "a " + f.type_name()) +
                               ", not a function");
        }
        return f.callable()(arguments(e, 1));
    }

    static Value binary(const std::string& op, const Value& l, const Value& r) {
        using T = Value::Type;
        if (op == "==") return Value(l == r);
        if (op == "!=") return Value(!(l == r));
        if (op == "~") return Value(l.str() + r.str());
        if (op == "in" || op == "not in") {
            bool found = false;
            if (r.is_string()) {
                if (!l.is_string())
                    throw RuntimeError("'in <string>' requires a string on the left, not " +
                                       l.type_name());
                found = r.as_string().find(l.as_string()) != std::string::npos;
            } else if (r.is_dict()) {
                const std::optional<std::string> key = dict_key(l);
                found = key && !r.get(*key).is_undefined();
            } else if (r.is_list()) {
                for (const Value& item : r.list()) found = found || item == l;
            } else if (!r.is_undefined()) {
                throw RuntimeError("argument of type '" + r.type_name() + "' is not iterable");
            }
            return Value(op == "in" ? found : !found);
        }
        if (op == "<" || op == ">" || op == "<=" || op == ">=") {
            int c = 0;
            if (l.is_number() && r.is_number())
                c = l.as_double() < r.as_double() ? -1 : l.as_double() > r.as_double();
            else if (l.is_string() && r.is_string())
                c = l.as_string().compare(r.as_string());
            else
                throw RuntimeError("'" + op + "' is not supported between '" + l.type_name() +
                                   "' and '" + r.type_name() + "'");
            return Value(op == "<" ? c < 0 : op == ">" ? c > 0 : op == "<=" ? c <= 0 : c >= 0);
        }
        if (op == "+") {
            if (l.is_string() && r.is_string()) return Value(l.as_string() + r.as_string());
            if (l.is_list() && r.is_list()) {
                List out = l.list();
                out.insert(out.end(), r.list().begin(), r.list().end());
                return Value(std::move(out));
            }
        }
        if (op == "*" &&
            ((l.is_string() && r.type() == T::Int) || (l.type() == T::Int && r.is_string()))) {
            const std::string& s = l.is_string() ? l.as_string() : r.as_string();
            const int64_t n = l.is_string() ? r.as_int() : l.as_int();
            if (n > 0 && static_cast<uint64_t>(n) > (16u << 20) / std::max<size_t>(1, s.size()))
                throw RuntimeError("string repetition is too long");
            std::string out;
            for (int64_t i = 0; i < n; ++i) out += s;
            return Value(out);
        }
        if (!l.is_number() || !r.is_number())
            throw RuntimeError("unsupported operand types for " + op + ": '" + l.type_name() +
                               "' and '" + r.type_name() + "'");
        const bool ints = l.type() == T::Int && r.type() == T::Int;
        const double a = l.as_double(), b = r.as_double();
        if (op == "/") {
            if (b == 0) throw RuntimeError("division by zero");
            return Value(a / b);
        }
        if (op == "//" || op == "%") {
            if (b == 0) throw RuntimeError("integer division or modulo by zero");
            if (ints) {
                const int64_t x = l.as_int(), y = r.as_int();
                if (x == INT64_MIN && y == -1) throw RuntimeError("integer overflow");
                int64_t q = x / y;
                if ((x % y != 0) && ((x < 0) != (y < 0))) --q;  // Python floors
                return op == "//" ? Value(q) : Value(x - q * y);
            }
            const double q = std::floor(a / b);
            return op == "//" ? Value(q) : Value(a - q * b);
        }
        if (op == "**") {
            if (ints && r.as_int() >= 0 && r.as_int() < 64) {
                int64_t out = 1;
                for (int64_t i = 0; i < r.as_int(); ++i)
                    if (__builtin_mul_overflow(out, l.as_int(), &out))
                        throw RuntimeError("integer overflow");
                return Value(out);
            }
            return Value(std::pow(a, b));
        }
        if (ints) {
            // Python's integers do not overflow; templates never come near 2^63, so it is an error.
            int64_t out = 0;
            const bool overflow = op == "+" ? __builtin_add_overflow(l.as_int(), r.as_int(), &out)
                                  : op == "-"
                                      ? __builtin_sub_overflow(l.as_int(), r.as_int(), &out)
                                      : __builtin_mul_overflow(l.as_int(), r.as_int(), &out);
            if (overflow) throw RuntimeError("integer overflow");
            return Value(out);
        }
        if (op == "+") return Value(a + b);
        if (op == "-") return Value(a - b);
        if (op == "*") return Value(a * b);
        throw RuntimeError("unknown operator " + op);
    }

    const std::string& origin_;
    const RenderLimits& limits_;
    std::time_t now_;
    std::vector<Scope> scopes_;
    size_t steps_ = 0;
    int call_depth_ = 0;
};

}  // namespace

Template::Template(std::string_view source, std::string origin)
    : body_(std::make_unique<Body>(parse_template(source, origin))), origin_(std::move(origin)) {}
Template::~Template() = default;
Template::Template(Template&&) noexcept = default;

std::string Template::render(const Dict& globals, std::time_t now,
                             const RenderLimits& limits) const {
    Renderer r(origin_, limits, now);
    return r.render(*body_, globals);
}

}  // namespace ps::jinja
