// Writes the seed corpora of the fuzz targets: `fuzz_seeds DIR` creates DIR/<target>/ with small
// valid inputs built by the tests' own writers (nothing binary is kept in the repository).
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <sstream>

#include "core/formats/safetensors.h"
#include "tests/support/chat_template_cases.h"
#include "tests/support/gguf_tiny.h"
#include "tests/support/quant_ref.h"
#include "tests/support/random_gpt2.h"
#include "tests/support/tiny_fixtures.h"

namespace fs = std::filesystem;
using ps::test::Llama2cShape;

namespace {

std::string read_file(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

struct Corpus {
    fs::path dir;
    int n = 0;
    void add(const std::string& bytes) {
        std::ofstream(dir / ("seed" + std::to_string(n++)), std::ios::binary) << bytes;
    }
    void add(const std::vector<uint8_t>& bytes) { add(std::string(bytes.begin(), bytes.end())); }
};

Corpus corpus(const fs::path& root, const char* target) {
    fs::create_directories(root / target);
    return {root / target};
}

void llama2c_seeds(const fs::path& root) {
    Corpus c = corpus(root, "fuzz_llama2c");
    c.add(ps::test::llama2c_checkpoint({}));
    Llama2cShape separate;
    separate.shared_classifier = false;
    separate.layers = 2;
    c.add(ps::test::llama2c_checkpoint(separate));
    Llama2cShape nan;
    std::string bytes = ps::test::llama2c_checkpoint(nan);
    const float bad[2] = {std::numeric_limits<float>::quiet_NaN(),
                          std::numeric_limits<float>::infinity()};
    std::memcpy(bytes.data() + 28 + 4 * 20, bad, sizeof bad);  // into the token embedding
    c.add(bytes);

    Corpus t = corpus(root, "fuzz_llama2c_tokenizer");
    for (int vocab : {5, 40, 300}) {
        const std::string prefix = {char((vocab - 1) & 0xFF), char((vocab - 1) >> 8)};
        t.add(prefix + ps::test::llama2c_tokenizer_file(vocab));
    }
}

void gguf_seeds(const fs::path& root, const fs::path& scratch) {
    Corpus c = corpus(root, "fuzz_gguf");
    ps::test::TinyModel llama;
    c.add(llama.writer().bytes());
    llama.with_output = false;
    llama.f16 = true;
    c.add(llama.writer().bytes());
    // A GPT-2 with a byte-level vocabulary, loadable through to the forward pass.
    const ps::BpeVocab v = ps::test::small_bpe_vocab();
    ps::test::RandomGpt2 gpt2;
    gpt2.d = 8, gpt2.layers = 1, gpt2.heads = 2, gpt2.ctx = 8, gpt2.hidden = 32;
    gpt2.vocab = int(v.pieces.size());
    gpt2.randomize(3);
    const fs::path path = scratch / "gpt2.gguf";
    gpt2.write_gguf(path.string(), v.pieces, v.merges);
    c.add(read_file(path));
    // Quantized: a 32-wide llama whose token embedding is Q8_0 and output Q4_0.
    ps::test::TinyModel quant;
    quant.dim = 32, quant.heads = 4, quant.kv_heads = 2, quant.hidden = 32, quant.layers = 1;
    quant.skip_tensor = "token_embd.weight";
    ps::test::GgufWriter w = quant.writer();
    std::vector<uint8_t> q8(size_t(quant.vocab) * 34);
    for (size_t i = 0; i < q8.size(); ++i) q8[i] = uint8_t(i * 7);
    for (size_t b = 0; b < size_t(quant.vocab); ++b) q8[b * 34 + 1] = 0x1C;  // f16 scale ~0.004
    w.add_tensor_raw("token_embd.weight", {32, quant.vocab}, ps::test::ggml_type::Q8_0, q8);
    c.add(w.bytes());
    // Every other quantized type: 32-wide llamas for the 32-element blocks, one-layer
    // 256-wide ones for the super-block types (rows must be whole blocks).
    namespace t = ps::test::quant_ref_type;
    for (uint32_t type :
         {t::Q4_1, t::Q5_0, t::Q5_1, t::IQ4_NL, t::Q2_K, t::Q3_K, t::Q5_K, t::IQ4_XS}) {
        ps::test::TinyModel m;
        m.dim = m.hidden = int(ps::test::ref_block_size(type)), m.heads = 4, m.kv_heads = 2;
        m.layers = 1;
        m.matrix_type = type;
        c.add(m.writer().bytes());
    }
    // A GPT-2 byte-level vocabulary alone.
    ps::test::GgufWriter vocab;
    vocab.set_string("tokenizer.ggml.model", "gpt2");
    vocab.set_string("tokenizer.ggml.pre", "gpt-2");
    vocab.set_string_array("tokenizer.ggml.tokens", v.pieces);
    vocab.set_string_array("tokenizer.ggml.merges", v.merges);
    c.add(vocab.bytes());
}

void safetensors_seeds(const fs::path& root, const fs::path& scratch) {
    Corpus c = corpus(root, "fuzz_safetensors");
    const std::vector<float> f32 = {1.5f, -2.0f, 0.25f, 3.0f, 0.0f, -0.5f};
    const std::vector<uint16_t> half = {0x3C00, 0xC000, 0x3400, 0x4200};
    const fs::path path = scratch / "seed.safetensors";
    ps::write_safetensors(path.string(),
                          {{"a.weight", "F32", {2, 3}, f32.data(), 24},
                           {"b.bias", "F16", {4}, half.data(), 8},
                           {"c", "BF16", {2, 2}, half.data(), 8}},
                          {{"format", "pt"}});
    c.add(read_file(path));
    ps::write_safetensors(path.string(), {{"empty", "F32", {0, 4}, f32.data(), 0}});
    c.add(read_file(path));
    ps::test::write_hf_llama((scratch / "llama").string());
    c.add(read_file(scratch / "llama" / "model.safetensors"));
}

void hf_seeds(const fs::path& root, const fs::path& scratch) {
    Corpus c = corpus(root, "fuzz_hf_dir");
    // The same directories and file order as fuzz_hf_dir.cpp: selector = base | index << 1.
    const std::vector<std::string> llama = {"config.json", "tokenizer.json",
                                            "tokenizer_config.json", "model.safetensors"};
    const std::vector<std::string> gpt2 = {"config.json", "vocab.json", "merges.txt",
                                           "model.safetensors.index.json", "tokenizer_config.json"};
    ps::test::write_hf_llama((scratch / "llama").string());
    ps::test::write_hf_gpt2((scratch / "gpt2").string());
    const std::string tokenizer_config =
        R"({"bos_token": "<s>", "eos_token": {"content": "</s>"}, "add_bos_token": true})";
    for (size_t i = 0; i < llama.size(); ++i) {
        const fs::path file = scratch / "llama" / llama[i];
        c.add(std::string(1, char(0 | i << 1)) +
              (fs::exists(file) ? read_file(file) : tokenizer_config));
    }
    const std::string gpt2_config = R"({"bos_token": "<|endoftext|>", "add_bos_token": false})";
    for (size_t i = 0; i < gpt2.size(); ++i) {
        const fs::path file = scratch / "gpt2" / gpt2[i];
        c.add(std::string(1, char(1 | i << 1)) +
              (fs::exists(file) ? read_file(file) : gpt2_config));
    }
}

void tokenizer_seeds(const fs::path& root) {
    Corpus c = corpus(root, "fuzz_tokenizer");
    const std::vector<std::string> texts = {
        "Once upon a time, there was a little girl named Lily.",
        "Hello, world! It's a test: don't, won't, they'll, I'd.",
        "   leading and trailing   \n\n\t mixed whitespace",
        "\xE6\x88\x91\xE6\x83\xB3 caf\xC3\xA9 \xF0\x9F\xA6\x99 123 4.5",
        "invalid \xFF\xC3 bytes \xED\xA0\x80"};
    for (int tokenizer = 0; tokenizer < 5; ++tokenizer)
        for (const std::string& t : texts) c.add(std::string(1, char(tokenizer << 1)) + t);
    const int32_t ids[6] = {0, 1, 2, 100, 258, 259};
    c.add(std::string(1, char(1)) + std::string(reinterpret_cast<const char*>(ids), sizeof ids));
}

// fuzz_tokenizer_json: byte 0 bit 0 clear, a Split regex, a newline, then the text (Llama 3's and
// Qwen2's patterns, and one that backtracks badly); bit 0 set, a whole tokenizer.json.
void tokenizer_json_seeds(const fs::path& root) {
    Corpus c = corpus(root, "fuzz_tokenizer_json");
    const std::string llama3 =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    const std::string qwen2 =
        R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    const std::string text = "Hello WORLD, it's 12345 caf\xC3\xA9 \xE6\x88\x91\r\n\tend";
    for (uint8_t flags : {0, 2, 4, 16, 32})
        for (const std::string& pattern : {llama3, qwen2, std::string("(a+)+$")})
            c.add(std::string(1, char(flags)) + pattern + "\n" + text);
    c.add(std::string(1, char(1)) +
          R"({"model": {"type": "BPE", "vocab": {"a": 0, "b": 1, "ab": 2}, "merges": ["a b"]},
              "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "\\s+"},
              "behavior": "Isolated", "invert": false}})");
}

// fuzz_chat_template: every construct of test_chat_template's cases, and a runaway loop.
void chat_template_seeds(const fs::path& root) {
    Corpus c = corpus(root, "fuzz_chat_template");
    for (const ps::test::ChatCase& chat : ps::test::kChatCases) c.add(std::string(chat.source));
    c.add(std::string("{% for i in range(1000000) %}{{ i }}{% endfor %}"));
}

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    const fs::path root = argv[1];
    const fs::path scratch = root / ".scratch";
    fs::create_directories(scratch);
    llama2c_seeds(root);
    gguf_seeds(root, scratch);
    safetensors_seeds(root, scratch);
    hf_seeds(root, scratch);
    tokenizer_seeds(root);
    tokenizer_json_seeds(root);
    chat_template_seeds(root);
    fs::remove_all(scratch);
    return 0;
}
