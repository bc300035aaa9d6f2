// Parsing a chat template: its segments (jinja_lex.cpp) become statements, and each tag is
// parsed by recursive descent with Jinja's operator precedence (jinja2/parser.py).
#include <algorithm>
#include <cctype>

#include "core/error.h"
#include "core/tokenizer/jinja_ast.h"
#include "core/tokenizer/jinja_lex.h"

namespace ps::jinja::detail {

namespace {

constexpr int kMaxNesting = 200;  // expression and block depth: bounds the parser's stack

class ExprParser {
  public:
    ExprParser(const std::string& text, int line, const std::string& origin)
        : where_(origin + ": line " + std::to_string(line)),
          line_(line),
          tokens_(lex(text, where_)) {}

    const Token& peek(size_t ahead = 0) const {
        return tokens_[std::min(pos_ + ahead, tokens_.size() - 1)];
    }
    bool at_op(const char* op) const { return peek().kind == Token::Kind::Op && peek().text == op; }
    bool at_name(const char* name) const {
        return peek().kind == Token::Kind::Name && peek().text == name;
    }
    bool at_end() const { return peek().kind == Token::Kind::End; }
    bool skip_op(const char* op) { return at_op(op) ? (++pos_, true) : false; }
    bool skip_name(const char* name) { return at_name(name) ? (++pos_, true) : false; }
    void expect_op(const char* op) {
        if (!skip_op(op)) error(std::string("expected '") + op + "'");
    }
    std::string expect_name() {
        if (peek().kind != Token::Kind::Name) error("expected a name");
        return tokens_[pos_++].text;
    }
    void expect_end() {
        if (!at_end()) error("unexpected '" + peek().text + "'");
    }
    [[noreturn]] void error(const std::string& what) const {
        fail(where_, what + (at_end() ? " at the end of the tag" : " near '" + peek().text + "'"));
    }

    ExprPtr expression() {
        Depth d(*this);
        ExprPtr e = or_expr();
        while (skip_name("if")) {
            ExprPtr cond = or_expr();
            ExprPtr otherwise = skip_name("else") ? expression() : nullptr;
            e = make(Expr::Kind::Ternary, "", std::move(e), std::move(cond), std::move(otherwise));
        }
        return e;
    }
    ExprPtr or_expr() {
        ExprPtr e = and_expr();
        while (skip_name("or")) e = make(Expr::Kind::Or, "", std::move(e), and_expr());
        return e;
    }

  private:
    struct Depth {
        explicit Depth(ExprParser& p) : p_(p) {
            if (++p_.depth_ > kMaxNesting) p_.error("expressions nest too deeply");
        }
        ~Depth() { --p_.depth_; }
        ExprParser& p_;
    };

    template <class... Operands>
    ExprPtr make(Expr::Kind kind, std::string name, Operands&&... operands) const {
        auto e = std::make_unique<Expr>();
        e->kind = kind;
        e->line = line_;
        e->name = std::move(name);
        (e->operands.push_back(std::forward<Operands>(operands)), ...);
        return e;
    }

