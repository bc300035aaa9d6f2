// The hostile-input table of the README, case by case and format by format: files cut at every
// section boundary, size fields at INT64_MAX, offsets outside the file or overlapping, a billion
// tensors, an empty vocabulary, a directory whose config and weights disagree, a model too big
// for memory. Each must be refused with a ps::Error naming the file and the problem, without a
// crash, a hang or an allocation sized from the bad field. (NaN weights, invalid UTF-8 and long
// prompts, which load, are in test_hostile_values.cpp.)
#include <sys/resource.h>

#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/formats/gguf.h"
#include "core/formats/loader.h"
#include "core/formats/safetensors.h"
#include "core/tensor/memory_budget.h"
#include "tests/support/expect_error.h"
#include "tests/support/gguf_tiny.h"
#include "tests/support/hf_writer.h"
#include "tests/support/suite.h"
#include "tests/support/tiny_fixtures.h"

namespace fs = std::filesystem;
using json = nlohmann::json;
using ps::test::GgufWriter;
using ps::test::Llama2cShape;
using ps::test::TinyModel;

namespace {

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

// The message of the ps::Error `load` throws, or "" when it throws none.
std::string error_of(const std::function<void()>& load) {
    try {
        load();
    } catch (const ps::Error& e) {
        return e.what();
    }
    return "";
}

bool contains(const std::string& s, const std::string& part) {
    return s.find(part) != std::string::npos;
}

// The process's peak resident memory in MB (it only grows).
long peak_rss_mb() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return usage.ru_maxrss / 1024;
}

// A safetensors file with its JSON header replaced by `header` (padded to 8 bytes).
std::string with_header(const std::string& file, const std::string& header) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(file[size_t(i)]);
    std::string text = header;
    text.append((8 - text.size() % 8) % 8, ' ');
    std::string len(8, '\0');
    for (int i = 0; i < 8; ++i) len[size_t(i)] = char(text.size() >> (8 * i));
    return len + text + file.substr(8 + n);
}

json header_of(const std::string& file) {
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | uint8_t(file[size_t(i)]);
    return json::parse(file.substr(8, n));
}

// The llama2.c shape the llama2.c cases use: separate classifier, two layers.
Llama2cShape llama2c_shape() {
    Llama2cShape s;
    s.layers = 2;
    s.shared_classifier = false;
    return s;
}

}  // namespace

class TestHostileInputs : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    int n_ = 0;

    std::string fresh_dir() {
        const std::string dir = tmp_.path().toStdString() + "/case" + std::to_string(n_++);
        fs::create_directories(dir);
        return dir;
    }
    // A llama2.c checkpoint with a tokenizer.bin of `vocab` tokens beside it; returns its path.
    std::string llama2c(const std::string& checkpoint, int vocab = 16) {
        const std::string dir = fresh_dir();
        ps::test::write_file(dir + "/tokenizer.bin", ps::test::llama2c_tokenizer_file(vocab));
        ps::test::write_file(dir + "/model.bin", checkpoint);
        return dir + "/model.bin";
    }
    std::string gguf(const std::vector<uint8_t>& bytes) {
        const std::string path = fresh_dir() + "/model.gguf";
        GgufWriter::write_bytes(path, bytes);
        return path;
    }
    std::string hf_llama() {
        const std::string dir = fresh_dir();
        ps::test::write_hf_llama(dir);
        return dir;
    }

  private slots:
    void valid_fixtures_load();
    void truncated_llama2c_at_every_tensor();
    void truncated_llama2c_tokenizer_at_every_token();
    void truncated_gguf_at_every_field();
    void truncated_safetensors_and_json();
    void size_fields_at_int64_max();
    void offsets_outside_the_file_or_overlapping();
    void a_billion_tensors();
    void vocabulary_of_zero();
    void directory_with_mismatched_config_and_weights();
    void huge_dimensions_allocate_nothing();
    void model_bigger_than_memory();
    void giant_json_files_are_not_read();
    void json_nested_a_million_deep();
    void json_numbers_too_large_for_a_double();
    void megabyte_names_give_short_messages();
};

