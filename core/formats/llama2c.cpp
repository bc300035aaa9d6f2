// llama2.c legacy checkpoints: a header of 7 int32 (dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size, seq_len; a negative vocab_size means a separate classifier), then
// f32 tensors, each stacked over layers: token_embedding [vocab, dim], rms_att [L, dim],
// wq [L, dim, dim], wk [L, kv_dim, dim], wv [L, kv_dim, dim], wo [L, dim, dim], rms_ffn [L, dim],
// w1 [L, hidden, dim], w2 [L, dim, hidden], w3 [L, hidden, dim], rms_final [dim],
// freq_cis_real and freq_cis_imag [seq_len, head_size/2] (unused), optional wcls [vocab, dim].
//
// The newer export.py formats start with a 256-byte header: u32 magic "ak42" (0x616b3432), i32
// version, the 7 int32 (vocab_size positive), u8 shared_classifier, and for version 2 an i32 group
// size at byte 37. Version 1 is f32: the norms first (rms_att [L, dim], rms_ffn [L, dim],
// rms_final [dim]), then token_embedding, wq, wk, wv, wo, w1, w2, w3 (each [L, ...]) and wcls
// unless shared. Version 2 (`export.py --version 2`, runq.c) has the same norms in f32, then each
// matrix of each layer in turn as int8 values followed by one f32 scale per group of group-size
// values (value = q * scale): it is widened to f32 at load, as runq.c widens its embedding.
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/formats/tokenizer_files.h"
#include "core/tensor/memory_budget.h"