    ExprPtr and_expr() {
        ExprPtr e = not_expr();
        while (skip_name("and")) e = make(Expr::Kind::And, "", std::move(e), not_expr());
        return e;
    }
    ExprPtr not_expr() {
        Depth d(*this);
        if (skip_name("not")) return make(Expr::Kind::Not, "", not_expr());
        return compare();
    }
    ExprPtr compare() {
        ExprPtr e = binary(0);
        for (;;) {
            static const char* const kCompare[] = {"==", "!=", "<=", ">=", "<", ">"};
            std::string op;
            for (const char* c : kCompare)
                if (at_op(c)) op = c;
            if (!op.empty()) {
                ++pos_;
            } else if (skip_name("in")) {
                op = "in";
            } else if (at_name("not") && peek(1).kind == Token::Kind::Name &&
                       peek(1).text == "in") {
                pos_ += 2;
                op = "not in";
            } else {
                return e;
            }
            e = make(Expr::Kind::Binary, op, std::move(e), binary(0));
        }
    }
    // Levels, loosest first: + -, ~, * / // %, **.
    ExprPtr binary(int level) {
        static const std::vector<std::vector<const char*>> kLevels = {
            {"+", "-"}, {"~"}, {"*", "/", "//", "%"}, {"**"}};
        if (level == static_cast<int>(kLevels.size())) return unary();
        ExprPtr e = binary(level + 1);
        for (bool more = true; more;) {
            more = false;
            for (const char* op : kLevels[static_cast<size_t>(level)])
                if (skip_op(op)) {
                    e = make(Expr::Kind::Binary, op, std::move(e), binary(level + 1));
                    more = true;
                    break;
                }
        }
        return e;
    }
    ExprPtr unary(bool with_filters = true) {
        Depth d(*this);
        ExprPtr e;
        if (skip_op("-"))
            e = make(Expr::Kind::Negate, "", unary(false));
        else if (skip_op("+"))
            e = unary(false);
        else
            e = postfix(primary());
        return with_filters ? filters(std::move(e)) : std::move(e);
    }
    ExprPtr primary() {
        Depth d(*this);
        const Token& t = peek();
        if (t.kind == Token::Kind::String) {
            std::string text;
            while (peek().kind == Token::Kind::String) text += tokens_[pos_++].text;  // 'a' 'b'
            ExprPtr e = make(Expr::Kind::Literal, "");
            e->value = Value(text);
            return e;
        }
        if (t.kind == Token::Kind::Int || t.kind == Token::Kind::Float) {
            ExprPtr e = make(Expr::Kind::Literal, "");
            e->value = tokens_[pos_++].value;
            return e;
        }
        if (t.kind == Token::Kind::Name) {
            const std::string name = tokens_[pos_++].text;
            ExprPtr e = make(Expr::Kind::Literal, "");
            if (name == "true" || name == "True")
                e->value = Value(true);
            else if (name == "false" || name == "False")
                e->value = Value(false);
            else if (name == "none" || name == "None")
                e->value = Value::none();
            else
                e = make(Expr::Kind::Name, name);
            return e;
        }
        if (skip_op("(")) {
            if (skip_op(")")) return make(Expr::Kind::List, "");  // () is an empty tuple
            ExprPtr first = expression();
            if (!at_op(",")) {
                expect_op(")");
                return first;
            }
            ExprPtr tuple = make(Expr::Kind::List, "", std::move(first));
            while (skip_op(",") && !at_op(")")) tuple->operands.push_back(expression());
            expect_op(")");
            return tuple;
        }
        if (skip_op("[")) {
            ExprPtr list = make(Expr::Kind::List, "");
            while (!at_op("]")) {
                list->operands.push_back(expression());
                if (!skip_op(",")) break;
            }
            expect_op("]");
            return list;
        }
        if (skip_op("{")) {
            ExprPtr dict = make(Expr::Kind::Dict, "");
            while (!at_op("}")) {
                dict->operands.push_back(expression());
                expect_op(":");
                dict->operands.push_back(expression());
                if (!skip_op(",")) break;
            }
            expect_op("}");
            return dict;
        }
        error("expected a value");
    }
    ExprPtr postfix(ExprPtr e) {
        for (;;) {
            if (skip_op(".")) {
                if (peek().kind == Token::Kind::Int) {  // x.0, as Jinja allows
                    ExprPtr index = make(Expr::Kind::Literal, "");
                    index->value = tokens_[pos_++].value;
                    e = make(Expr::Kind::Index, "", std::move(e), std::move(index));
                } else {
                    e = make(Expr::Kind::Attr, expect_name(), std::move(e));
                }
            } else if (skip_op("[")) {
                e = subscript(std::move(e));
            } else if (at_op("(")) {
                e = call(make(Expr::Kind::Call, "", std::move(e)));
            } else {
                return e;
            }
        }
    }
    ExprPtr subscript(ExprPtr object) {
        ExprPtr parts[3];
        int n = 0;
        bool slice = false;
        for (;;) {
            if (!at_op(":") && !at_op("]")) parts[n] = expression();
            if (skip_op(":")) {
                slice = true;
                if (++n == 3) error("a slice has at most three parts");
                continue;
            }
            break;
        }
        expect_op("]");
        if (!slice && !parts[0]) error("expected an index between [ and ]");
        if (!slice) return make(Expr::Kind::Index, "", std::move(object), std::move(parts[0]));
        return make(Expr::Kind::Slice, "", std::move(object), std::move(parts[0]),
                    std::move(parts[1]), std::move(parts[2]));
    }
    // (args, name=value): appended to e's operands and kwargs.
    ExprPtr call(ExprPtr e) {
        expect_op("(");
        while (!at_op(")")) {
            if (peek().kind == Token::Kind::Name && peek(1).kind == Token::Kind::Op &&
                peek(1).text == "=") {
                std::string name = tokens_[pos_].text;
                pos_ += 2;
                e->kwargs.emplace_back(std::move(name), expression());
            } else {
                if (!e->kwargs.empty()) error("a positional argument follows a keyword argument");
                e->operands.push_back(expression());
            }
            if (!skip_op(",")) break;
        }
        expect_op(")");
        return e;
    }
    ExprPtr filters(ExprPtr e) {
        for (;;) {
            if (skip_op("|")) {
                e = make(Expr::Kind::Filter, expect_name(), std::move(e));
                if (at_op("(")) e = call(std::move(e));
            } else if (skip_name("is")) {
                const bool negated = skip_name("not");
                e = make(Expr::Kind::Test, expect_name(), std::move(e));
                e->negated = negated;
                if (at_op("(")) {
                    e = call(std::move(e));
                } else if (starts_test_argument()) {
                    e->operands.push_back(postfix(primary()));
                }
            } else if (at_op("(")) {
                e = call(make(Expr::Kind::Call, "", std::move(e)));
            } else {
                return e;
            }
        }
    }
    // "x is divisibleby 3", "x is sameas false": a test takes one bare argument.
    bool starts_test_argument() const {
        const Token& t = peek();
        if (t.kind == Token::Kind::String || t.kind == Token::Kind::Int ||
            t.kind == Token::Kind::Float)
            return true;
        if (t.kind != Token::Kind::Name) return false;
        static const char* const kStop[] = {"else", "or", "and", "if", "in", "not", "is"};
        for (const char* s : kStop)
            if (t.text == s) return false;
        return true;
    }

