#include "core/tokenizer/prompt.h"

namespace ps {

std::string model_text(const Tokenizer& tok, const PromptInput& input) {
    if (!input.chat) return input.text;
    return render_chat(tok.chat_template, {{"user", input.text}}, true) + input.reply;
}

std::vector<int> prompt_tokens(const Tokenizer& tok, const PromptInput& input) {
    std::vector<int> ids = tok.encode(model_text(tok, input));
    if (!input.chat && tok.add_bos && tok.bos_id >= 0) ids.insert(ids.begin(), tok.bos_id);
    return ids;
}

}  // namespace ps