// The starting points of every case below load as they are.
void TestHostileInputs::valid_fixtures_load() {
    QCOMPARE(
        ps::load_model(llama2c(ps::test::llama2c_checkpoint(llama2c_shape())))->config.n_layers, 2);
    QCOMPARE(ps::load_model(gguf(TinyModel().writer().bytes()))->config.vocab_size, 10);
    QCOMPARE(ps::load_model(hf_llama())->format, std::string("hf"));
    const std::string gpt2 = fresh_dir();
    ps::test::write_hf_gpt2(gpt2);
    QCOMPARE(ps::load_model(gpt2)->config.arch, ps::Arch::Gpt2);
}

void TestHostileInputs::truncated_llama2c_at_every_tensor() {
    const Llama2cShape s = llama2c_shape();
    const std::string whole = ps::test::llama2c_checkpoint(s);
    const int64_t d = s.dim, L = s.layers, kv = d / s.heads * s.kv_heads, h = s.hidden;
    // Tensor sizes in file order (floats): embedding, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2,
    // w3, rms_final, freq_cis real + imag, classifier.
    const int64_t sizes[] = {s.vocab * d, L * d,     L * d * d, L * kv * d,
                             L * kv * d,  L * d * d, L * d,     L * h * d,
                             L * d * h,   L * h * d, d,         s.seq_len * (d / s.heads),
                             s.vocab * d};
    std::vector<size_t> cuts = {0, 4, 27, 28};
    size_t end = 28;
    for (int64_t n : sizes) cuts.push_back(end += size_t(n) * 4);
    QCOMPARE(end, whole.size());
    cuts.back() = whole.size() - 1;
    for (size_t cut : cuts) {
        const std::string path = llama2c(whole.substr(0, cut));
        const std::string msg = error_of([&] { ps::load_model(path); });
        QVERIFY2(msg.rfind(path + ": ", 0) == 0, msg.c_str());
        QVERIFY2(cut < 28 ? contains(msg, "too short for a llama2.c header")
                          : contains(msg, "implies " + std::to_string(whole.size()) +
                                              " bytes but the file has " + std::to_string(cut)),
                 msg.c_str());
    }
    // One byte too many is as wrong as one too few.
    const std::string path = llama2c(whole + "x");
    EXPECT_ERROR(ps::load_model(path), path,
                 "but the file has " + std::to_string(whole.size() + 1));
}

void TestHostileInputs::truncated_llama2c_tokenizer_at_every_token() {
    const std::string model = llama2c(ps::test::llama2c_checkpoint(llama2c_shape()));
    const std::string tokenizer = fs::path(model).parent_path().string() + "/tokenizer.bin";
    const std::string whole = ps::test::llama2c_tokenizer_file(16);
    // Cut inside max_token_length, then at each token's score, length and bytes.
    std::vector<size_t> cuts = {0, 3};
    for (size_t pos = 4; pos < whole.size();) {
        int32_t len;
        std::memcpy(&len, whole.data() + pos + 4, 4);
        cuts.insert(cuts.end(), {pos, pos + 4, pos + 8 + size_t(len) / 2});
        pos += 8 + size_t(len);
    }
    for (size_t cut : cuts) {
        ps::test::write_file(tokenizer, whole.substr(0, cut));
        const std::string msg = error_of([&] { ps::load_model(model); });
        QVERIFY2(msg.rfind(tokenizer + ": ", 0) == 0, msg.c_str());
        QVERIFY2(contains(msg, "(truncated?)") || contains(msg, "cannot hold 16 tokens") ||
                     contains(msg, "expected a positive length within the file"),
                 msg.c_str());
    }
}

