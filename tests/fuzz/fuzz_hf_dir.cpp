// libFuzzer target: the JSON and text files of a Hugging Face directory (config.json,
// tokenizer.json, tokenizer_config.json, vocab.json, merges.txt, the shard index) and its
// model.safetensors, each fuzzed inside an otherwise valid directory. The first input byte picks
// the directory (bit 0: a Llama with tokenizer.json, or a GPT-2 with vocab.json + merges.txt
// and two F16 shards) and the file; the rest of the input replaces that file.
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/formats/tokenizer_files.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/tiny_fixtures.h"

namespace {

namespace fs = std::filesystem;

struct Directory {
    std::string path;
    std::vector<std::string> files;               // the files an input may replace
    std::map<std::string, std::string> original;  // their valid contents ("" = absent)
};

std::string read_or_empty(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

Directory make(const std::string& name, void (*write)(const std::string&),
               std::vector<std::string> files) {
    Directory d{ps::fuzz::scratch_dir() + "/" + name, std::move(files), {}};
    fs::create_directories(d.path);
    write(d.path);
    for (const std::string& f : d.files) d.original[f] = read_or_empty(d.path + "/" + f);
    return d;
}

void restore(const Directory& d, const std::string& file) {
    const std::string path = d.path + "/" + file;
    const std::string& text = d.original.at(file);
    if (text.empty())
        fs::remove(path);
    else
        std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const Directory dirs[2] = {
        make("llama", ps::test::write_hf_llama,
             {"config.json", "tokenizer.json", "tokenizer_config.json", "model.safetensors"}),
        make("gpt2", ps::test::write_hf_gpt2,
             {"config.json", "vocab.json", "merges.txt", "model.safetensors.index.json",
              "tokenizer_config.json"}),
    };
    if (size < 1) return 0;
    const Directory& dir = dirs[data[0] & 1];
    const std::string& file = dir.files[(data[0] >> 1) % dir.files.size()];
    std::ofstream(dir.path + "/" + file, std::ios::binary | std::ios::trunc)
        .write(reinterpret_cast<const char*>(data + 1), std::streamsize(size - 1));
    try {
        const std::unique_ptr<ps::Model> model = ps::load_model(dir.path);
        ps::fuzz::exercise_model(*model);
    } catch (const ps::Error&) {
    }
    try {
        const std::unique_ptr<ps::Tokenizer> tokenizer = ps::load_hf_tokenizer(dir.path);
        ps::fuzz::exercise_tokenizer(*tokenizer, "ab c");
    } catch (const ps::Error&) {
    }
    restore(dir, file);
    return 0;
}
