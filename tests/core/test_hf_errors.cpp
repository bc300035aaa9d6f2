// Broken Hugging Face directories: every one is refused with a ps::Error that names the file
// and the field or tensor at fault. Each case starts from a tiny directory that loads, and
// breaks exactly one thing.
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/formats/safetensors.h"
#include "tests/support/expect_error.h"
#include "tests/support/hf_writer.h"
#include "tests/support/suite.h"

namespace fs = std::filesystem;
using ps::test::HfTensor;
using json = nlohmann::json;

namespace {

// A tiny Llama: dim 8, 2 layers, 2 heads, 1 kv head (kv_dim 4), MLP 16, vocabulary 264.
json tiny_config() {
    return {{"architectures", {"LlamaForCausalLM"}},
            {"hidden_size", 8},
            {"intermediate_size", 16},
            {"num_hidden_layers", 2},
            {"num_attention_heads", 2},
            {"num_key_value_heads", 1},
            {"max_position_embeddings", 32},
            {"rms_norm_eps", 1e-5},
            {"vocab_size", 264}};
}

std::vector<HfTensor> tiny_tensors() {
    auto t = [](std::string name, std::vector<int64_t> shape) {
        int64_t n = 1;
        for (int64_t d : shape) n *= d;
        std::vector<float> v(static_cast<size_t>(n));
        for (size_t i = 0; i < v.size(); ++i) v[i] = float((i * 37) % 11) * 0.05f - 0.25f;
        return HfTensor{std::move(name), std::move(shape), v};
    };
    std::vector<HfTensor> out = {t("model.embed_tokens.weight", {264, 8})};
    for (int l = 0; l < 2; ++l) {
        const std::string p = "model.layers." + std::to_string(l) + ".";
        for (auto [name, shape] : std::vector<std::pair<std::string, std::vector<int64_t>>>{
                 {"input_layernorm.weight", {8}},
                 {"self_attn.q_proj.weight", {8, 8}},
                 {"self_attn.k_proj.weight", {4, 8}},
                 {"self_attn.v_proj.weight", {4, 8}},
                 {"self_attn.o_proj.weight", {8, 8}},
                 {"post_attention_layernorm.weight", {8}},
                 {"mlp.gate_proj.weight", {16, 8}},
                 {"mlp.up_proj.weight", {16, 8}},
                 {"mlp.down_proj.weight", {8, 16}}})
            out.push_back(t(p + name, shape));
    }
    out.push_back(t("model.norm.weight", {8}));
    return out;
}

// <unk> <s> </s>, the 256 byte tokens, then a few merges.
void write_tiny_tokenizer(const std::string& dir) {
    std::vector<std::string> pieces = {"<unk>", "<s>", "</s>"};
    std::vector<float> scores = {0, 0, 0};
    for (int b = 0; b < 256; ++b) {
        char name[8];
        std::snprintf(name, sizeof name, "<0x%02X>", b);
        pieces.push_back(name);
        scores.push_back(0);
    }
    for (const char* p : {"\u2581", "a", "b", "\u2581a", "ab"}) {
        pieces.push_back(p);
        scores.push_back(-float(pieces.size()));
    }
    ps::test::write_llama_tokenizer_json(dir, pieces, scores);
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Rewrites a safetensors file's JSON header, keeping its data section. The header is padded
// to a multiple of 8 as usual, or, with `misalign`, to 2 mod 4 so every F32 tensor in the
// mapping is misaligned (as some writers that skip the padding produce).
void rewrite_header(const std::string& path, const std::function<void(json&)>& edit,
                    bool misalign = false) {
    const std::string bytes = read_all(path);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(bytes[size_t(i)]);
    json header = json::parse(bytes.substr(8, n));
    edit(header);
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');
    if (misalign) text.append(2, ' ');
    std::string len(8, '\0');
    for (int i = 0; i < 8; ++i) len[size_t(i)] = char(text.size() >> (8 * i));
    ps::test::write_file(path, len + text + bytes.substr(8 + n));
}

}  // namespace

class TestHfErrors : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    int count_ = 0;