void TestHostileInputs::truncated_gguf_at_every_field() {
    const GgufWriter w = TinyModel().writer();
    const std::vector<uint8_t> whole = w.bytes();
    const GgufWriter::Layout at = w.layout();
    std::vector<size_t> cuts = {0, 3, at.version, at.tensor_count, at.kv_count, at.kv_count + 8};
    for (const auto* fields : {&at.kv, &at.kv_value, &at.tensor_info, &at.tensor_dims,
                               &at.tensor_type, &at.tensor_offset, &at.tensor_data})
        for (size_t pos : *fields) cuts.insert(cuts.end(), {pos, pos + 1});
    cuts.insert(cuts.end(), {at.data_start, whole.size() - 1});
    for (size_t cut : cuts) {
        const std::string path = gguf({whole.begin(), whole.begin() + long(cut)});
        const std::string msg = error_of([&] { ps::load_model(path); });
        QVERIFY2(msg.rfind(path + ": ", 0) == 0, msg.c_str());
        if (cut < 4) {  // no magic: tried as a llama2.c checkpoint
            QVERIFY2(contains(msg, "too short for a llama2.c header"), msg.c_str());
        } else if (cut >= at.data_start) {
            QVERIFY2(contains(msg, "is beyond the file's " + std::to_string(cut) + " bytes"),
                     msg.c_str());
        } else {
            QVERIFY2(contains(msg, "truncated") || contains(msg, "cannot fit") ||
                         contains(msg, "is beyond the file's"),
                     msg.c_str());
        }
    }
}

void TestHostileInputs::truncated_safetensors_and_json() {
    const std::string dir = hf_llama();
    const std::string st = dir + "/model.safetensors";
    const std::string whole = read_all(st);
    const json header = header_of(whole);
    uint64_t header_bytes = 0;
    for (int i = 7; i >= 0; --i) header_bytes = (header_bytes << 8) | uint8_t(whole[size_t(i)]);
    const size_t header_end = 8 + size_t(header_bytes);
    // Inside the length, inside the JSON, and one byte short of each tensor's end.
    std::vector<size_t> cuts = {0, 7, 8, 20, header_end - 1};
    for (const auto& [name, entry] : header.items())
        if (name != "__metadata__")
            cuts.push_back(header_end + entry["data_offsets"][1].get<size_t>() - 1);
    for (size_t cut : cuts) {
        ps::test::write_file(st, whole.substr(0, cut));
        const std::string msg = error_of([&] { ps::load_model(dir); });
        QVERIFY2(msg.rfind(st + ": ", 0) == 0, msg.c_str());
        QVERIFY2(contains(msg, "too short") || contains(msg, "header length") ||
                     contains(msg, "beyond the data section"),
                 msg.c_str());
    }
    ps::test::write_file(st, whole);
    for (const char* name : {"config.json", "tokenizer.json"}) {
        const std::string path = dir + "/" + name;
        const std::string text = read_all(path);
        ps::test::write_file(path, text.substr(0, text.size() / 2));
        EXPECT_ERROR(ps::load_model(dir), path, "invalid JSON");
        ps::test::write_file(path, text);
    }
    // vocab.json is JSON too; merges.txt cut inside a line leaves half a merge. (Cut at a line
    // boundary it is a valid, shorter list of merges.)
    const std::string gpt2 = fresh_dir();
    ps::test::write_hf_gpt2(gpt2);
    const std::string vocab = read_all(gpt2 + "/vocab.json");
    ps::test::write_file(gpt2 + "/vocab.json", vocab.substr(0, vocab.size() / 2));
    EXPECT_ERROR(ps::load_model(gpt2), "vocab.json", "invalid JSON");
    ps::test::write_file(gpt2 + "/vocab.json", vocab);
    const std::string merges = read_all(gpt2 + "/merges.txt");
    ps::test::write_file(gpt2 + "/merges.txt", merges.substr(0, merges.size() - 2));
    EXPECT_ERROR(ps::load_model(gpt2), "merges.txt", "merge 7");
}

