// Fitting a prompt into the context window by dropping its beginning: the longest end of the text
// whose tokens (with BOS, when the tokenizer adds one) fit. Used when the user, told that the
// prompt is too long, chooses to keep its last tokens (the app never truncates silently).
#pragma once

#include <string>

namespace ps {

class Tokenizer;

struct PromptTail {
    std::string text;  // a suffix of the prompt, starting on a whole UTF-8 character
    int tokens = 0;    // its token count, BOS included
};

// The prompt's token count as the model sees it: BOS included when the tokenizer adds one.
int prompt_token_count(const Tokenizer& tok, const std::string& text);

// The end of `text` that fits in `max_tokens` (BOS included); `text` itself if it fits.
// Re-tokenizing a cut text can merge differently at the cut, so the result is checked by
// encoding it, and cut further until it fits.
PromptTail keep_last_tokens(const Tokenizer& tok, const std::string& text, int max_tokens);

}  // namespace ps
