#include "core/formats/loader.h"

#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/error.h"
#include "core/model/random_model.h"

namespace ps {

namespace fs = std::filesystem;

static std::unique_ptr<Model> load_any_format(const std::string& path, const LoadOptions& options) {
    std::error_code ec;
    // "random:SHAPE": a built-in shape with random weights (core/model/random_model.h), to look
    // at an architecture's structure without downloading it.
    if (path.rfind("random:", 0) == 0 && !fs::exists(path, ec))
        return make_random_model(path.substr(7));
    if (fs::is_directory(path, ec)) return load_hf_directory(path, options);
    if (!fs::exists(path, ec)) fail(path, "no such file or directory");

    // Detect the format from content: GGUF starts with "GGUF", safetensors with an 8-byte
    // header length followed by '{'; anything else is tried as a llama2.c checkpoint.
    char head[9] = {};
    std::ifstream in(path, std::ios::binary);
    in.read(head, sizeof head);
    size_t got = static_cast<size_t>(in.gcount());
    if (got >= 4 && std::memcmp(head, "GGUF", 4) == 0) return load_gguf_model(path, options);
    if (got == 9 && head[8] == '{') {
        fs::path dir = fs::path(path).parent_path();
        if (fs::exists(dir / "config.json"))
            return load_hf_directory(dir.empty() ? "." : dir.string(), options);
        fail(path,
             "a safetensors file needs the config.json of its Hugging Face directory beside it");
    }
    return load_llama2c(path, options);
}

std::unique_ptr<Model> load_model(const std::string& path, const LoadOptions& options) {
    std::unique_ptr<Model> model = load_any_format(path, options);
    note_non_finite_weights(*model);
    return model;
}

}  // namespace ps