void TestHostileInputs::size_fields_at_int64_max() {
    const std::string i64max = "9223372036854775807";
    // GGUF: every length, count, dimension and offset field.
    const GgufWriter w = TinyModel().writer();
    const GgufWriter::Layout at = w.layout();
    const std::vector<std::pair<size_t, std::string>> fields = {
        {at.tensor_count, "tensor count " + i64max + " cannot fit"},
        {at.kv_count, "metadata count " + i64max + " cannot fit"},
        {at.kv[1], "key of metadata entry 1: string length " + i64max},
        {at.kv_value[0] + 4, "key 'general.architecture' value: string length " + i64max},
        {at.tensor_info[2], "name of tensor 2: string length " + i64max},
        {at.tensor_dims[2] + 4, "tensor 'blk.0.attn_q.weight': dims [" + i64max + ", 8] overflow"},
        {at.tensor_offset[2], "tensor 'blk.0.attn_q.weight': data offset " + i64max},
    };
    for (const auto& [pos, expected] : fields) {
        std::vector<uint8_t> b = w.bytes();
        GgufWriter::patch_u64(b, pos, INT64_MAX);
        const std::string path = gguf(b);
        EXPECT_ERROR(ps::load_model(path), path + ": ", expected);
    }

    // safetensors: the header length, a dimension, an offset.
    const std::string dir = hf_llama();
    const std::string st = dir + "/model.safetensors";
    const std::string whole = read_all(st);
    ps::test::write_file(st, std::string("\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F", 8) + whole.substr(8));
    EXPECT_ERROR(ps::load_model(dir), st, "header length " + i64max + " is beyond the file's");
    json h = header_of(whole);
    h["model.norm.weight"]["shape"] = {INT64_MAX, 2};
    ps::test::write_file(st, with_header(whole, h.dump()));
    EXPECT_ERROR(ps::load_model(dir), st, "'model.norm.weight'", "overflows");
    h = header_of(whole);
    h["model.norm.weight"]["data_offsets"][1] = INT64_MAX;
    ps::test::write_file(st, with_header(whole, h.dump()));
    EXPECT_ERROR(ps::load_model(dir), st, "'model.norm.weight'", "beyond the data section");
    ps::test::write_file(st, whole);

    // config.json: sizes far beyond what the engine accepts.
    json config = json::parse(read_all(dir + "/config.json"));
    config["hidden_size"] = INT64_MAX;
    ps::test::write_file(dir + "/config.json", config.dump());
    EXPECT_ERROR(ps::load_model(dir), "config.json", "'hidden_size' is " + i64max, "1..65536");

    // llama2.c: the header holds int32s, so INT32_MAX is the largest a field can claim.
    for (int field = 0; field < 7; ++field) {
        std::string bytes = ps::test::llama2c_checkpoint(llama2c_shape());
        const int32_t max = INT32_MAX;
        std::memcpy(bytes.data() + 4 * field, &max, 4);
        const std::string path = llama2c(bytes);
        EXPECT_ERROR(ps::load_model(path), path, "header is invalid", "2147483647");
    }
    std::string tok = ps::test::llama2c_tokenizer_file(16);
    const int32_t max = INT32_MAX;
    std::memcpy(tok.data() + 4 + 4, &max, 4);  // token 0's length
    const std::string model = llama2c(ps::test::llama2c_checkpoint(llama2c_shape()));
    const std::string tok_path = fs::path(model).parent_path().string() + "/tokenizer.bin";
    ps::test::write_file(tok_path, tok);
    EXPECT_ERROR(ps::load_model(model), tok_path, "token 0 length 2147483647");
}