    std::string where_;
    int line_;
    std::vector<Token> tokens_;
    size_t pos_ = 0;
    int depth_ = 0;
};

// ---- statements ----

class TemplateParser {
  public:
    TemplateParser(std::vector<Segment> segments, const std::string& origin)
        : segments_(std::move(segments)), origin_(origin) {}

    Body parse() {
        std::string end;
        Body body = block({}, end);
        return body;
    }

  private:
    [[noreturn]] void error(int line, const std::string& what) const {
        fail(origin_, "line " + std::to_string(line) + ": " + what);
    }

    // Statements up to a block tag whose first word is in `ends` (stored in `end`, its
    // parser left on the rest of the tag in `rest_`).
    Body block(const std::vector<std::string>& ends, std::string& end) {
        if (++depth_ > kMaxNesting)
            error(segments_[std::min(pos_, segments_.size() - 1)].line, "blocks nest too deeply");
        Body body;
        while (pos_ < segments_.size()) {
            const Segment& s = segments_[pos_++];
            if (s.kind == Segment::Kind::Text) {
                Node n;
                n.kind = Node::Kind::Text;
                n.line = s.line;
                n.text = s.text;
                body.push_back(std::move(n));
                continue;
            }
            auto p = std::make_unique<ExprParser>(s.text, s.line, origin_);
            if (s.kind == Segment::Kind::Var) {
                Node n;
                n.kind = Node::Kind::Output;
                n.line = s.line;
                n.expr = p->expression();
                p->expect_end();
                body.push_back(std::move(n));
                continue;
            }
            const std::string word = p->expect_name();
            for (const std::string& e : ends)
                if (word == e) {
                    end = word;
                    rest_ = std::move(p);
                    --depth_;
                    return body;
                }
            body.push_back(statement(word, *p, s.line));
        }
        if (!ends.empty())
            error(segments_.empty() ? 1 : segments_.back().line,
                  "missing {% " + ends.back() + " %}");
        --depth_;
        return body;
    }

