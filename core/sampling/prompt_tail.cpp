#include "core/sampling/prompt_tail.h"

#include <algorithm>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace ps {

namespace {

bool adds_bos(const Tokenizer& tok) {
    return tok.add_bos && tok.bos_id >= 0;
}

bool is_utf8_continuation(char c) {
    return (static_cast<unsigned char>(c) & 0xC0) == 0x80;
}

}  // namespace

int prompt_token_count(const Tokenizer& tok, const std::string& text) {
    return static_cast<int>(tok.encode(text).size()) + (adds_bos(tok) ? 1 : 0);
}

PromptTail keep_last_tokens(const Tokenizer& tok, const std::string& text, int max_tokens) {
    const std::vector<int> ids = tok.encode(text);
    const int bos = adds_bos(tok) ? 1 : 0;
    const int budget = std::max(0, max_tokens - bos);
    const int n = static_cast<int>(ids.size());
    if (n <= budget) return {text, n + bos};
    int keep = budget;
    while (true) {
        // The bytes the last `keep` tokens stand for. Unknown and control tokens stand for no
        // bytes, so this may undercount: the tail is then shorter than it could be, never longer.
        size_t tail_bytes = 0;
        for (int i = n - keep; i < n; i++) tail_bytes += tok.token_bytes(ids[i]).size();
        size_t start = text.size() - std::min(tail_bytes, text.size());
        while (start < text.size() && is_utf8_continuation(text[start])) start++;
        std::string tail = text.substr(start);
        const int count = static_cast<int>(tok.encode(tail).size());
        if (count <= budget || keep == 0) return {std::move(tail), count + bos};
        keep = std::max(0, keep - (count - budget));
    }
}

}  // namespace ps