void TestHostileInputs::offsets_outside_the_file_or_overlapping() {
    const GgufWriter w = TinyModel().writer();
    const GgufWriter::Layout at = w.layout();
    std::vector<uint8_t> b = w.bytes();
    GgufWriter::patch_u64(b, at.tensor_offset[3], uint64_t(1) << 40);
    std::string path = gguf(b);
    EXPECT_ERROR(ps::load_model(path), path, "'blk.0.attn_k.weight'", "is beyond the file's");
    b = w.bytes();
    uint64_t q_offset;
    std::memcpy(&q_offset, b.data() + at.tensor_offset[2], 8);
    GgufWriter::patch_u64(b, at.tensor_offset[3], q_offset + 32);  // inside attn_q's bytes
    path = gguf(b);
    EXPECT_ERROR(ps::load_model(path), path, "overlaps tensor 'blk.0.attn_q.weight'");

    const std::string dir = hf_llama();
    const std::string st = dir + "/model.safetensors";
    const std::string whole = read_all(st);
    json h = header_of(whole);
    h["model.norm.weight"]["data_offsets"] = {1u << 30, (1u << 30) + 32};
    ps::test::write_file(st, with_header(whole, h.dump()));
    EXPECT_ERROR(ps::load_model(dir), st, "'model.norm.weight'", "beyond the data section");
    h = header_of(whole);
    h["model.norm.weight"]["data_offsets"] = h["model.embed_tokens.weight"]["data_offsets"];
    h["model.norm.weight"]["shape"] = h["model.embed_tokens.weight"]["shape"];
    ps::test::write_file(st, with_header(whole, h.dump()));
    EXPECT_ERROR(ps::load_model(dir), st, "overlap", "'model.embed_tokens.weight'");

    // A shard index naming a file outside the directory.
    const std::string gpt2 = fresh_dir();
    ps::test::write_hf_gpt2(gpt2);
    const std::string index = gpt2 + "/model.safetensors.index.json";
    json j = json::parse(read_all(index));
    j["weight_map"]["transformer.ln_f.weight"] = "/etc/passwd";
    ps::test::write_file(index, j.dump());
    EXPECT_ERROR(ps::load_model(gpt2), index, "'transformer.ln_f.weight'", "inside the directory");
}

void TestHostileInputs::a_billion_tensors() {
    const GgufWriter w = TinyModel().writer();
    const GgufWriter::Layout at = w.layout();
    const long before = peak_rss_mb();
    for (size_t pos : {at.tensor_count, at.kv_count}) {
        std::vector<uint8_t> b = w.bytes();
        GgufWriter::patch_u64(b, pos, 1000000000);
        const std::string path = gguf(b);
        EXPECT_ERROR(ps::load_model(path), path, "count 1000000000 cannot fit in the file's");
    }
    GgufWriter array;  // a billion-element array of strings, a billion tokens
    std::vector<uint8_t> payload;
    GgufWriter::put_u32(payload, uint32_t(ps::test::GgufType::String));
    GgufWriter::put_u64(payload, 1000000000);
    array.set_raw("tokenizer.ggml.tokens", ps::test::GgufType::Array, payload);
    const std::string path = gguf(array.bytes());
    EXPECT_ERROR(ps::load_model(path), path, "array of 1000000000 string elements cannot fit");
    QVERIFY2(peak_rss_mb() - before < 100, "a claimed count was allocated");
}

void TestHostileInputs::vocabulary_of_zero() {
    std::string bytes = ps::test::llama2c_checkpoint(llama2c_shape());
    const int32_t zero = 0;
    std::memcpy(bytes.data() + 20, &zero, 4);
    std::string path = llama2c(bytes);
    EXPECT_ERROR(ps::load_model(path), path, "header is invalid", "vocab_size=0");

    GgufWriter empty;
    empty.set_string("tokenizer.ggml.model", "llama");
    empty.set_string_array("tokenizer.ggml.tokens", {});
    path = gguf(empty.bytes());
    EXPECT_ERROR(ps::load_gguf_tokenizer(path), path, "the vocabulary is empty");
    GgufWriter w = TinyModel().writer();
    w.set_u32("llama.vocab_size", 0);
    path = gguf(w.bytes());
    EXPECT_ERROR(ps::load_model(path), path, "key 'llama.vocab_size': 0 is out of range");

    std::string dir = hf_llama();
    json config = json::parse(read_all(dir + "/config.json"));
    config["vocab_size"] = 0;
    ps::test::write_file(dir + "/config.json", config.dump());
    EXPECT_ERROR(ps::load_model(dir), "config.json", "'vocab_size' is 0, expected 1..");
    dir = hf_llama();
    json tok = json::parse(read_all(dir + "/tokenizer.json"));
    tok["model"]["vocab"] = json::object();
    tok["model"]["merges"] = json::array();
    tok["added_tokens"] = json::array();
    ps::test::write_file(dir + "/tokenizer.json", tok.dump());
    fs::remove(dir + "/tokenizer_config.json");  // its <s> would be missing first
    EXPECT_ERROR(ps::load_model(dir), "tokenizer.json", "the vocabulary is empty");
    dir = fresh_dir();
    ps::test::write_hf_gpt2(dir);
    ps::test::write_file(dir + "/vocab.json", "{}");
    ps::test::write_file(dir + "/merges.txt", "");
    EXPECT_ERROR(ps::load_model(dir), "vocab.json", "the vocabulary is empty");
}

