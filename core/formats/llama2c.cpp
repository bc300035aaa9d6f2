// llama2.c legacy checkpoints: a header of 7 int32 (dim, hidden_dim, n_layers, n_heads,
// n_kv_heads, vocab_size, seq_len; a negative vocab_size means a separate classifier), then
// f32 tensors, each stacked over layers: token_embedding [vocab, dim], rms_att [L, dim],
// wq [L, dim, dim], wk [L, kv_dim, dim], wv [L, kv_dim, dim], wo [L, dim, dim], rms_ffn [L, dim],
// w1 [L, hidden, dim], w2 [L, dim, hidden], w3 [L, hidden, dim], rms_final [dim],
// freq_cis_real and freq_cis_imag [seq_len, head_size/2] (unused), optional wcls [vocab, dim].
#include <cstring>
#include <filesystem>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/formats/tokenizer_files.h"

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

}  // namespace

std::unique_ptr<Model> load_llama2c(const std::string& path, const LoadOptions& options) {
    auto model = std::make_unique<Model>();
    model->path = path;
    model->format = "llama2c";
    model->name = fs::path(path).stem().string();
    auto file = std::make_unique<MappedFile>(path);
    const MappedFile& f = *file;

    Header h{};
    if (f.size() < sizeof h)
        fail(path, "not a model: too short for a llama2.c header (" + std::to_string(f.size()) +
                       " bytes), and not GGUF or safetensors");
    std::memcpy(&h, f.data(), sizeof h);
    const bool shared_classifier = h.vocab_size > 0;
    const int64_t vocab = h.vocab_size > 0 ? h.vocab_size : -static_cast<int64_t>(h.vocab_size);
    auto field_ok = [](int64_t v, int64_t max) { return v > 0 && v <= max; };
    if (!field_ok(h.dim, 1 << 16) || !field_ok(h.hidden_dim, 1 << 18) ||
        !field_ok(h.n_layers, 1024) || !field_ok(h.n_heads, 1024) ||
        !field_ok(h.n_kv_heads, 1024) || !field_ok(vocab, 1 << 22) ||
        !field_ok(h.seq_len, 1 << 22) || h.dim % h.n_heads != 0 || h.n_heads % h.n_kv_heads != 0)
        fail(path,
             "not a recognized model: not GGUF or safetensors, and as a llama2.c checkpoint its "
             "header "
             "is invalid (dim=" +
                 std::to_string(h.dim) + " hidden_dim=" + std::to_string(h.hidden_dim) +
                 " n_layers=" + std::to_string(h.n_layers) + " n_heads=" +
                 std::to_string(h.n_heads) + " n_kv_heads=" + std::to_string(h.n_kv_heads) +
                 " vocab_size=" + std::to_string(h.vocab_size) +
                 " seq_len=" + std::to_string(h.seq_len) + ")");

    Config& c = model->config;
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

    Weights& w = model->weights;
    auto info = [&](const std::string& name, std::vector<int64_t> shape, ParamKind kind, int layer,
                    const float* data) {
        int64_t count = 1;
        for (int64_t d : shape) count *= d;
        model->tensors.push_back({name, std::move(shape), DType::F32, kind, layer, count,
                                  count * static_cast<int64_t>(sizeof(float)), data});
    };
    auto linear = [](const float* p, int64_t in, int64_t out) {
        return Linear{p, nullptr, static_cast<int>(in), static_cast<int>(out), false, 0};
    };

    w.token_embedding = take(vocab * dim);
    info("tok_embeddings.weight", {vocab, dim}, ParamKind::Embedding, -1, w.token_embedding);
    const float* rms_att = take(L * dim);
    const float* wq = take(L * dim * dim);
    const float* wk = take(L * kv_dim * dim);
    const float* wv = take(L * kv_dim * dim);
    const float* wo = take(L * dim * dim);
    const float* rms_ffn = take(L * dim);
    const float* w1 = take(L * hidden * dim);
    const float* w2 = take(L * dim * hidden);
    const float* w3 = take(L * hidden * dim);
    w.final_norm = take(dim);
    take(static_cast<int64_t>(h.seq_len) *
         head_size);  // freq_cis_real and _imag: RoPE is recomputed
    const float* wcls = shared_classifier ? w.token_embedding : take(vocab * dim);

    w.layers.resize(static_cast<size_t>(L));
    for (int64_t l = 0; l < L; ++l) {
        LayerWeights& lw = w.layers[static_cast<size_t>(l)];
        const std::string p = "layers." + std::to_string(l) + ".";
        const int li = static_cast<int>(l);
        lw.attn_norm = rms_att + l * dim;
        lw.wq = linear(wq + l * dim * dim, dim, dim);
        lw.wk = linear(wk + l * kv_dim * dim, dim, kv_dim);
        lw.wv = linear(wv + l * kv_dim * dim, dim, kv_dim);
        lw.wo = linear(wo + l * dim * dim, dim, dim);
        lw.ffn_norm = rms_ffn + l * dim;
        lw.ffn_gate = linear(w1 + l * hidden * dim, dim, hidden);
        lw.ffn_down = linear(w2 + l * dim * hidden, hidden, dim);
        lw.ffn_up = linear(w3 + l * hidden * dim, dim, hidden);
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
    w.unembed = linear(wcls, dim, vocab);
    if (!shared_classifier) info("output.weight", {vocab, dim}, ParamKind::Weight, -1, wcls);

    model->files.push_back(std::move(file));
    model->tokenizer =
        load_llama2c_tokenizer(find_tokenizer(path, options, c.vocab_size), c.vocab_size);
    model->validate();
    return model;
}

}  // namespace ps
