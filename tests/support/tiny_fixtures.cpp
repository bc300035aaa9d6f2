#include "tests/support/tiny_fixtures.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/tokenizer/unicode.h"
#include "tests/support/hf_writer.h"
#include "tests/support/random_gpt2.h"

namespace ps::test {

using nlohmann::json;

std::vector<std::string> gpt2_byte_pieces() {
    std::vector<std::string> pieces;
    char32_t next = 256;
    for (char32_t b = 0; b < 256; ++b) {
        const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE;
        pieces.push_back(unicode::encode(printable ? b : next++));
    }
    return pieces;
}

BpeVocab small_bpe_vocab() {
    BpeVocab v;
    v.pieces = gpt2_byte_pieces();
    v.merges = {"\u0120 t", "h e", "\u0120t he", "a b", "ab c", "\u0120 a", "o n", "i n"};
    for (const std::string& m : v.merges) {
        const size_t space = m.find(' ');
        v.pieces.push_back(m.substr(0, space) + m.substr(space + 1));
    }
    v.pieces.push_back("<|endoftext|>");
    v.eos_id = v.bos_id = int(v.pieces.size()) - 1;
    return v;
}

SpmVocab small_spm_vocab() {
    SpmVocab v;
    v.pieces = {"<unk>", "<s>", "</s>"};
    v.scores = {0, 0, 0};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        v.pieces.push_back(name);
        v.scores.push_back(0);
    }
    for (const char* p : {"\u2581", "a", "b", "c", "e", "h", "t", "\u2581t", "he", "\u2581the",
                          "ab", "abc", "\u2581a", "\u00e9", "\u4e2d"}) {
        v.pieces.push_back(p);
        v.scores.push_back(float(std::string(p).size()) - float(v.pieces.size()) / 1000);
    }
    return v;
}

std::string llama2c_tokenizer_file(int vocab) {
    std::string out;
    auto put = [&](const void* p, size_t n) { out.append(static_cast<const char*>(p), n); };
    const int32_t max_len = 16;
    put(&max_len, 4);
    const bool bytes = vocab >= 259;
    for (int id = 0; id < vocab; ++id) {
        std::string piece;
        if (id < 3) {
            piece = id == 0 ? "<unk>" : id == 1 ? "\n<s>\n" : "\n</s>\n";
        } else if (bytes && id < 259) {
            char name[8];
            std::snprintf(name, sizeof name, "<0x%02X>", id - 3);
            piece = name;
        } else {
            // Distinct pieces from a small alphabet: the base-4 digits of the id.
            for (int k = id; k > 0; k /= 4) piece += " abc"[k % 4];
        }
        const float score = -float(id);
        const auto len = int32_t(piece.size());
        put(&score, 4);
        put(&len, 4);
        out += piece;
    }
    return out;
}

std::string llama2c_checkpoint(const Llama2cShape& s) {
    const int32_t header[7] = {s.dim,    s.hidden,   s.layers,
                               s.heads,  s.kv_heads, s.shared_classifier ? s.vocab : -s.vocab,
                               s.seq_len};
    std::string out(reinterpret_cast<const char*>(header), sizeof header);
    const int64_t dim = s.dim, L = s.layers, kv = dim / s.heads * s.kv_heads, h = s.hidden;
    const int64_t floats = s.vocab * dim + L * dim * 2 + L * dim * dim * 2 + L * kv * dim * 2 +
                           L * h * dim * 3 + dim + int64_t(s.seq_len) * (dim / s.heads) +
                           (s.shared_classifier ? 0 : s.vocab * dim);
    for (int64_t i = 0; i < floats; ++i) {
        const float v = float((i * 37) % 17) / 17.0f - 0.5f;
        out.append(reinterpret_cast<const char*>(&v), 4);
    }
    return out;
}

namespace {

void write_text(const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
}

std::vector<HfTensor> llama_tensors(int64_t d, int64_t kv, int64_t hidden, int64_t vocab) {
    auto t = [](std::string name, std::vector<int64_t> shape) {
        int64_t n = 1;
        for (int64_t x : shape) n *= x;
        std::vector<float> v(static_cast<size_t>(n));
        for (size_t i = 0; i < v.size(); ++i) v[i] = float((i * 37) % 11) * 0.05f - 0.25f;
        return HfTensor{std::move(name), std::move(shape), v};
    };
    std::vector<HfTensor> out = {t("model.embed_tokens.weight", {vocab, d})};
    const std::string p = "model.layers.0.";
    out.push_back(t(p + "input_layernorm.weight", {d}));
    out.push_back(t(p + "self_attn.q_proj.weight", {d, d}));
    out.push_back(t(p + "self_attn.k_proj.weight", {kv, d}));
    out.push_back(t(p + "self_attn.v_proj.weight", {kv, d}));
    out.push_back(t(p + "self_attn.o_proj.weight", {d, d}));
    out.push_back(t(p + "post_attention_layernorm.weight", {d}));
    out.push_back(t(p + "mlp.gate_proj.weight", {hidden, d}));
    out.push_back(t(p + "mlp.up_proj.weight", {hidden, d}));
    out.push_back(t(p + "mlp.down_proj.weight", {d, hidden}));
    out.push_back(t("model.norm.weight", {d}));
    return out;
}

}  // namespace

void write_hf_llama(const std::string& dir) {
    const SpmVocab v = small_spm_vocab();
    const int vocab = int(v.pieces.size());
    const json config = {{"architectures", {"LlamaForCausalLM"}},
                         {"hidden_size", 8},
                         {"intermediate_size", 16},
                         {"num_hidden_layers", 1},
                         {"num_attention_heads", 2},
                         {"num_key_value_heads", 1},
                         {"max_position_embeddings", 16},
                         {"rms_norm_eps", 1e-5},
                         {"vocab_size", vocab}};
    write_hf_model(dir, config, llama_tensors(8, 4, 16, vocab), "F32");
    write_llama_tokenizer_json(dir, v.pieces, v.scores);
}

void write_hf_gpt2(const std::string& dir) {
    const BpeVocab v = small_bpe_vocab();
    RandomGpt2 m;
    m.d = 8, m.layers = 1, m.heads = 2, m.ctx = 8, m.hidden = 32;  // n_inner null: 4 * d
    m.vocab = int(v.pieces.size());
    m.randomize(7);
    write_hf_model(dir, m.config(), m.hf_tensors("transformer."), "F16", 2);
    json vocab = json::object();
    for (size_t i = 0; i < v.pieces.size(); ++i) vocab[v.pieces[i]] = int(i);
    write_text(dir + "/vocab.json", vocab.dump());
    std::string merges = "#version: 0.2\n";
    for (const std::string& m : v.merges) merges += m + "\n";
    write_text(dir + "/merges.txt", merges);
}

}  // namespace ps::test