void TestHostileInputs::directory_with_mismatched_config_and_weights() {
    auto edited = [&](const std::function<void(json&)>& edit) {
        const std::string dir = hf_llama();
        json config = json::parse(read_all(dir + "/config.json"));
        edit(config);
        ps::test::write_file(dir + "/config.json", config.dump());
        return dir;
    };
    std::string dir = edited([](json& c) { c["hidden_size"] = 16; });
    EXPECT_ERROR(ps::load_model(dir), "model.safetensors", "'model.embed_tokens.weight'",
                 "expected shape [" + std::to_string(ps::test::small_spm_vocab().pieces.size()) +
                     ", 16] from config.json, got [");
    dir = edited([](json& c) { c["num_hidden_layers"] = 2; });
    EXPECT_ERROR(ps::load_model(dir), "missing tensor 'model.layers.1.input_layernorm.weight'");
    dir = edited([](json& c) { c["num_key_value_heads"] = 2; });
    EXPECT_ERROR(ps::load_model(dir), "'model.layers.0.self_attn.k_proj.weight'",
                 "expected shape [8, 8]", "got [4, 8]");
    dir = edited([](json& c) { c["vocab_size"] = c["vocab_size"].get<int>() + 1; });
    EXPECT_ERROR(ps::load_model(dir), "'model.embed_tokens.weight'", "expected shape");
    // Weights of a deeper model than the config: a tensor of a layer the config doesn't have.
    dir = hf_llama();
    const std::string st = dir + "/model.safetensors";
    const std::string whole = read_all(st);
    json h = header_of(whole);
    h["model.layers.3.mlp.up_proj.weight"] = {
        {"dtype", "F32"}, {"shape", {0, 8}}, {"data_offsets", {0, 0}}};
    ps::test::write_file(st, with_header(whole, h.dump()));
    EXPECT_ERROR(ps::load_model(dir), st, "'model.layers.3.mlp.up_proj.weight' belongs to layer 3",
                 "'num_hidden_layers' = 1");

    // A tokenizer with another vocabulary than the weights.
    dir = hf_llama();
    json tok = json::parse(read_all(dir + "/tokenizer.json"));
    tok["model"]["vocab"]["extra"] = tok["model"]["vocab"].size();
    ps::test::write_file(dir + "/tokenizer.json", tok.dump());
    EXPECT_ERROR(ps::load_model(dir), "tokenizer has " +
                                          std::to_string(tok["model"]["vocab"].size()) +
                                          " tokens but the model's vocabulary is");
    // llama2.c: the tokenizer of a model with a smaller or larger vocabulary.
    const std::string checkpoint = ps::test::llama2c_checkpoint(llama2c_shape());
    std::string path = llama2c(checkpoint, 12);
    const std::string msg = error_of([&] { ps::load_model(path); });
    QVERIFY2(contains(msg, "tokenizer.bin: ") &&
                 (contains(msg, "cannot hold 16 tokens") || contains(msg, "(truncated?)")),
             msg.c_str());
    path = llama2c(checkpoint, 300);
    EXPECT_ERROR(ps::load_model(path), "tokenizer.bin", "bytes follow the 16 tokens");
}

