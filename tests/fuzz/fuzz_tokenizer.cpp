// libFuzzer target: encoding and decoding arbitrary bytes with well-formed tokenizers, the
// synthetic ones of tests/support/tiny_fixtures and, when ../shared is there, real ones
// (stories260K's llama2.c tokenizer, GPT-2's and Llama's vocabularies from llama.cpp's test GGUFs).
// The first input byte picks the tokenizer and whether the rest is text (encode, then decode and
// compare) or little-endian int32 ids (decode).
#include <cstring>
#include <filesystem>
#include <memory>
#include <vector>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/formats/tokenizer_files.h"
#include "tests/fuzz/fuzz_support.h"
#include "tests/support/tiny_fixtures.h"

namespace {

std::vector<std::unique_ptr<ps::Tokenizer>> make_tokenizers() {
    std::vector<std::unique_ptr<ps::Tokenizer>> out;
    out.push_back(ps::make_bpe_tokenizer(ps::test::small_bpe_vocab(), "small BPE"));
    out.push_back(ps::make_spm_tokenizer(ps::test::small_spm_vocab(), "small SPM"));
    const std::string shared = PARAMSCOPE_SHARED_DIR;
    const std::string tok512 = shared + "/models/stories260K/tok512.bin";
    if (std::filesystem::exists(tok512)) out.push_back(ps::load_llama2c_tokenizer(tok512, 512));
    for (const char* name : {"ggml-vocab-gpt-2.gguf", "ggml-vocab-llama-spm.gguf"}) {
        const std::string path = shared + "/tokenizers/" + name;
        if (std::filesystem::exists(path)) out.push_back(ps::load_gguf_tokenizer(path));
    }
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    static const std::vector<std::unique_ptr<ps::Tokenizer>> tokenizers = make_tokenizers();
    if (size < 1) return 0;
    const ps::Tokenizer& tok = *tokenizers[(data[0] >> 1) % tokenizers.size()];
    const std::string_view rest(reinterpret_cast<const char*>(data + 1), size - 1);
    if ((data[0] & 1) == 0) {
        ps::fuzz::exercise_text(tok, rest, true);
        return 0;
    }
    std::vector<int> ids(rest.size() / 4);
    if (!ids.empty()) std::memcpy(ids.data(), rest.data(), ids.size() * 4);
    try {
        tok.decode(ids);
        for (int id : ids) ps::fuzz::check(id >= 0 && id < tok.vocab_size(), "decoded a bad id");
    } catch (const ps::Error&) {
        bool any_bad = false;
        for (int id : ids) any_bad = any_bad || id < 0 || id >= tok.vocab_size();
        ps::fuzz::check(any_bad, "decode refused valid ids");
    }
    return 0;
}
