// libFuzzer target: a chat template is downloaded, untrusted text. The input is the template; it
// is parsed and rendered for a short conversation with small work and output bounds. A syntax
// error, an unsupported construct, a raise_exception or a hit bound must be a ps::Error;
// anything else escaping (a crash, a hang, a sanitizer report) is a finding.
#include <string_view>

#include "core/error.h"
#include "core/tokenizer/jinja.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    namespace jinja = ps::jinja;
    const std::string_view source(reinterpret_cast<const char*>(data), size);
    static const jinja::Dict globals{
        {"messages",
         jinja::Value(jinja::List{
             jinja::Value(jinja::Dict{{"role", "system"}, {"content", "Be brief."}}),
             jinja::Value(jinja::Dict{{"role", "user"}, {"content", "Hi \"there\" \xC3\xA9"}}),
             jinja::Value(jinja::Dict{{"role", "assistant"}, {"content", " Hello!\n"}})})},
        {"add_generation_prompt", jinja::Value(true)},
        {"bos_token", jinja::Value("<s>")},
        {"eos_token", jinja::Value("</s>")}};
    jinja::RenderLimits limits;
    limits.max_steps = 200000;
    limits.max_output_bytes = 1 << 16;
    try {
        jinja::Template t(source, "fuzz.jinja");
        (void)t.render(globals, 0, limits);
    } catch (const ps::Error&) {
    }
    return 0;
}