void TestHostileInputs::huge_dimensions_allocate_nothing() {
    const long before = peak_rss_mb();
    // llama2.c: the largest header the loader accepts, over a tiny file.
    Llama2cShape huge;
    huge.dim = 1 << 16, huge.hidden = 1 << 18, huge.layers = 1024, huge.heads = 1024;
    huge.kv_heads = 1024, huge.vocab = 1 << 22, huge.seq_len = 1 << 22;
    std::string bytes = ps::test::llama2c_checkpoint(llama2c_shape());
    const int32_t header[7] = {huge.dim,      huge.hidden, huge.layers, huge.heads,
                               huge.kv_heads, huge.vocab,  huge.seq_len};
    std::memcpy(bytes.data(), header, sizeof header);
    const std::string path = llama2c(bytes);
    EXPECT_ERROR(ps::load_model(path), path, "the header (dim=65536, 1024 layers, vocab 4194304",
                 "but the file has " + std::to_string(bytes.size()));
    // GGUF: a config and tensor dims of a 65536-wide model over a tiny file.
    const GgufWriter w = TinyModel().writer();
    std::vector<uint8_t> b = w.bytes();
    GgufWriter::patch_u64(b, w.layout().tensor_dims[0] + 4, 1 << 16);  // token_embd's ne[0]
    const std::string g = gguf(b);
    EXPECT_ERROR(ps::load_model(g), g, "tensor 'token_embd.weight': data [",
                 "is beyond the file's");
    // safetensors: a tensor of 2^40 elements.
    const std::string dir = hf_llama();
    const std::string st = dir + "/model.safetensors";
    const std::string whole = read_all(st);
    json h = header_of(whole);
    h["model.norm.weight"]["shape"] = {int64_t(1) << 20, int64_t(1) << 20};
    ps::test::write_file(st, with_header(whole, h.dump()));
    EXPECT_ERROR(ps::load_model(dir), st, "'model.norm.weight'", "needs 4398046511104 bytes");
    QVERIFY2(peak_rss_mb() - before < 100, "a claimed size was allocated");
}

void TestHostileInputs::model_bigger_than_memory() {
    // Asked for f32 weights, F16 ones are widened and quantized ones dequantized: with 1 MB of
    // memory "available", a model whose conversion needs more is refused before anything is
    // allocated. Kept as stored (the default), the same model needs no conversion and loads.
    TinyModel t;
    t.vocab = 40000;  // token_embd and output, 8 x 40000 each in F16: 2.6 MB once in f32
    t.f16 = true;
    const std::string g = gguf(t.writer().bytes());
    ps::LoadOptions widen;
    widen.f32_weights = true;
    ps::set_memory_limit(1 << 20);
    const std::string gguf_msg = error_of([&] { ps::load_model(g, widen); });
    const int64_t compact_owned = ps::load_model(g)->owned_bytes();
    const std::string dir = fresh_dir();
    ps::test::write_hf_gpt2(dir);  // F16 shards
    std::string hf_msg;
    {
        ps::set_memory_limit(4096);
        hf_msg = error_of([&] { ps::load_model(dir, widen); });
    }
    ps::set_memory_limit(0);
    QCOMPARE(compact_owned, int64_t(0));
    QVERIFY2(contains(gguf_msg, g + ": converting "), gguf_msg.c_str());
    QVERIFY2(contains(gguf_msg, "tensors to f32 needs 3 MB of memory but only 1 MB are available"),
             gguf_msg.c_str());
    QVERIFY2(contains(hf_msg, "model.safetensors.index.json: converting "), hf_msg.c_str());
    QVERIFY2(contains(hf_msg, "but only 0 MB are available"), hf_msg.c_str());
    // With the machine's own memory both load.
    QCOMPARE(ps::load_model(g, widen)->config.vocab_size, 40000);
    QCOMPARE(ps::load_model(dir, widen)->config.arch, ps::Arch::Gpt2);
    QVERIFY(ps::available_memory() > (16u << 20));
}

// JSON takes about ten times its size once parsed: files far beyond any real one are refused
// from their size (sparse files here: no disk is used).
void TestHostileInputs::giant_json_files_are_not_read() {
    std::string dir = hf_llama();
    fs::resize_file(dir + "/tokenizer.json", uintmax_t(300) << 20);
    EXPECT_ERROR(ps::load_model(dir), "tokenizer.json: is 314572800 bytes",
                 "a tokenizer's JSON file is at most 256 MB");
    dir = hf_llama();
    fs::resize_file(dir + "/config.json", uintmax_t(100) << 20);
    EXPECT_ERROR(ps::load_model(dir), "config.json: is 104857600 bytes, too large for JSON");
}

