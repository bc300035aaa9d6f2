// OWNER: GGUF helper. Placeholder so the build links until it lands.
#include "core/error.h"
#include "core/loader.h"

namespace ps {
std::unique_ptr<Model> load_gguf_model(const std::string& path) { fail(path, "GGUF not implemented yet"); }
std::unique_ptr<Tokenizer> load_gguf_tokenizer(const std::string& path) { fail(path, "GGUF not implemented yet"); }
}  // namespace ps
