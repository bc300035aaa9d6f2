// OWNER: tokenizer helper. Placeholder so the build links until it lands; delete when done.
#include "core/error.h"
#include "core/tokenizer.h"

namespace ps {
std::unique_ptr<Tokenizer> make_spm_tokenizer(SpmVocab, const std::string& source) { fail(source, "not implemented yet"); }
std::unique_ptr<Tokenizer> make_bpe_tokenizer(BpeVocab, const std::string& source) { fail(source, "not implemented yet"); }
std::unique_ptr<Tokenizer> load_llama2c_tokenizer(const std::string& path, int) { fail(path, "not implemented yet"); }
std::unique_ptr<Tokenizer> load_hf_tokenizer(const std::string& dir) { fail(dir, "not implemented yet"); }
}  // namespace ps