    // A fresh copy of the tiny directory, after `edit` changed its config or tensors.
    std::string make(const std::function<void(json&, std::vector<HfTensor>&)>& edit = {},
                     int shards = 1) {
        const std::string dir = tmp_.path().toStdString() + "/m" + std::to_string(count_++);
        json config = tiny_config();
        std::vector<HfTensor> tensors = tiny_tensors();
        if (edit) edit(config, tensors);
        ps::test::write_hf_model(dir, config, tensors, "F32", shards);
        write_tiny_tokenizer(dir);
        return dir;
    }
    static void erase(std::vector<HfTensor>& t, const std::string& name) {
        std::erase_if(t, [&](const HfTensor& x) { return x.name == name; });
    }

  private slots:
    void the_tiny_directory_loads() {
        auto m = ps::load_model(make());
        QCOMPARE(m->config.kv_dim(), 4);
        QCOMPARE(m->tensors.size(), size_t(20));
        QVERIFY(m->config.tied_embeddings);
        // Two shards load the same.
        auto s = ps::load_model(make({}, 2));
        QCOMPARE(s->files.size(), size_t(2));

        // Misaligned F32 data is copied rather than read through a misaligned pointer.
        const std::string d = make();
        rewrite_header(
            d + "/model.safetensors", [](json&) {}, true);
        auto u = ps::load_model(d);
        QVERIFY(!u->owned.empty());
        QCOMPARE(u->tensors.size(), m->tensors.size());
        for (size_t i = 0; i < u->tensors.size(); ++i)
            QVERIFY(std::equal(u->tensors[i].data, u->tensors[i].data + u->tensors[i].count,
                               m->tensors[i].data));
    }

    void lm_head_tied_when_absent_or_identical() {
        const std::vector<HfTensor> base = tiny_tensors();
        auto same = ps::load_model(make([&](auto&, auto& t) {
            t.push_back({"lm_head.weight", {264, 8}, base[0].values});
        }));
        QVERIFY(same->config.tied_embeddings);
        QCOMPARE(same->weights.unembed.w, same->weights.token_embedding);
        QCOMPARE(same->tensors.size(), size_t(20));  // one tensor, counted once

        std::vector<float> other = base[0].values;
        other[5] += 1.0f;
        auto untied = ps::load_model(make([&](auto&, auto& t) {
            t.push_back({"lm_head.weight", {264, 8}, other});
        }));
        QVERIFY(!untied->config.tied_embeddings);
        QCOMPARE(untied->tensors.size(), size_t(21));
        QCOMPARE(untied->weights.unembed.w[5], other[5]);
        QCOMPARE(untied->tensors.back().name, std::string("lm_head.weight"));
    }