    Node statement(const std::string& word, ExprParser& p, int line) {
        Node n;
        n.line = line;
        std::string end;
        if (word == "if") {
            n.kind = Node::Kind::If;
            ExprPtr cond = p.expression();
            p.expect_end();
            for (;;) {
                Body body = block({"elif", "else", "endif"}, end);
                n.branches.push_back({std::move(cond), std::move(body)});
                if (end == "endif") break;
                if (end == "else") {
                    rest_->expect_end();
                    n.branches.push_back({nullptr, block({"endif"}, end)});
                    break;
                }
                cond = rest_->expression();
                rest_->expect_end();
            }
            rest_->expect_end();
        } else if (word == "for") {
            n.kind = Node::Kind::For;
            const bool paren = p.skip_op("(");
            do n.targets.push_back(p.expect_name());
            while (p.skip_op(","));
            if (paren) p.expect_op(")");
            if (!p.skip_name("in")) p.error("expected 'in'");
            n.expr = p.or_expr();
            if (p.skip_name("if")) n.filter = p.or_expr();
            if (p.at_name("recursive")) p.error("recursive loops are not supported");
            p.expect_end();
            n.body = block({"else", "endfor"}, end);
            if (end == "else") {
                rest_->expect_end();
                n.else_body = block({"endfor"}, end);
            }
            rest_->expect_end();
        } else if (word == "set") {
            n.targets.push_back(p.expect_name());
            if (p.skip_op(".")) {
                n.targets.push_back(p.expect_name());
                n.name = ".";  // set ns.attr = ...
            } else
                while (p.skip_op(",")) n.targets.push_back(p.expect_name());
            if (p.skip_op("=")) {
                n.kind = Node::Kind::Set;
                n.expr = p.expression();
                p.expect_end();
            } else {
                n.kind = Node::Kind::SetBlock;
                p.expect_end();
                n.body = block({"endset"}, end);
                rest_->expect_end();
            }
        } else if (word == "macro") {
            n.kind = Node::Kind::Macro;
            n.name = p.expect_name();
            p.expect_op("(");
            while (!p.at_op(")")) {
                std::string name = p.expect_name();
                n.params.emplace_back(std::move(name), p.skip_op("=") ? p.expression() : nullptr);
                if (!p.skip_op(",")) break;
            }
            p.expect_op(")");
            p.expect_end();
            n.body = block({"endmacro"}, end);
            rest_->expect_end();
        } else if (word ==
                   "generation") {  // Hugging Face's assistant-mask marker: renders its body
            p.expect_end();
            n.kind = Node::Kind::If;
            auto always = std::make_unique<Expr>();
            always->value = Value(true);
            n.branches.push_back({std::move(always), block({"endgeneration"}, end)});
            rest_->expect_end();
        } else if (word == "break" || word == "continue") {
            p.expect_end();
            n.kind = word == "break" ? Node::Kind::Break : Node::Kind::Continue;
        } else {
            error(line,
                  "unsupported tag '{% " + word +
                      " %}'; supported: if, for, set, macro, break, continue, raw, generation");
        }
        return n;
    }

    std::vector<Segment> segments_;
    const std::string& origin_;
    size_t pos_ = 0;
    int depth_ = 0;
    std::unique_ptr<ExprParser> rest_;  // the end tag's parser, for what follows its word
};

}  // namespace

Body parse_template(std::string_view source, const std::string& origin) {
    TemplateParser parser(segment_template(source, origin), origin);
    return parser.parse();
}

}  // namespace ps::jinja::detail
