// libFuzzer target: a llama2.c checkpoint (.bin). The input is the checkpoint; a valid
// tokenizer.bin for the vocabulary its header claims is written beside it, so a checkpoint
// that parses goes on to validation, the forward pass and the statistics.
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/formats/loader.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/tiny_fixtures.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string path = ps::fuzz::write_scratch("model.bin", data, size);
    const std::string tokenizer = ps::fuzz::scratch_dir() + "/tokenizer.bin";
    int32_t vocab = 0;
    if (size >= 24) std::memcpy(&vocab, data + 20, 4);    // the header's vocab_size field
    if (vocab < 0 && vocab != INT32_MIN) vocab = -vocab;  // negative: a separate classifier
    if (vocab >= 1 && vocab <= 4096)
        ps::fuzz::write_scratch("tokenizer.bin", ps::test::llama2c_tokenizer_file(vocab));
    else
        std::filesystem::remove(tokenizer);
    try {
        const std::unique_ptr<ps::Model> model = ps::load_model(path);
        ps::fuzz::exercise_model(*model);
    } catch (const ps::Error&) {
    }
    return 0;
}
