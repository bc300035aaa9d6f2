// Chat templates: the Jinja renderer against Jinja2 itself (every construct chat templates use,
// expected outputs written by tests/support/chat_template_cases.py with transformers' settings),
// the real Llama 3 template from ../shared tokenized as Llama 3 does, templates read from GGUF
// metadata and tokenizer_config.json, and untrusted templates stopped with clear errors.
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/formats/tokenizer_files.h"
#include "core/tokenizer/chat_template.h"
#include "core/tokenizer/jinja.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/support/chat_template_cases.h"
#include "tests/support/expect_error.h"
#include "tests/support/gguf_writer.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "tests/support/tiny_fixtures.h"

namespace jinja = ps::jinja;
using ordered_json = nlohmann::ordered_json;

namespace {

jinja::Value from_json(const ordered_json& j) {
    if (j.is_null()) return jinja::Value::none();
    if (j.is_boolean()) return jinja::Value(j.get<bool>());
    if (j.is_number_integer()) return jinja::Value(j.get<int64_t>());
    if (j.is_number()) return jinja::Value(j.get<double>());
    if (j.is_string()) return jinja::Value(j.get<std::string>());
    if (j.is_array()) {
        jinja::List l;
        for (const auto& item : j) l.push_back(from_json(item));
        return jinja::Value(std::move(l));
    }
    jinja::Dict d;
    for (const auto& [k, v] : j.items()) d.emplace_back(k, from_json(v));
    return jinja::Value(std::move(d));
}

std::string render(const std::string& source, const jinja::Dict& globals = {},
                   const jinja::RenderLimits& limits = {}) {
    return jinja::Template(source, "t.jinja").render(globals, ps::test::kChatCaseNow, limits);
}

// A ChatML template (SmolLM2's and Qwen2.5's shape), written here.
const char* const kChatMl =
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + "
    "message['content'] + '<|im_end|>\\n' }}{% endfor %}{% if add_generation_prompt %}"
    "{{ '<|im_start|>assistant\\n' }}{% endif %}";

// A Gemma-style template: BOS, turns between <start_of_turn> and <end_of_turn>, "model".
const char* const kGemmaStyle =
    "{{ bos_token }}{% for message in messages %}{% set role = 'model' if message['role'] == "
    "'assistant' else message['role'] %}{{ '<start_of_turn>' + role + '\\n' + message['content'] | "
    "trim + '<end_of_turn>\\n' }}{% endfor %}{% if add_generation_prompt %}{{ "
    "'<start_of_turn>model\\n' }}{% endif %}";

}  // namespace

class TestChatTemplate : public QObject {
    Q_OBJECT

  private slots:
    // Each construct renders exactly as Jinja2 renders it with transformers' environment.
    void matchesJinja2() {
        const ordered_json context = ordered_json::parse(ps::test::kChatCaseContext);
        jinja::Dict globals;
        for (const auto& [k, v] : context.items()) globals.emplace_back(k, from_json(v));
        for (const ps::test::ChatCase& c : ps::test::kChatCases) {
            std::string got;
            try {
                got = render(c.source, globals);
            } catch (const ps::Error& e) {
                QFAIL(qPrintable(QString("%1: %2").arg(c.name, e.what())));
            }
            QVERIFY2(got == c.expected,
                     qPrintable(QString("%1:\n got  [%2]\n want [%3]")
                                    .arg(c.name, QString::fromStdString(got), c.expected)));
        }
    }

    // Python's value semantics where templates depend on them.
    void valueSemantics() {
        QCOMPARE(jinja::Value(1.0).str(), std::string("1.0"));
        QCOMPARE(jinja::Value(1e16).str(), std::string("1e+16"));
        QCOMPARE(jinja::Value(123456789.125).str(), std::string("123456789.125"));
        QCOMPARE(jinja::Value(0.0001).str(), std::string("0.0001"));
        QCOMPARE(jinja::Value(0.00001).str(), std::string("1e-05"));
        QCOMPARE(jinja::Value(-2.5).str(), std::string("-2.5"));
        QCOMPARE(jinja::Value("it's").repr(), std::string("\"it's\""));
        QCOMPARE(jinja::Value("a\nb").repr(), std::string("'a\\nb'"));
        QCOMPARE(jinja::Value("é\t").to_json(), std::string("\"é\\t\""));
        QVERIFY(jinja::Value(1) == jinja::Value(1.0));
        QVERIFY(!(jinja::Value("1") == jinja::Value(1)));
        QVERIFY(!jinja::Value(jinja::List{}).truthy());
        QVERIFY(jinja::Value(jinja::List{jinja::Value(0)}).truthy());
    }

