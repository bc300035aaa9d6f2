// A model's chat template (GGUF tokenizer.chat_template, tokenizer_config.json chat_template or
// chat_template.jinja) and how a prompt is wrapped in it, as transformers' apply_chat_template
// does with add_generation_prompt: the text an instruct model sees before it answers.
#pragma once

#include <ctime>
#include <string>
#include <vector>

namespace ps {

struct ChatMessage {
    std::string role;  // "system", "user", "assistant"
    std::string content;
};

struct ChatTemplate {
    std::string text;                  // the Jinja source, empty if the model has none
    std::string source;                // where it came from: "model.gguf: tokenizer.chat_template"
    std::string bos_token, eos_token;  // the texts the template sees as bos_token and eos_token
    bool empty() const { return text.empty(); }
};

// Renders `messages` with the template's globals as Hugging Face sets them (messages,
// add_generation_prompt, bos_token, eos_token; strftime_now formats `now`). Throws ps::Error
// naming the template's source and line, including for the template's raise_exception().
std::string render_chat(const ChatTemplate& chat, const std::vector<ChatMessage>& messages,
                        bool add_generation_prompt = true, std::time_t now = std::time(nullptr));

}  // namespace ps
