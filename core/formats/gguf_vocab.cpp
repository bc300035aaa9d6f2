// GGUF tokenizers: tokenizer.ggml.* metadata as an SPM or byte-level BPE vocabulary.
//
// Keys follow llama.cpp (gguf-py/gguf/constants.py, src/llama-vocab.cpp).
#include "core/error.h"
#include "core/formats/gguf.h"
#include "core/formats/gguf_pre_tokenizers.h"

namespace ps {

namespace {

// A special-token id: absent keeps `fallback`; 0xFFFFFFFF (or -1) means "none"; anything else
// must index the vocabulary.
int token_id(const GgufFile& f, const std::string& key, int fallback, size_t n_tokens) {
    std::optional<int64_t> v = f.opt_int(key);
    if (!v) return fallback;
    if (*v == -1 || *v == 0xFFFFFFFFll) return -1;
    if (*v < 0 || static_cast<uint64_t>(*v) >= n_tokens)
        fail(f.path(), "key '" + key + "': token id " + std::to_string(*v) +
                           " is outside the vocabulary of " + std::to_string(n_tokens) + " tokens");
    return static_cast<int>(*v);
}

// tokenizer.ggml.token_type: llama.cpp's values 1..6 (0, "undefined", is read as normal).
std::vector<TokenType> token_types(const GgufFile& f, size_t n_tokens) {
    const std::string key = "tokenizer.ggml.token_type";
    if (!f.find(key)) return {};
    std::vector<int32_t> raw = f.get_i32_array(key);
    if (raw.size() != n_tokens)
        fail(f.path(), "key '" + key + "': " + std::to_string(raw.size()) +
                           " entries, expected one per token (" + std::to_string(n_tokens) + ")");
    std::vector<TokenType> types(n_tokens);
    for (size_t i = 0; i < n_tokens; ++i) {
        if (raw[i] < 0 || raw[i] > 6)
            fail(f.path(), "key '" + key + "': token " + std::to_string(i) + " has type " +
                               std::to_string(raw[i]) + ", expected 0..6");
        types[i] = raw[i] == 0 ? TokenType::Normal : static_cast<TokenType>(raw[i]);
    }
    return types;
}

}  // namespace

GgufVocab read_gguf_vocab(const GgufFile& f) {
    GgufVocab v;
    v.model = f.get_string("tokenizer.ggml.model");
    // The count first: 10^8 strings would take gigabytes before the check.
    const uint64_t count = f.array_size("tokenizer.ggml.tokens");
    if (count > (1u << 22))
        fail(f.path(), "key 'tokenizer.ggml.tokens': " + std::to_string(count) +
                           " tokens, expected at most " + std::to_string(1u << 22));
    std::vector<std::string> tokens = f.get_string_array("tokenizer.ggml.tokens");
    if (tokens.empty()) fail(f.path(), "key 'tokenizer.ggml.tokens': the vocabulary is empty");
    const size_t n = tokens.size();
    if (v.model == "llama") {
        SpmVocab& s = v.spm;
        s.scores = f.get_f32_array("tokenizer.ggml.scores");
        if (s.scores.size() != n)
            fail(f.path(), "key 'tokenizer.ggml.scores': " + std::to_string(s.scores.size()) +
                               " scores, expected one per token (" + std::to_string(n) + ")");
        s.types = token_types(f, n);
        s.bos_id = token_id(f, "tokenizer.ggml.bos_token_id", s.bos_id, n);
        s.eos_id = token_id(f, "tokenizer.ggml.eos_token_id", s.eos_id, n);
        s.unk_id = token_id(f, "tokenizer.ggml.unknown_token_id", s.unk_id, n);
        s.add_bos = f.opt_bool("tokenizer.ggml.add_bos_token").value_or(true);
        s.add_space_prefix = f.opt_bool("tokenizer.ggml.add_space_prefix").value_or(true);
        s.pieces = std::move(tokens);
    } else if (v.model == "gpt2") {
        // As llama.cpp: a missing key means its 'default' pre-tokenizer (llama.cpp warns that
        // generation quality will suffer); an unknown name is refused, never guessed.
        const std::string pre = f.opt_string("tokenizer.ggml.pre").value_or("default");
        std::optional<LlamaCppPreTokenizer> p = llama_cpp_pre_tokenizer(pre);
        if (!p)
            fail(f.path(), "key 'tokenizer.ggml.pre': pre-tokenizer '" + pre +
                               "' is not supported; expected one of " +
                               llama_cpp_pre_tokenizer_names());
        BpeVocab& b = v.bpe;
        b.merges = f.get_string_array("tokenizer.ggml.merges");
        b.types = token_types(f, n);
        b.bos_id = token_id(f, "tokenizer.ggml.bos_token_id", b.bos_id, n);
        b.eos_id = token_id(f, "tokenizer.ggml.eos_token_id", b.eos_id, n);
        // The pre-tokenizer's default (llama-bpe: BOS) needs a BOS token to add.
        b.add_bos =
            f.opt_bool("tokenizer.ggml.add_bos_token").value_or(p->add_bos && b.bos_id >= 0);
        b.pre_tokenizer = std::move(p->steps);
        b.ignore_merges = p->ignore_merges;
        b.pieces = std::move(tokens);
    } else {
        fail(f.path(), "key 'tokenizer.ggml.model': tokenizer '" + v.model +
                           "' is not supported (expected 'llama' or 'gpt2')");
    }
    return v;
}

std::unique_ptr<Tokenizer> make_gguf_tokenizer(const GgufFile& f) {
    GgufVocab v = read_gguf_vocab(f);
    std::unique_ptr<Tokenizer> tok = v.model == "llama"
                                         ? make_spm_tokenizer(std::move(v.spm), f.path())
                                         : make_bpe_tokenizer(std::move(v.bpe), f.path());
    if (std::optional<std::string> chat = f.opt_string("tokenizer.chat_template")) {
        tok->chat_template.text = *chat;
        tok->chat_template.source = f.path() + ": tokenizer.chat_template";
        if (tok->bos_id >= 0) tok->chat_template.bos_token = tok->piece(tok->bos_id);
        if (tok->eos_id >= 0) tok->chat_template.eos_token = tok->piece(tok->eos_id);
    }
    return tok;
}

std::unique_ptr<Tokenizer> load_gguf_tokenizer(const std::string& path) {
    GgufFile f(path);
    return make_gguf_tokenizer(f);
}

}  // namespace ps