    // Meta's Llama 3 template as shipped (../shared), rendered and tokenized: its headers are
    // single special tokens, and the BOS comes from the template (bos_token), once.
    void llama3TemplateFromTokenizerConfig() {
        PS_REQUIRE_SHARED(dir, "tokenizers/llama3");
        const auto tok = ps::load_hf_tokenizer(dir);
        const ps::ChatTemplate& chat = tok->chat_template;
        QVERIFY(!chat.empty());
        QVERIFY2(chat.source.ends_with("tokenizer_config.json: chat_template"),
                 chat.source.c_str());
        QCOMPARE(chat.bos_token, std::string("<|begin_of_text|>"));
        const std::string text = ps::render_chat(chat, {{"user", " What is a parameter? "}});
        // The template trims the content and ends with the assistant's header.
        QCOMPARE(text, std::string("<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\n"
                                   "What is a parameter?<|eot_id|><|start_header_id|>assistant"
                                   "<|end_header_id|>\n\n"));
        const std::vector<int> ids = tok->encode(text);
        const std::vector<int> head(ids.begin(), ids.begin() + 4);
        QCOMPARE(head, (std::vector<int>{128000, 128006, tok->encode("user")[0], 128007}));
        QCOMPARE(ids[ids.size() - 2], 128007);
        QCOMPARE(ids.back(), tok->encode("\n\n").at(0));
        QCOMPARE(std::count(ids.begin(), ids.end(), 128000), 1);
        QCOMPARE(tok->decode(ids).find("What is a parameter?") != std::string::npos, true);
    }

    void chatTemplateJinjaFileAndNamedList() {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        ps::test::write_hf_gpt2(dir);
        std::ofstream(dir + "/tokenizer_config.json")
            << R"({"chat_template": [{"name": "tool_use", "template": "T"},)"
               R"( {"name": "default", "template": "D{{ messages[0].content }}"}]})";
        auto tok = ps::load_hf_tokenizer(dir);
        QCOMPARE(tok->chat_template.text, std::string("D{{ messages[0].content }}"));
        QVERIFY(tok->chat_template.source.ends_with("chat_template[1]"));
        QCOMPARE(ps::render_chat(tok->chat_template, {{"user", "x"}}), std::string("Dx"));
        // chat_template.jinja wins, as in transformers.
        std::ofstream(dir + "/chat_template.jinja") << kChatMl;
        tok = ps::load_hf_tokenizer(dir);
        QVERIFY(tok->chat_template.source.ends_with("chat_template.jinja"));
        QCOMPARE(ps::render_chat(tok->chat_template, {{"user", "hi"}}),
                 std::string("<|im_start|>user\nhi<|im_end|>\n<|im_start|>assistant\n"));
        std::ofstream(dir + "/tokenizer_config.json") << R"({"chat_template": 5})";
        std::filesystem::remove(dir + "/chat_template.jinja");
        EXPECT_ERROR(ps::load_hf_tokenizer(dir), "tokenizer_config.json", "chat_template is number",
                     "expected a string");
    }

