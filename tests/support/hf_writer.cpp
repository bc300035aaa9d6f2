#include "tests/support/hf_writer.h"

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <stdexcept>
#include <tuple>

#include "core/formats/safetensors.h"
#include "core/tensor/half.h"

namespace ps::test {

namespace fs = std::filesystem;
using json = nlohmann::json;

std::vector<uint8_t> encode_values(const std::vector<float>& values, const std::string& dtype) {
    std::vector<uint8_t> out;
    if (dtype == "F32") {
        out.resize(values.size() * 4);
        std::memcpy(out.data(), values.data(), out.size());
        return out;
    }
    if (dtype != "F16" && dtype != "BF16") throw std::runtime_error("encode_values: " + dtype);
    out.resize(values.size() * 2);
    for (size_t i = 0; i < values.size(); ++i) {
        uint16_t h = dtype == "F16" ? f32_to_f16(values[i]) : f32_to_bf16(values[i]);
        std::memcpy(out.data() + 2 * i, &h, 2);
    }
    return out;
}

void write_file(const std::string& path, const std::string& bytes) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) throw std::runtime_error("cannot write " + path);
}

void write_hf_model(const std::string& dir, const json& config,
                    const std::vector<HfTensor>& tensors, const std::string& dtype, int shards) {
    fs::create_directories(dir);
    write_file((fs::path(dir) / "config.json").string(), config.dump(2));

    std::vector<std::vector<uint8_t>> bytes;
    for (const HfTensor& t : tensors) bytes.push_back(encode_values(t.values, dtype));
    auto to_write = [&](size_t i) {
        return TensorToWrite{tensors[i].name, dtype, tensors[i].shape, bytes[i].data(),
                             bytes[i].size()};
    };
    if (shards <= 1) {
        std::vector<TensorToWrite> all;
        for (size_t i = 0; i < tensors.size(); ++i) all.push_back(to_write(i));
        write_safetensors((fs::path(dir) / "model.safetensors").string(), all, {{"format", "pt"}});
        return;
    }
    json weight_map = json::object();
    uint64_t total = 0;
    for (int s = 0; s < shards; ++s) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05d-of-%05d.safetensors", s + 1, shards);
        std::vector<TensorToWrite> part;
        for (size_t i = static_cast<size_t>(s); i < tensors.size();
             i += static_cast<size_t>(shards)) {
            part.push_back(to_write(i));
            weight_map[tensors[i].name] = name;
            total += bytes[i].size();
        }
        write_safetensors((fs::path(dir) / name).string(), part, {{"format", "pt"}});
    }
    json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weight_map}};
    write_file((fs::path(dir) / "model.safetensors.index.json").string(), index.dump(2));
}

void copy_gpt2_tokenizer(const std::string& source_dir, const std::string& dir) {
    fs::create_directories(dir);
    for (const char* name : {"vocab.json", "merges.txt"})
        fs::copy_file(fs::path(source_dir) / name, fs::path(dir) / name,
                      fs::copy_options::overwrite_existing);
}

namespace {

// Splits UTF-8 text into code points (Python's str indexing, which the extractor uses).
std::vector<std::string> code_points(const std::string& s) {
    std::vector<std::string> out;
    for (size_t i = 0; i < s.size();) {
        unsigned char c = static_cast<unsigned char>(s[i]);
        size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : 4;
        out.push_back(s.substr(i, n));
        i += n;
    }
    return out;
}

json added_token(int id, const std::string& content) {
    return {{"id", id},        {"content", content},  {"single_word", false}, {"lstrip", false},
            {"rstrip", false}, {"normalized", false}, {"special", true}};
}

}  // namespace

void write_llama_tokenizer_json(const std::string& dir, const std::vector<std::string>& pieces,
                                const std::vector<float>& scores) {
    json vocab = json::object();
    std::map<std::string, int> ids;
    for (size_t i = 0; i < pieces.size(); ++i) {
        vocab[pieces[i]] = static_cast<int>(i);
        ids[pieces[i]] = static_cast<int>(i);
    }
    // (score of the merged piece, left id, right id, merge) sorted: highest score first.
    std::vector<std::tuple<float, int, int, std::string>> merges;
    for (size_t i = 0; i < pieces.size(); ++i) {
        std::vector<std::string> cps = code_points(pieces[i]);
        for (size_t k = 1; k < cps.size(); ++k) {
            std::string left, right;
            for (size_t j = 0; j < k; ++j) left += cps[j];
            for (size_t j = k; j < cps.size(); ++j) right += cps[j];
            auto l = ids.find(left), r = ids.find(right);
            if (l != ids.end() && r != ids.end())
                merges.emplace_back(scores[i], l->second, r->second, left + " " + right);
        }
    }
    std::stable_sort(merges.begin(), merges.end(), [](const auto& a, const auto& b) {
        if (std::get<0>(a) != std::get<0>(b)) return std::get<0>(a) > std::get<0>(b);
        return std::tie(std::get<1>(a), std::get<2>(a)) < std::tie(std::get<1>(b), std::get<2>(b));
    });
    json merge_list = json::array();
    for (const auto& m : merges) merge_list.push_back(std::get<3>(m));

    json tok = {
        {"version", "1.0"},
        {"truncation", nullptr},
        {"padding", nullptr},
        {"added_tokens",
         {added_token(0, pieces[0]), added_token(1, pieces[1]), added_token(2, pieces[2])}},
        {"normalizer",
         {{"type", "Sequence"},
          {"normalizers",
           {{{"type", "Prepend"}, {"prepend", "\u2581"}},
            {{"type", "Replace"}, {"pattern", {{"String", " "}}}, {"content", "\u2581"}}}}}},
        {"pre_tokenizer", nullptr},
        {"post_processor",
         {{"type", "TemplateProcessing"},
          {"single",
           {{{"SpecialToken", {{"id", pieces[1]}, {"type_id", 0}}}},
            {{"Sequence", {{"id", "A"}, {"type_id", 0}}}}}},
          {"pair", json::array()},
          {"special_tokens",
           {{pieces[1], {{"id", pieces[1]}, {"ids", {1}}, {"tokens", {pieces[1]}}}}}}}},
        {"decoder",
         {{"type", "Sequence"},
          {"decoders",
           {{{"type", "Replace"}, {"pattern", {{"String", "\u2581"}}}, {"content", " "}},
            {{"type", "ByteFallback"}},
            {{"type", "Fuse"}},
            {{"type", "Strip"}, {"content", " "}, {"start", 1}, {"stop", 0}}}}}},
        {"model",
         {{"type", "BPE"},
          {"dropout", nullptr},
          {"unk_token", pieces[0]},
          {"continuing_subword_prefix", nullptr},
          {"end_of_word_suffix", nullptr},
          {"fuse_unk", true},
          {"byte_fallback", true},
          {"ignore_merges", false},
          {"vocab", vocab},
          {"merges", merge_list}}}};
    fs::create_directories(dir);
    write_file((fs::path(dir) / "tokenizer.json").string(), tok.dump(1));
    json tok_config = {{"add_bos_token", true},
                       {"add_eos_token", false},
                       {"bos_token", pieces[1]},
                       {"eos_token", pieces[2]},
                       {"unk_token", pieces[0]},
                       {"legacy", true},
                       {"tokenizer_class", "LlamaTokenizer"}};
    write_file((fs::path(dir) / "tokenizer_config.json").string(), tok_config.dump(2));
}

}  // namespace ps::test
