// How what the user typed becomes the model's input: as plain text (BOS first when the
// tokenizer adds one) or, in chat mode, as a user message wrapped in the model's chat template
// with the assistant's turn opened, followed by the reply generated so far. In chat mode the
// template writes its own BOS (bos_token), as transformers' apply_chat_template(tokenize=True)
// does, so none is added.
#pragma once

#include <string>
#include <vector>

#include "core/tokenizer/tokenizer.h"

namespace ps {

struct PromptInput {
    std::string text;   // the prompt, or in chat mode the user's message
    bool chat = false;  // wrap it in the tokenizer's chat template
    std::string reply;  // chat mode: the assistant's reply so far (generated tokens' text)
};

// The text the tokens encode (in chat mode the rendered template plus the reply). Throws
// ps::Error if chat mode is asked of a model without a template, or the template fails.
std::string model_text(const Tokenizer& tok, const PromptInput& input);
std::vector<int> prompt_tokens(const Tokenizer& tok, const PromptInput& input);

}  // namespace ps