    // A SentencePiece GGUF (Gemma's layout) with its template in tokenizer.chat_template: the
    // turn markers written by the template are its control tokens.
    void ggufTemplateWithSentencePieceControlTokens() {
        ps::SpmVocab v = ps::test::small_spm_vocab();
        std::vector<int32_t> types;
        for (size_t id = 0; id < v.pieces.size(); ++id) {
            const std::string& p = v.pieces[id];
            types.push_back(id == 0 ? 2 : id <= 2 ? 3 : p.starts_with("<0x") ? 6 : 1);
        }
        const int start = static_cast<int>(v.pieces.size());
        for (const char* p : {"<start_of_turn>", "<end_of_turn>"}) {
            v.pieces.push_back(p);
            v.scores.push_back(0);
            types.push_back(3);
        }
        QTemporaryDir tmp;
        const std::string path = tmp.path().toStdString() + "/vocab.gguf";
        ps::test::GgufWriter g;
        g.set_string("general.architecture", "gemma3");
        g.set_string("tokenizer.ggml.model", "llama");
        g.set_string_array("tokenizer.ggml.tokens", v.pieces);
        g.set_f32_array("tokenizer.ggml.scores", v.scores);
        g.set_i32_array("tokenizer.ggml.token_type", types);
        g.set_u32("tokenizer.ggml.bos_token_id", 1);
        g.set_u32("tokenizer.ggml.eos_token_id", 2);
        g.set_bool("tokenizer.ggml.add_space_prefix", false);
        g.set_string("tokenizer.chat_template", kGemmaStyle);
        g.write(path);

        const auto tok = ps::load_gguf_tokenizer(path);
        QCOMPARE(tok->chat_template.source, path + ": tokenizer.chat_template");
        QCOMPARE(tok->chat_template.bos_token, std::string("<s>"));
        const std::string text = ps::render_chat(tok->chat_template, {{"user", "ab"}});
        QCOMPARE(text,
                 std::string("<s><start_of_turn>user\nab<end_of_turn>\n<start_of_turn>model\n"));
        const std::vector<int> ids = tok->encode(text);
        QCOMPARE(ids[0], 1);
        QCOMPARE(ids[1], start);
        QCOMPARE(std::count(ids.begin(), ids.end(), start), 2);
        QCOMPARE(std::count(ids.begin(), ids.end(), start + 1), 1);
        // The text between the markers is tokenized as text: no control token inside it.
        QCOMPARE(tok->decode(ids), std::string("user\nab\nmodel\n"));
    }

    void templateErrorsNameTheLine() {
        EXPECT_ERROR(render("a\n{% if x %}b"), "t.jinja", "missing {% endif %}");
        EXPECT_ERROR(render("a\n{{ x"), "t.jinja", "line 2", "never closed");
        EXPECT_ERROR(render("{% for x in %}{% endfor %}"), "t.jinja", "line 1", "expected a value");
        EXPECT_ERROR(render("\n\n{{ x | frobnicate }}"), "t.jinja", "line 3",
                     "unsupported filter 'frobnicate'", "supported: trim");
        EXPECT_ERROR(render("{% include 'x' %}"), "unsupported tag '{% include %}'");
        EXPECT_ERROR(render("{{ [1] + 3[] }}"),
                     "expected an index");  // found by fuzz_chat_template
        EXPECT_ERROR(render("{{ 'a' + 1 }}"), "unsupported operand types for +: 'str' and 'int'");
        EXPECT_ERROR(render("{{ raise_exception('Conversation roles must alternate') }}"),
                     "t.jinja: line 1", "Conversation roles must alternate");
        EXPECT_ERROR(render("{{ nothing() }}"), "'nothing' is undefined, not a function");
        EXPECT_ERROR(ps::render_chat(ps::ChatTemplate{"", "m.gguf", "", ""}, {{"user", "x"}}),
                     "m.gguf: no chat template", "chat mode needs one");
    }

    // A downloaded template is untrusted: endless work, output or recursion is an error.
    void hostileTemplatesAreBounded() {
        jinja::RenderLimits small;
        small.max_steps = 100000;
        small.max_output_bytes = 1000;
        EXPECT_ERROR(render("{% for i in range(100000000) %}{% endfor %}", {}, small), "too long");
        EXPECT_ERROR(
            render("{% for i in range(5000) %}{% for j in range(5000) %}{% endfor %}{% endfor %}",
                   {}, small),
            "more than 100000 steps");
        EXPECT_ERROR(render("{% for i in range(500) %}xxxxxxxxxx{% endfor %}", {}, small),
                     "output exceeds 1000 bytes");
        EXPECT_ERROR(render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"),
                     "macro calls nest deeper than 64");
        EXPECT_ERROR(render("{{ " + std::string(1000, '(') + "1" + std::string(1000, ')') + " }}"),
                     "nest too deeply");
        std::string nested;
        for (int i = 0; i < 300; ++i) nested += "{% if true %}";
        EXPECT_ERROR(render(nested), "blocks nest too deeply");
        EXPECT_ERROR(render("{{ 'x' * 100000000 }}"), "too long");
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestChatTemplate)
#include "test_chat_template.moc"
