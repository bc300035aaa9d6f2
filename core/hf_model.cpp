// OWNER: Hugging Face helper. Placeholder so the build links until it lands.
#include "core/error.h"
#include "core/loader.h"

namespace ps {
std::unique_ptr<Model> load_hf_directory(const std::string& dir) { fail(dir, "Hugging Face directories not implemented yet"); }
}  // namespace ps