    void config_errors_name_config_json_and_the_field() {
        std::string d = make();
        const std::string cfg = d + "/config.json";
        const std::string broken = R"({"architectures": ["LlamaForCausalLM"], "hidden_size": 8,,})";
        ps::test::write_file(cfg, broken);
        // nlohmann-json counts bytes from 1: the error is at the second comma.
        EXPECT_ERROR(ps::load_model(d), cfg,
                     "invalid JSON at byte " + std::to_string(broken.find(",,") + 2));

        d = make([](json& c, auto&) { c.erase("hidden_size"); });
        EXPECT_ERROR(ps::load_model(d), d + "/config.json", "missing field 'hidden_size'");
        d = make([](json& c, auto&) { c["num_attention_heads"] = 0; });
        EXPECT_ERROR(ps::load_model(d), "config.json", "'num_attention_heads' is 0");
        d = make([](json& c, auto&) { c["intermediate_size"] = "big"; });
        EXPECT_ERROR(ps::load_model(d), "config.json", "'intermediate_size' must be an integer");
        d = make([](json& c, auto&) { c["num_key_value_heads"] = 3; });
        EXPECT_ERROR(ps::load_model(d), "config.json", "'num_key_value_heads'", "multiple");
        d = make([](json& c, auto&) { c["rms_norm_eps"] = -1; });
        EXPECT_ERROR(ps::load_model(d), "config.json", "'rms_norm_eps'");
        d = make([](json& c, auto&) { c["architectures"] = {"BertForMaskedLM"}; });
        EXPECT_ERROR(ps::load_model(d), "config.json",
                     "unsupported architecture 'BertForMaskedLM'");
        d = make([](json& c, auto&) { c.erase("architectures"); });
        EXPECT_ERROR(ps::load_model(d), "config.json", "missing field 'architectures'");
        d = make([](json& c, auto&) {
            c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 2}};
        });
        EXPECT_ERROR(ps::load_model(d), "config.json (rope_scaling)",
                     "RoPE scaling type 'yarn' is not supported (supported: default, linear, "
                     "llama3)");
        d = make([](json& c, auto&) { c["rope_scaling"] = {{"rope_type", "linear"}}; });
        EXPECT_ERROR(ps::load_model(d), "config.json (rope_scaling)", "missing field 'factor'");
        // attention_bias asks for q/k/v/o biases: a directory without them is refused.
        d = make([](json& c, auto&) { c["attention_bias"] = true; });
        EXPECT_ERROR(ps::load_model(d), "missing tensor 'model.layers.0.self_attn.q_proj.bias'");
        d = make([](json& c, auto&) { c["hidden_act"] = "gelu"; });
        EXPECT_ERROR(ps::load_model(d), "config.json", "'hidden_act' is 'gelu', only silu");
        d = make([](json& c, auto&) {
            c = {{"architectures", {"GPT2LMHeadModel"}},
                 {"n_embd", 8},
                 {"n_layer", 1},
                 {"n_head", 2},
                 {"n_positions", 16},
                 {"vocab_size", 264},
                 {"activation_function", "relu"}};
        });
        EXPECT_ERROR(ps::load_model(d), "config.json", "'activation_function' is 'relu'");
        d = make([](json& c, auto&) {
            c = {{"architectures", {"GPT2LMHeadModel"}},
                 {"n_embd", 8},
                 {"n_layer", 1},
                 {"n_head", 2},
                 {"vocab_size", 264}};
        });
        EXPECT_ERROR(ps::load_model(d), "config.json", "missing field 'n_positions'");
    }

    void tensor_errors_name_the_file_and_tensor() {
        std::string d = make([](auto&, auto& t) { erase(t, "model.layers.1.mlp.up_proj.weight"); });
        EXPECT_ERROR(ps::load_model(d), d + "/model.safetensors",
                     "missing tensor 'model.layers.1.mlp.up_proj.weight'");

        d = make([](auto&, auto& t) {
            for (HfTensor& x : t)
                if (x.name == "model.layers.0.self_attn.k_proj.weight")
                    x.shape = {8, 8}, x.values.resize(64);
        });
        EXPECT_ERROR(ps::load_model(d), d + "/model.safetensors",
                     "tensor 'model.layers.0.self_attn.k_proj.weight'", "expected shape [4, 8]",
                     "got [8, 8]");

        // The config disagrees with the weights: fewer layers, or another width.
        d = make([](json& c, auto&) { c["num_hidden_layers"] = 1; });
        EXPECT_ERROR(ps::load_model(d), "model.safetensors", "'model.layers.1.",
                     "belongs to layer 1", "'num_hidden_layers' = 1");
        d = make([](json& c, auto&) { c["hidden_size"] = 16; });
        EXPECT_ERROR(ps::load_model(d), "model.safetensors", "'model.embed_tokens.weight'",
                     "expected shape [264, 16]", "got [264, 8]");

        // A dtype the format knows but models here can't use.
        d = make();
        std::vector<double> f64(8, 1.0);
        std::vector<std::vector<uint8_t>> keep;
        std::vector<ps::TensorToWrite> tw;
        for (const HfTensor& t : tiny_tensors()) {
            if (t.name == "model.norm.weight") {
                tw.push_back({t.name, "F64", t.shape, f64.data(), 64});
                continue;
            }
            keep.push_back(ps::test::encode_values(t.values, "F32"));
            tw.push_back({t.name, "F32", t.shape, keep.back().data(), keep.back().size()});
        }
        ps::write_safetensors(d + "/model.safetensors", tw);
        EXPECT_ERROR(ps::load_model(d), d + "/model.safetensors",
                     "unsupported dtype F64 for tensor 'model.norm.weight'");
    }

    void broken_safetensors_files() {
        std::string d = make();
        const std::string st = d + "/model.safetensors";
        std::string bytes = read_all(st);
        ps::test::write_file(st,
                             std::string("\x00\x00\x00\x00\x00\x01\x00\x00", 8) + bytes.substr(8));
        EXPECT_ERROR(ps::load_model(d), st, "header length 1099511627776", "beyond");

        d = make();
        rewrite_header(d + "/model.safetensors", [](json& h) {
            h["model.norm.weight"]["data_offsets"] = {1u << 20, (1u << 20) + 32};
        });
        EXPECT_ERROR(ps::load_model(d), d + "/model.safetensors", "'model.norm.weight'",
                     "beyond the data section");

        d = make();
        rewrite_header(d + "/model.safetensors", [](json& h) {
            h["model.norm.weight"]["data_offsets"] =
                h["model.layers.0.input_layernorm.weight"]["data_offsets"];
        });
        EXPECT_ERROR(ps::load_model(d), d + "/model.safetensors", "overlap",
                     "'model.layers.0.input_layernorm.weight'", "'model.norm.weight'");

        d = make();
        fs::resize_file(d + "/model.safetensors", fs::file_size(d + "/model.safetensors") - 4);
        EXPECT_ERROR(ps::load_model(d), d + "/model.safetensors", "beyond the data section");

        d = make();
        ps::test::write_file(d + "/model.safetensors",
                             std::string(8, '\0').replace(0, 1, "\x05") + "{oops");
        EXPECT_ERROR(ps::load_model(d), d + "/model.safetensors", "invalid JSON header at byte");
    }

    void directory_and_shard_errors() {
        std::string d = make();
        fs::remove(d + "/config.json");
        EXPECT_ERROR(ps::load_model(d), d, "no config.json");
        d = make();
        fs::remove(d + "/model.safetensors");
        EXPECT_ERROR(ps::load_model(d), d, "no model.safetensors or model.safetensors.index.json");

        d = make({}, 2);
        fs::remove(d + "/model-00002-of-00002.safetensors");
        EXPECT_ERROR(ps::load_model(d), d + "/model.safetensors.index.json",
                     "shard 'model-00002-of-00002.safetensors'", "does not exist");

        d = make({}, 2);
        const std::string index = d + "/model.safetensors.index.json";
        json j = json::parse(read_all(index));
        j["weight_map"]["model.norm.weight"] = "../../etc/passwd";
        ps::test::write_file(index, j.dump());
        EXPECT_ERROR(ps::load_model(d), index, "'model.norm.weight'", "inside the directory");

        j = json::parse(read_all(index));
        j["weight_map"]["model.norm.weight"] = "model-00001-of-00002.safetensors";  // wrong shard
        ps::test::write_file(index, j.dump());
        EXPECT_ERROR(ps::load_model(d), d + "/model-00001-of-00002.safetensors",
                     "'model.norm.weight'", "not in this shard");

        ps::test::write_file(index, R"({"metadata": {}})");
        EXPECT_ERROR(ps::load_model(d), index, "missing field 'weight_map'");
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestHfErrors)
#include "test_hf_errors.moc"
