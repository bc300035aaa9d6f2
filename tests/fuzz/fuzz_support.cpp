#include "tests/fuzz/fuzz_support.h"

#include <unistd.h>

#include <algorithm>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "core/analysis/attention_stats.h"
#include "core/analysis/layer_analysis.h"
#include "core/analysis/param_stats.h"
#include "core/error.h"
#include "core/model/forward.h"
#include "core/sampling/sampling.h"
#include "core/tokenizer/unicode.h"

namespace ps::fuzz {

namespace fs = std::filesystem;

namespace {

std::string make_scratch_dir() {
    const fs::path base = fs::is_directory("/dev/shm") ? "/dev/shm" : fs::temp_directory_path();
    std::string pattern = (base / "paramscope-fuzz-XXXXXX").string();
    if (!mkdtemp(pattern.data())) {
        std::perror("mkdtemp");
        std::abort();
    }
    return pattern;
}

// True when [p, p + bytes) lies inside [begin, begin + size).
bool inside(const void* p, uint64_t bytes, const void* begin, uint64_t size) {
    const auto a = reinterpret_cast<uintptr_t>(p), b = reinterpret_cast<uintptr_t>(begin);
    return a >= b && a - b <= size && bytes <= size - (a - b);
}

// ASan does not watch memory-mapped files, so an out-of-range tensor pointer into a mapping
// would go unnoticed: check every tensor against the storage it must be in.
void check_tensor_storage(const Model& model) {
    for (const TensorInfo& t : model.tensors) {
        check((t.data != nullptr) != (t.raw != nullptr), "a tensor without data");
        // A compact tensor (kept in the file's encoding) is its `bytes` inside a mapping.
        const void* at = t.data ? static_cast<const void*>(t.data) : t.raw;
        const uint64_t bytes = t.data ? uint64_t(t.count) * sizeof(float) : uint64_t(t.bytes);
        bool found = false;
        for (const auto& file : model.files)
            found = found || inside(at, bytes, file->data(), file->size());
        for (const auto& values : model.owned)
            found = found || inside(at, bytes, values.data(), values.size() * sizeof(float));
        check(found, "tensor data outside the file mappings and the model's own storage");
    }
}

void exercise_stats(const Model& model) {
    ValueSpans all;
    for (const TensorInfo& t : model.tensors) {
        const ValueSpans spans{ValueSpan(t)};
        const ValueStats s = value_stats(spans);
        check(s.count == t.count, "value_stats count");
        if (s.count > s.non_finite) {
            const Histogram h = histogram(spans, 16, s.min, s.max);
            check(h.total() + h.outside == t.count, "histogram total");
        }
        all.push_back(spans[0]);
    }
    value_stats(all, 0, 1);  // percentiles from the 65,536-bin histogram, once per model
    nearest_tokens(model, 0, 5);
}

void exercise_forward(const Model& model) {
    static const bool one_thread = (set_threads(1), true);  // reproducible, and no pool to spin
    (void)one_thread;
    const Config& c = model.config;
    std::vector<int> ids;
    for (int i = 0; i < std::min(3, c.context_length); ++i) ids.push_back(i % c.vocab_size);
    const Trace trace = forward(model, ids);
    check(trace.logits.rows() == int(ids.size()) && trace.logits.cols() == c.vocab_size,
          "logits shape");
    named_activations(trace);
    attention_stats(trace);
    analyze_layers(model, trace);
    top_neurons(trace, 0, 0, 5);
    top_neurons(trace, 0, 0, 5, true);
    neuron_rank(trace, 0, 0, 0);
    logit_lens(model, trace.layers[0].resid_post.row(0).data());
    const float* last = trace.logits.row(trace.logits.rows() - 1).data();
    for (float temperature : {1.0f, 0.0f}) {
        try {
            SamplingSettings settings;
            settings.temperature = temperature;
            settings.top_k = 3;
            settings.top_p = 0.9f;
            const Distribution d = apply_sampling(last, c.vocab_size, settings);
            const int id = sample_token(d, 0.5);
            check(id >= 0 && id < c.vocab_size, "sampled id out of range");
        } catch (const Error&) {  // NaN or infinite logits are refused
        }
    }
}

}  // namespace

const std::string& scratch_dir() {
    // Never destroyed: the exit handler that removes the directory runs after static destructors.
    static const std::string* dir = [] {
        auto* d = new std::string(make_scratch_dir());
        std::atexit([] {
            std::error_code ec;
            fs::remove_all(*dir, ec);
        });
        return d;
    }();
    return *dir;
}

std::string write_scratch(const std::string& name, std::string_view data) {
    const std::string path = scratch_dir() + "/" + name;
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data.data(), std::streamsize(data.size()));
    out.close();
    check(bool(out), "cannot write a scratch file");
    return path;
}

void check(bool condition, const char* what) {
    if (condition) return;
    std::fprintf(stderr, "fuzz check failed: %s\n", what);
    std::abort();
}

void exercise_model(const Model& model) {
    check_tensor_storage(model);
    exercise_stats(model);
    try {
        exercise_forward(model);
    } catch (const Error&) {
    }
}

void exercise_text(const Tokenizer& tokenizer, std::string_view text, bool round_trip) {
    const int n = tokenizer.vocab_size();
    std::vector<int> ids;
    try {
        ids = tokenizer.encode(text);
    } catch (const Error&) {
        check(unicode::first_invalid_byte(text) != std::string_view::npos,
              "encode refused valid UTF-8");
        return;
    }
    for (int id : ids) check(id >= 0 && id < n, "encode gave an id outside the vocabulary");
    const std::string back = tokenizer.decode(ids);
    if (!round_trip) return;
    // Every byte has a token in GPT-2's byte-level BPE, and in SentencePiece with byte fallback;
    // SentencePiece reads "▁" in the text as a space, so such a text can't round-trip.
    int byte_tokens = 0;
    for (int id = 0; id < n; ++id) byte_tokens += tokenizer.type(id) == TokenType::Byte;
    const bool every_byte = tokenizer.kind() == "gpt2" || byte_tokens >= 256;
    const bool spm_space = tokenizer.kind() == "spm" && text.find("\xE2\x96\x81") != text.npos;
    // A special token's text ("<|endoftext|>", SentencePiece's "<unk>") encodes to that token,
    // which decodes to nothing; in SentencePiece the text after any special token also gets
    // the dummy-prefix space, as in llama.cpp.
    bool control = false;
    for (int id : ids) {
        const TokenType t = tokenizer.type(id);
        control = control || t == TokenType::Control || t == TokenType::Unknown ||
                  (tokenizer.kind() == "spm" && t == TokenType::UserDefined);
    }
    if (every_byte && !spm_space && !control) check(back == text, "decode(encode(text)) != text");
}

void exercise_tokenizer(const Tokenizer& tokenizer, std::string_view text) {
    const int n = tokenizer.vocab_size();
    for (int id = 0; id < n; ++id) tokenizer.token_bytes(id);
    for (int bad : {-1, n, INT32_MIN}) {
        try {
            tokenizer.decode({bad});
            check(false, "decode accepted an id outside the vocabulary");
        } catch (const Error&) {
        }
    }
    exercise_text(tokenizer, "Once upon a time, there was", false);
    exercise_text(tokenizer, " two  spaces\n\tand \xC3\xA9\xE4\xB8\xAD", false);
    exercise_text(tokenizer, text, false);
}

}  // namespace ps::fuzz
