// libFuzzer target: a GGUF file, as a model (parsing, metadata, tensors, dequantization,
// validation, forward pass) and as a tokenizer alone (tokenizer.ggml.*).
#include "core/error.h"
#include "core/formats/gguf.h"
#include "core/formats/loader.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ps::fuzz::write_scratch("model.gguf", data, size);
    try {
        const std::unique_ptr<ps::Model> model = ps::load_model(path);
        ps::fuzz::exercise_model(*model);
    } catch (const ps::Error&) {
    }
    try {
        const std::unique_ptr<ps::Tokenizer> tokenizer = ps::load_gguf_tokenizer(path);
        ps::fuzz::exercise_tokenizer(*tokenizer, "ab c");
    } catch (const ps::Error&) {
    }
    return 0;
}
