// libFuzzer target: a llama2.c tokenizer.bin. The first two input bytes give the vocabulary
// size the checkpoint would claim (1..1024), the rest is the file.
#include "core/error.h"
#include "core/formats/tokenizer_files.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/fuzz/fuzz_support.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    if (size < 2) return 0;
    const int vocab = (data[0] | data[1] << 8) % 1024 + 1;
    const std::string path = ps::fuzz::write_scratch("tokenizer.bin", data + 2, size - 2);
    try {
        const std::unique_ptr<ps::Tokenizer> tokenizer = ps::load_llama2c_tokenizer(path, vocab);
        ps::fuzz::exercise_tokenizer(*tokenizer, "ab c");
    } catch (const ps::Error&) {
    }
    return 0;
}
