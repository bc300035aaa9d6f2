// The lexical side of chat templates: segments (jinja2/lexer.py's whitespace handling with
// trim_blocks and lstrip_blocks) and the tokens of each tag.
#include "core/tokenizer/jinja_lex.h"

#include <algorithm>
#include <cctype>

#include "core/error.h"

namespace ps::jinja::detail {

namespace {

bool is_space(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

int count_lines(std::string_view s) {
    int n = 0;
    for (char c : s) n += c == '\n';
    return n;
}

class Segmenter {
  public:
    Segmenter(std::string_view source, const std::string& origin) : origin_(origin) {
        // Jinja normalizes line endings to \n and drops one trailing newline.
        for (size_t i = 0; i < source.size(); ++i) {
            if (source[i] == '\r') {
                src_ += '\n';
                if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
            } else {
                src_ += source[i];
            }
        }
        if (!src_.empty() && src_.back() == '\n') src_.pop_back();
    }

    std::vector<Segment> run() {
        std::vector<Segment> out;
        size_t pos = 0;
        bool strip_next = false;  // the previous tag ended with "-"
        int line = 1;
        while (pos <= src_.size()) {
            const size_t open = find_open(pos);
            std::string text = src_.substr(pos, open - pos);
            const bool line_starting = pos == 0 || src_[pos - 1] == '\n';
            if (strip_next)
                text.erase(0, std::min(text.size(), text.find_first_not_of(" \t\n\r\f\v")));
            strip_next = false;
            const int text_line = line;
            line += count_lines(src_.substr(pos, open - pos));
            if (open == src_.size()) {
                if (!text.empty()) out.push_back({Segment::Kind::Text, text, text_line});
                break;
            }
            const char kind = src_[open + 1];  // '{', '%' or '#'
            const char marker = open + 2 < src_.size() ? src_[open + 2] : '\0';
            if (marker == '-') {
                while (!text.empty() && is_space(text.back())) text.pop_back();
            } else if (marker != '+' && kind != '{') {
                // lstrip_blocks: a block or comment tag alone at the start of its line takes
                // the line's indentation with it.
                const size_t line_start = text.rfind('\n');
                const size_t from = line_start == std::string::npos ? 0 : line_start + 1;
                if ((line_start != std::string::npos || line_starting) &&
                    text.find_first_not_of(" \t", from) == std::string::npos)
                    text.erase(from);
            }
            if (!text.empty()) out.push_back({Segment::Kind::Text, text, text_line});

            const size_t inner = open + 2 + (marker == '-' || marker == '+');
            const std::string close = kind == '{' ? "}}" : kind == '%' ? "%}" : "#}";
            const size_t end = find_close(inner, close, kind == '#', line);
            size_t inner_end = end;
            bool strip_after = false, keep_newline = false;
            if (inner_end > inner && src_[inner_end - 1] == '-') {
                strip_after = true;
                --inner_end;
            } else if (kind != '{' && inner_end > inner && src_[inner_end - 1] == '+') {
                keep_newline = true;
                --inner_end;
            }
            std::string body = src_.substr(inner, inner_end - inner);
            const int tag_line = line;
            line += count_lines(src_.substr(open, end + 2 - open));
            pos = end + 2;
            if (kind == '%' && trimmed(body) == "raw") {
                pos = raw_block(pos, out, line);
                continue;
            }
            if (kind != '#')
                out.push_back(
                    {kind == '{' ? Segment::Kind::Var : Segment::Kind::Block, body, tag_line});
            strip_next = strip_after;
            // trim_blocks: the newline right after a block or comment tag goes with it.
            if (kind != '{' && !strip_after && !keep_newline && pos < src_.size() &&
                src_[pos] == '\n') {
                ++pos;
                ++line;
            }
        }
        return out;
    }

  private:
    static std::string trimmed(const std::string& s) {
        const size_t b = s.find_first_not_of(" \t\n");
        if (b == std::string::npos) return "";
        return s.substr(b, s.find_last_not_of(" \t\n") - b + 1);
    }

    size_t find_open(size_t pos) const {
        for (size_t i = pos; i + 1 < src_.size(); ++i)
            if (src_[i] == '{' && (src_[i + 1] == '{' || src_[i + 1] == '%' || src_[i + 1] == '#'))
                return i;
        return src_.size();
    }

    // The position of `close`, skipping string literals inside expressions.
    size_t find_close(size_t pos, const std::string& close, bool comment, int line) const {
        char quote = 0;
        for (size_t i = pos; i + 1 < src_.size(); ++i) {
            const char c = src_[i];
            if (quote) {
                if (c == '\\')
                    ++i;
                else if (c == quote)
                    quote = 0;
            } else if (!comment && (c == '\'' || c == '"')) {
                quote = c;
            } else if (c == close[0] && src_[i + 1] == close[1]) {
                return i;
            }
        }
        fail(origin_,
             "line " + std::to_string(line) + ": a tag is never closed; expected '" + close + "'");
    }

    // {% raw %}...{% endraw %}: the text in between, as written.
    size_t raw_block(size_t pos, std::vector<Segment>& out, int& line) {
        for (size_t i = pos; (i = src_.find("{%", i)) != std::string::npos; i += 2) {
            size_t j = i + 2;
            if (j < src_.size() && (src_[j] == '-' || src_[j] == '+')) ++j;
            while (j < src_.size() && is_space(src_[j])) ++j;
            if (src_.compare(j, 6, "endraw") != 0) continue;
            const size_t end = src_.find("%}", j);
            if (end == std::string::npos) break;
            std::string text = src_.substr(pos, i - pos);
            if (src_[i + 2] == '-')
                while (!text.empty() && is_space(text.back())) text.pop_back();
            out.push_back({Segment::Kind::Text, text, line});
            line += count_lines(src_.substr(pos, end + 2 - pos));
            return end + 2;
        }
        fail(origin_, "line " + std::to_string(line) + ": {% raw %} without {% endraw %}");
    }

    std::string src_;
    const std::string& origin_;
};

}  // namespace

std::vector<Segment> segment_template(std::string_view source, const std::string& origin) {
    return Segmenter(source, origin).run();
}

std::vector<Token> lex(const std::string& s, const std::string& where) {
    std::vector<Token> out;
    size_t i = 0;
    while (i < s.size()) {
        const char c = s[i];
        if (is_space(c)) {
            ++i;
        } else if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
            size_t j = i;
            while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '_'))
                ++j;
            out.push_back({Token::Kind::Name, s.substr(i, j - i), {}});
            i = j;
        } else if (std::isdigit(static_cast<unsigned char>(c))) {
            size_t j = i;
            bool is_float = false;
            while (j < s.size() && (std::isdigit(static_cast<unsigned char>(s[j])) || s[j] == '_'))
                ++j;
            if (j + 1 < s.size() && s[j] == '.' &&
                std::isdigit(static_cast<unsigned char>(s[j + 1]))) {
                is_float = true;
                ++j;
                while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
            }
            if (j < s.size() && (s[j] == 'e' || s[j] == 'E')) {
                size_t k = j + 1;
                if (k < s.size() && (s[k] == '+' || s[k] == '-')) ++k;
                if (k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
                    is_float = true;
                    j = k;
                    while (j < s.size() && std::isdigit(static_cast<unsigned char>(s[j]))) ++j;
                }
            }
            std::string digits;
            for (size_t k = i; k < j; ++k)
                if (s[k] != '_') digits += s[k];
            Token t{is_float ? Token::Kind::Float : Token::Kind::Int, digits, {}};
            try {
                t.value = is_float ? Value(std::stod(digits))
                                   : Value(static_cast<int64_t>(std::stoll(digits)));
            } catch (const std::exception&) {
                fail(where, "number " + digits + " is out of range");
            }
            out.push_back(std::move(t));
            i = j;
        } else if (c == '\'' || c == '"') {
            std::string text;
            size_t j = i + 1;
            for (; j < s.size() && s[j] != c; ++j) {
                if (s[j] != '\\' || j + 1 >= s.size()) {
                    text += s[j];
                    continue;
                }
                const char e = s[++j];
                switch (e) {
                    case 'n':
                        text += '\n';
                        break;
                    case 't':
                        text += '\t';
                        break;
                    case 'r':
                        text += '\r';
                        break;
                    case '\\':
                        text += '\\';
                        break;
                    case '\'':
                        text += '\'';
                        break;
                    case '"':
                        text += '"';
                        break;
                    case '\n':
                        break;
                    default:
                        text += '\\';
                        text += e;
                        break;  // Python keeps unknown escapes
                }
            }
            if (j >= s.size()) fail(where, "a string literal is never closed");
            out.push_back({Token::Kind::String, text, Value(text)});
            i = j + 1;
        } else {
            static const char* const kOps[] = {"//", "**", "==", "!=", "<=", ">=", "+", "-", "*",
                                               "/",  "%",  "~",  "<",  ">",  "=",  "(", ")", "[",
                                               "]",  "{",  "}",  ",",  ".",  ":",  "|"};
            bool found = false;
            for (const char* op : kOps)
                if (s.compare(i, std::char_traits<char>::length(op), op) == 0) {
                    out.push_back({Token::Kind::Op, op, {}});
                    i += std::char_traits<char>::length(op);
                    found = true;
                    break;
                }
            if (!found) fail(where, std::string("unexpected character '") + c + "'");
        }
    }
    out.push_back({Token::Kind::End, "", {}});
    return out;
}

}  // namespace ps::jinja::detail