namespace ps {

namespace fs = std::filesystem;

namespace {

struct Header {
    int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

// The tokenizer: --tokenizer FILE, else tokenizer.bin or tok<vocab>.bin or a single tok*.bin
// beside the checkpoint.
std::string find_tokenizer(const std::string& path, const LoadOptions& options, int vocab) {
    if (!options.tokenizer_path.empty()) return options.tokenizer_path;
    fs::path dir = fs::path(path).parent_path();
    if (dir.empty()) dir = ".";
    for (const std::string& name :
         {std::string("tokenizer.bin"), "tok" + std::to_string(vocab) + ".bin"})
        if (fs::exists(dir / name)) return (dir / name).string();
    std::vector<std::string> candidates;
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
        std::string name = entry.path().filename().string();
        if (name.rfind("tok", 0) == 0 && entry.path().extension() == ".bin")
            candidates.push_back(entry.path().string());
    }
    if (candidates.size() == 1) return candidates[0];
    fail(path, "no llama2.c tokenizer found beside the checkpoint: expected tokenizer.bin or tok" +
                   std::to_string(vocab) + ".bin in " + dir.string() +
                   " (or pass --tokenizer FILE)");
}

constexpr uint32_t kMagic = 0x616b3432;  // "ak42"

void check_header(const std::string& path, const Header& h, int64_t vocab) {
    auto field_ok = [](int64_t v, int64_t max) { return v > 0 && v <= max; };
    if (!field_ok(h.dim, 1 << 16) || !field_ok(h.hidden_dim, 1 << 18) ||
        !field_ok(h.n_layers, 1024) || !field_ok(h.n_heads, 1024) ||
        !field_ok(h.n_kv_heads, 1024) || !field_ok(vocab, 1 << 22) ||
        !field_ok(h.seq_len, 1 << 22) || h.dim % h.n_heads != 0 || h.n_heads % h.n_kv_heads != 0)
        fail(path,
             "not a recognized model: not GGUF or safetensors, and as a llama2.c checkpoint its "
             "header is invalid (dim=" +
                 std::to_string(h.dim) + " hidden_dim=" + std::to_string(h.hidden_dim) +
                 " n_layers=" + std::to_string(h.n_layers) + " n_heads=" +
                 std::to_string(h.n_heads) + " n_kv_heads=" + std::to_string(h.n_kv_heads) +
                 " vocab_size=" + std::to_string(h.vocab_size) +
                 " seq_len=" + std::to_string(h.seq_len) + ")");
}

void set_config(Config& c, const Header& h, int64_t vocab, bool shared_classifier) {
    c.arch = Arch::Llama;
    c.dim = h.dim;
    c.hidden_dim = h.hidden_dim;
    c.n_layers = h.n_layers;
    c.n_heads = h.n_heads;
    c.n_kv_heads = h.n_kv_heads;
    c.vocab_size = static_cast<int>(vocab);
    c.context_length = h.seq_len;
    c.norm_eps = 1e-5f;
    c.rope_theta = 10000.0f;
    c.rope_style = RopeStyle::Interleaved;
    c.tied_embeddings = shared_classifier;
}

// The stacked tensors of a checkpoint, wherever the format puts them, as the model's weights and
// inventory (llama2.c's names).
struct Stacked {
    const float *embedding, *rms_att, *wq, *wk, *wv, *wo, *rms_ffn, *w1, *w2, *w3, *rms_final,
        *wcls;
};

void set_weights(Model& model, const Stacked& s, int64_t bytes_per_value) {
    const Config& c = model.config;
    const int64_t dim = c.dim, hidden = c.hidden_dim, L = c.n_layers, kv_dim = c.kv_dim(),
                  vocab = c.vocab_size;
    Weights& w = model.weights;
    auto info = [&](const std::string& name, std::vector<int64_t> shape, ParamKind kind, int layer,
                    const float* data) {
        int64_t count = 1;
        for (int64_t d : shape) count *= d;
        const int64_t bytes = kind == ParamKind::Norm ? 4 * count : bytes_per_value * count;
        model.tensors.push_back(
            {name, std::move(shape), DType::F32, kind, layer, count, bytes, data});
    };
    auto linear = [](const float* p, int64_t in, int64_t out) {
        return Linear{p, nullptr, static_cast<int>(in), static_cast<int>(out), false, 0};
    };
    w.token_embedding = s.embedding;
    info("tok_embeddings.weight", {vocab, dim}, ParamKind::Embedding, -1, w.token_embedding);
    w.final_norm = s.rms_final;
    w.layers.resize(static_cast<size_t>(L));
    for (int64_t l = 0; l < L; ++l) {
        LayerWeights& lw = w.layers[static_cast<size_t>(l)];
        const std::string p = "layers." + std::to_string(l) + ".";
        const int li = static_cast<int>(l);
        lw.attn_norm = s.rms_att + l * dim;
        lw.wq = linear(s.wq + l * dim * dim, dim, dim);
        lw.wk = linear(s.wk + l * kv_dim * dim, dim, kv_dim);
        lw.wv = linear(s.wv + l * kv_dim * dim, dim, kv_dim);
        lw.wo = linear(s.wo + l * dim * dim, dim, dim);
        lw.ffn_norm = s.rms_ffn + l * dim;
        lw.ffn_gate = linear(s.w1 + l * hidden * dim, dim, hidden);
        lw.ffn_down = linear(s.w2 + l * dim * hidden, hidden, dim);
        lw.ffn_up = linear(s.w3 + l * hidden * dim, dim, hidden);
        info(p + "attention_norm.weight", {dim}, ParamKind::Norm, li, lw.attn_norm);
        info(p + "attention.wq.weight", {dim, dim}, ParamKind::Weight, li, lw.wq.w);
        info(p + "attention.wk.weight", {kv_dim, dim}, ParamKind::Weight, li, lw.wk.w);
        info(p + "attention.wv.weight", {kv_dim, dim}, ParamKind::Weight, li, lw.wv.w);
        info(p + "attention.wo.weight", {dim, dim}, ParamKind::Weight, li, lw.wo.w);
        info(p + "ffn_norm.weight", {dim}, ParamKind::Norm, li, lw.ffn_norm);
        info(p + "feed_forward.w1.weight", {hidden, dim}, ParamKind::Weight, li, lw.ffn_gate.w);
        info(p + "feed_forward.w2.weight", {dim, hidden}, ParamKind::Weight, li, lw.ffn_down.w);
        info(p + "feed_forward.w3.weight", {hidden, dim}, ParamKind::Weight, li, lw.ffn_up.w);
    }
    info("norm.weight", {dim}, ParamKind::Norm, -1, w.final_norm);
    w.unembed = linear(s.wcls, dim, vocab);
    if (s.wcls != s.embedding) info("output.weight", {vocab, dim}, ParamKind::Weight, -1, s.wcls);
}

// Versions 1 (f32) and 2 (int8 groups) of export.py.
std::unique_ptr<Model> load_versioned(std::unique_ptr<Model> model,
                                      std::unique_ptr<MappedFile> file,
                                      const LoadOptions& options) {
    const std::string& path = model->path;
    const MappedFile& f = *file;
    if (f.size() < 256) fail(path, "llama2.c checkpoint: the 256-byte header is cut short");
    int32_t version = 0;
    std::memcpy(&version, f.data() + 4, 4);
    if (version != 1 && version != 2)
        fail(path, "llama2.c checkpoint: version " + std::to_string(version) +
                       " is not supported (supported: the legacy format, versions 1 and 2)");
    Header h{};
    std::memcpy(&h, f.data() + 8, sizeof h);
    const bool shared = f.data()[36] != 0;
    check_header(path, h, h.vocab_size);
    set_config(model->config, h, h.vocab_size, shared);
    const Config& c = model->config;
    const int64_t dim = c.dim, hidden = c.hidden_dim, L = c.n_layers, kv = c.kv_dim(),
                  vocab = c.vocab_size;
    int32_t group = 1;
    if (version == 2) {
        std::memcpy(&group, f.data() + 37, 4);
        if (group <= 0 || group > (1 << 20) || dim % group != 0)
            fail(path, "llama2.c version 2 checkpoint: group size " + std::to_string(group) +
                           " must be positive and divide dim " + std::to_string(dim));
    }
    // Every matrix, in file order, and how many values each holds per layer.
    const int64_t sizes[] = {vocab * dim,  dim * dim,    kv * dim,     kv * dim,   dim * dim,
                             hidden * dim, dim * hidden, hidden * dim, vocab * dim};
    const int64_t layers[] = {1, L, L, L, L, L, L, L, 1};
    const int matrices = shared ? 8 : 9;
    // Bytes per matrix value: 4 (f32), or 1 + 4 / group (int8 and its group's scale).
    uint64_t expected = 256 + 4 * static_cast<uint64_t>(2 * L * dim + dim);
    for (int i = 0; i < matrices; ++i) {
        const uint64_t n = static_cast<uint64_t>(sizes[i] * layers[i]);
        if (version == 2 && sizes[i] % group != 0)
            fail(path, "llama2.c version 2 checkpoint: group size " + std::to_string(group) +
                           " does not divide a matrix of " + std::to_string(sizes[i]) + " values");
        expected += version == 1 ? 4 * n : n + 4 * (n / static_cast<uint64_t>(group));
    }
    if (f.size() != expected)
        fail(path, "llama2.c version " + std::to_string(version) +
                       " checkpoint: the header (dim=" + std::to_string(dim) + ", " +
                       std::to_string(L) + " layers, vocab " + std::to_string(vocab) +
                       (version == 2 ? ", group " + std::to_string(group) : "") + ") implies " +
                       std::to_string(expected) + " bytes but the file has " +
                       std::to_string(f.size()));

    const uint8_t* at = f.data() + 256;
    auto norms = [&](int64_t count) {
        const float* p = reinterpret_cast<const float*>(at);
        at += 4 * count;
        return p;
    };
    Stacked s{};
    s.rms_att = norms(L * dim);
    s.rms_ffn = norms(L * dim);
    s.rms_final = norms(dim);
    if (version == 2) {
        uint64_t values = 0;
        for (int i = 0; i < matrices; ++i) values += static_cast<uint64_t>(sizes[i] * layers[i]);
        require_memory(path, 4 * values, "widening the int8 weights to f32");
    }
    // One matrix stacked over its layers: in place (version 1) or widened (version 2).
    auto matrix = [&](int i) -> const float* {
        const int64_t n = sizes[i];
        if (version == 1) {
            const float* p = reinterpret_cast<const float*>(at);
            at += 4 * n * layers[i];
            return p;
        }
        std::vector<float> out(static_cast<size_t>(n * layers[i]));
        for (int64_t l = 0; l < layers[i]; ++l) {
            const int8_t* q = reinterpret_cast<const int8_t*>(at);
            const uint8_t* scales = at + n;
            for (int64_t j = 0; j < n; ++j) {
                float scale;
                std::memcpy(&scale, scales + 4 * (j / group), 4);
                out[static_cast<size_t>(l * n + j)] = static_cast<float>(q[j]) * scale;
            }
            at += n + 4 * (n / group);
        }
        return model->keep(std::move(out));
    };
    s.embedding = matrix(0);
    s.wq = matrix(1);
    s.wk = matrix(2);
    s.wv = matrix(3);
    s.wo = matrix(4);
    s.w1 = matrix(5);
    s.w2 = matrix(6);
    s.w3 = matrix(7);
    s.wcls = shared ? s.embedding : matrix(8);
    set_weights(*model, s, 4);
    if (version == 2)  // the inventory counts the file's bytes: int8 values and their scales
        for (TensorInfo& t : model->tensors)
            if (t.kind != ParamKind::Norm) t.bytes = t.count + 4 * (t.count / group);
    model->format = version == 1 ? "llama2c" : "llama2c-int8";
    model->files.push_back(std::move(file));
    model->tokenizer =
        load_llama2c_tokenizer(find_tokenizer(path, options, c.vocab_size), c.vocab_size);
    model->validate();
    return model;
}

}  // namespace

std::unique_ptr<Model> load_llama2c(const std::string& path, const LoadOptions& options) {
    auto model = std::make_unique<Model>();
    model->path = path;
    model->format = "llama2c";
    model->name = fs::path(path).stem().string();
    auto file = std::make_unique<MappedFile>(path);
    const MappedFile& f = *file;

    uint32_t magic = 0;
    if (f.size() >= 4) std::memcpy(&magic, f.data(), 4);
    if (magic == kMagic) return load_versioned(std::move(model), std::move(file), options);
    Header h{};
    if (f.size() < sizeof h)
        fail(path, "not a model: too short for a llama2.c header (" + std::to_string(f.size()) +
                       " bytes), and not GGUF or safetensors");
    std::memcpy(&h, f.data(), sizeof h);
    const bool shared_classifier = h.vocab_size > 0;
    const int64_t vocab = h.vocab_size > 0 ? h.vocab_size : -static_cast<int64_t>(h.vocab_size);
    check_header(path, h, vocab);
    Config& c = model->config;
    set_config(c, h, vocab, shared_classifier);

    // Lay the tensors out and check the file holds exactly them (all counts fit in int64:
    // every field is bounded above).
    const int64_t dim = c.dim, hidden = c.hidden_dim, L = c.n_layers, kv_dim = c.kv_dim();
    const int64_t head_size = dim / c.n_heads;
    uint64_t offset = sizeof h;
    auto take = [&](int64_t count) {
        const float* p = reinterpret_cast<const float*>(f.data() + offset);
        offset += static_cast<uint64_t>(count) * sizeof(float);
        return p;
    };
    const uint64_t expected =
        sizeof h +
        sizeof(float) * static_cast<uint64_t>(vocab * dim + L * dim * 2 + L * dim * dim * 2 +
                                              L * kv_dim * dim * 2 + L * hidden * dim * 3 + dim +
                                              static_cast<int64_t>(h.seq_len) * head_size +
                                              (shared_classifier ? 0 : vocab * dim));
    if (f.size() != expected)
        fail(path, "llama2.c checkpoint: the header (dim=" + std::to_string(dim) + ", " +
                       std::to_string(L) + " layers, vocab " + std::to_string(vocab) +
                       (shared_classifier ? ", shared classifier" : ", separate classifier") +
                       ") implies " + std::to_string(expected) + " bytes but the file has " +
                       std::to_string(f.size()));

    Stacked s{};
    s.embedding = take(vocab * dim);
    s.rms_att = take(L * dim);
    s.wq = take(L * dim * dim);
    s.wk = take(L * kv_dim * dim);
    s.wv = take(L * kv_dim * dim);
    s.wo = take(L * dim * dim);
    s.rms_ffn = take(L * dim);
    s.w1 = take(L * hidden * dim);
    s.w2 = take(L * dim * hidden);
    s.w3 = take(L * hidden * dim);
    s.rms_final = take(dim);
    take(static_cast<int64_t>(h.seq_len) * head_size);  // freq_cis_real and _imag: recomputed
    s.wcls = shared_classifier ? s.embedding : take(vocab * dim);
    set_weights(*model, s, 4);

    model->files.push_back(std::move(file));
    model->tokenizer =
        load_llama2c_tokenizer(find_tokenizer(path, options, c.vocab_size), c.vocab_size);
    model->validate();
    return model;
}

}  // namespace ps