// A crash found while writing these tests: nlohmann's dump() recurses once per level, so an error
// message quoting a deeply nested value (or the tokenizer's walk of its components) overflowed
// the stack.
void TestHostileInputs::json_nested_a_million_deep() {
    const std::string deep = std::string(1000000, '[') + std::string(1000000, ']');
    std::string dir = hf_llama();
    json config = json::parse(read_all(dir + "/config.json"));
    config.erase("architectures");
    std::string text = config.dump();
    text.insert(text.size() - 1, ", \"architectures\": " + deep);
    ps::test::write_file(dir + "/config.json", text);
    EXPECT_ERROR(ps::load_model(dir), "config.json", "JSON nested deeper than 100 levels");

    dir = hf_llama();
    text = read_all(dir + "/tokenizer.json");
    json tok = json::parse(text);
    tok.erase("normalizer");
    text = tok.dump();
    text.insert(text.size() - 1, ", \"normalizer\": " + deep);
    ps::test::write_file(dir + "/tokenizer.json", text);
    EXPECT_ERROR(ps::load_model(dir), "tokenizer.json", "JSON nested deeper than 100 levels");

    dir = hf_llama();
    const std::string st = dir + "/model.safetensors";
    const std::string whole = read_all(st);
    std::string header = header_of(whole).dump();
    header.insert(header.size() - 1, ", \"x\": {\"dtype\": \"F32\", \"shape\": " + deep +
                                         ", \"data_offsets\": [0, 0]}");
    ps::test::write_file(st, with_header(whole, header));
    EXPECT_ERROR(ps::load_model(dir), st, "JSON nested deeper than 100 levels");
}

// Found by fuzz_safetensors (tests/fuzz/regressions/fuzz_safetensors/number_overflow): the JSON
// parser reports 1e999 as out_of_range, not parse_error, and it escaped the loaders uncaught.
void TestHostileInputs::json_numbers_too_large_for_a_double() {
    std::string dir = hf_llama();
    const std::string st = dir + "/model.safetensors";
    const std::string whole = read_all(st);
    std::string header = header_of(whole).dump();
    header.insert(header.size() - 1, ", \"__metadata__x\": 888E88888");
    ps::test::write_file(st, with_header(whole, header));
    EXPECT_ERROR(ps::load_model(dir), st, "invalid JSON header", "number overflow");

    for (const char* name : {"config.json", "tokenizer.json"}) {
        dir = hf_llama();
        const std::string path = dir + "/" + name;
        std::string text = read_all(path);
        text.insert(text.rfind('}'), ", \"x\": 1e999");
        ps::test::write_file(path, text);
        EXPECT_ERROR(ps::load_model(dir), path, "invalid JSON", "number overflow");
    }
    dir = fresh_dir();
    ps::test::write_hf_gpt2(dir);
    std::string vocab = read_all(dir + "/vocab.json");
    vocab.insert(vocab.rfind('}'), ", \"x\": 1e999");
    ps::test::write_file(dir + "/vocab.json", vocab);
    EXPECT_ERROR(ps::load_model(dir), "vocab.json: invalid JSON", "number overflow");
}

void TestHostileInputs::megabyte_names_give_short_messages() {
    GgufWriter w;
    const std::string name(1 << 20, 'n');
    const float one = 1.0f;
    w.add_tensor_f32(name, {1}, &one);
    w.add_tensor_f32(name, {1}, &one);
    const std::string path = gguf(w.bytes());
    const std::string msg = error_of([&] { ps::GgufFile f(path); });
    QVERIFY2(msg.rfind(path + ": tensor 'nnnn", 0) == 0, msg.substr(0, 200).c_str());
    QVERIFY2(contains(msg, "bytes cut ...]"), msg.substr(0, 200).c_str());
    QVERIFY2(contains(msg, "': duplicate name"), msg.substr(msg.size() - 200).c_str());
    QVERIFY(msg.size() < path.size() + 2100);
}

PARAMSCOPE_TEST_APPLESS_MAIN(TestHostileInputs)
#include "test_hostile_inputs.moc"
