#include "core/tokenizer/chat_template.h"

#include "core/error.h"
#include "core/tokenizer/jinja.h"

namespace ps {

std::string render_chat(const ChatTemplate& chat, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt, std::time_t now) {
    if (chat.empty())
        throw Error((chat.source.empty() ? std::string("the model") : chat.source) +
                    ": no chat template (GGUF tokenizer.chat_template, tokenizer_config.json's "
                    "chat_template or chat_template.jinja); chat mode needs one");
    jinja::List list;
    for (const ChatMessage& m : messages)
        list.push_back(jinja::Value(jinja::Dict{{"role", m.role}, {"content", m.content}}));
    const jinja::Dict globals{{"messages", jinja::Value(std::move(list))},
                              {"add_generation_prompt", jinja::Value(add_generation_prompt)},
                              {"bos_token", jinja::Value(chat.bos_token)},
                              {"eos_token", jinja::Value(chat.eos_token)}};
    return jinja::Template(chat.text, chat.source).render(globals, now);
}

}  // namespace ps
