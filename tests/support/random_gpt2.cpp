#include "tests/support/random_gpt2.h"

#include <algorithm>
#include <cmath>
#include <random>

#include "core/tensor/half.h"
#include "tests/support/gguf_writer.h"

namespace ps::test {

using json = nlohmann::json;
using Matrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

namespace {

std::vector<float> transpose(const std::vector<float>& w, int rows, int cols) {
    std::vector<float> t(w.size());
    for (int r = 0; r < rows; ++r)
        for (int c = 0; c < cols; ++c) t[size_t(c) * rows + r] = w[size_t(r) * cols + c];
    return t;
}

std::vector<double> layernorm(const std::vector<double>& x, const std::vector<float>& g,
                              const std::vector<float>& b, double eps) {
    double mean = 0, var = 0;
    for (double v : x) mean += v;
    mean /= double(x.size());
    for (double v : x) var += (v - mean) * (v - mean);
    var /= double(x.size());
    std::vector<double> y(x.size());
    for (size_t i = 0; i < x.size(); ++i) y[i] = (x[i] - mean) / std::sqrt(var + eps) * g[i] + b[i];
    return y;
}

// y[j] = b[j] + sum_i x[i] W[i][j], W stored [in, out] (Conv1D).
std::vector<double> conv1d(const std::vector<double>& x, const std::vector<float>& w,
                           const std::vector<float>& b, int out) {
    std::vector<double> y(static_cast<size_t>(out));
    for (int j = 0; j < out; ++j) {
        double s = b[size_t(j)];
        for (size_t i = 0; i < x.size(); ++i) s += x[i] * w[i * size_t(out) + size_t(j)];
        y[size_t(j)] = s;
    }
    return y;
}

double gelu(double x) {
    const double pi = 3.14159265358979323846;
    return 0.5 * x * (1 + std::tanh(std::sqrt(2 / pi) * (x + 0.044715 * x * x * x)));
}

}  // namespace

void RandomGpt2::randomize(uint32_t seed) {
    std::mt19937 rng(seed);
    auto normal = [&](size_t n, float mean, float sd) {
        std::normal_distribution<float> dist(mean, sd);
        std::vector<float> v(n);
        for (float& x : v) x = dist(rng);
        return v;
    };
    const size_t D = size_t(d), H = size_t(hidden);
    wte = normal(size_t(vocab) * D, 0, 0.2f);
    wpe = normal(size_t(ctx) * D, 0, 0.1f);
    L.resize(size_t(layers));
    for (Layer& l : L) {
        l.ln1_w = normal(D, 1, 0.1f), l.ln1_b = normal(D, 0, 0.1f);
        l.attn_w = normal(D * 3 * D, 0, 0.15f), l.attn_b = normal(3 * D, 0, 0.1f);
        l.proj_w = normal(D * D, 0, 0.1f), l.proj_b = normal(D, 0, 0.1f);
        l.ln2_w = normal(D, 1, 0.1f), l.ln2_b = normal(D, 0, 0.1f);
        l.fc_w = normal(D * H, 0, 0.15f), l.fc_b = normal(H, 0, 0.1f);
        l.fcp_w = normal(H * D, 0, 0.1f), l.fcp_b = normal(D, 0, 0.1f);
    }
    lnf_w = normal(D, 1, 0.1f), lnf_b = normal(D, 0, 0.1f);
}

// Rounds every weight through `dtype` (what a model stored in F16/BF16 computes with).
void RandomGpt2::round_to(const std::string& dtype) {
    auto round = [&](std::vector<float>& v) {
        for (float& x : v)
            x = dtype == "F16" ? ps::f16_to_f32(ps::f32_to_f16(x))
                               : ps::bf16_to_f32(ps::f32_to_bf16(x));
    };
    for (auto* v : {&wte, &wpe, &lnf_w, &lnf_b, &lm_head}) round(*v);
    for (Layer& l : L)
        for (auto* v : {&l.ln1_w, &l.ln1_b, &l.attn_w, &l.attn_b, &l.proj_w, &l.proj_b, &l.ln2_w,
                        &l.ln2_b, &l.fc_w, &l.fc_b, &l.fcp_w, &l.fcp_b})
            round(*v);
}

json RandomGpt2::config() const {
    return {{"architectures", {"GPT2LMHeadModel"}},
            {"model_type", "gpt2"},
            {"n_embd", d},
            {"n_layer", layers},
            {"n_head", heads},
            {"n_positions", ctx},
            {"n_ctx", ctx},
            {"vocab_size", vocab},
            {"layer_norm_epsilon", eps},
            {"n_inner", nullptr},
            {"activation_function", "gelu_new"},
            {"tie_word_embeddings", lm_head.empty()}};
}

std::vector<HfTensor> RandomGpt2::hf_tensors(const std::string& p) const {
    const int64_t D = d, H = hidden;
    std::vector<HfTensor> t = {{p + "wte.weight", {vocab, D}, wte},
                               {p + "wpe.weight", {ctx, D}, wpe}};
    for (int i = 0; i < layers; ++i) {
        const Layer& l = L[size_t(i)];
        const std::string h = p + "h." + std::to_string(i) + ".";
        std::vector<float> mask(size_t(ctx) * ctx);  // the causal-mask buffer HF saves
        for (int r = 0; r < ctx; ++r)
            for (int c = 0; c <= r; ++c) mask[size_t(r) * ctx + c] = 1;
        t.insert(t.end(), {{h + "ln_1.weight", {D}, l.ln1_w},
                           {h + "ln_1.bias", {D}, l.ln1_b},
                           {h + "attn.bias", {1, 1, ctx, ctx}, mask},
                           {h + "attn.c_attn.weight", {D, 3 * D}, l.attn_w},
                           {h + "attn.c_attn.bias", {3 * D}, l.attn_b},
                           {h + "attn.c_proj.weight", {D, D}, l.proj_w},
                           {h + "attn.c_proj.bias", {D}, l.proj_b},
                           {h + "ln_2.weight", {D}, l.ln2_w},
                           {h + "ln_2.bias", {D}, l.ln2_b},
                           {h + "mlp.c_fc.weight", {D, H}, l.fc_w},
                           {h + "mlp.c_fc.bias", {H}, l.fc_b},
                           {h + "mlp.c_proj.weight", {H, D}, l.fcp_w},
                           {h + "mlp.c_proj.bias", {D}, l.fcp_b}});
    }
    t.push_back({p + "ln_f.weight", {D}, lnf_w});
    t.push_back({p + "ln_f.bias", {D}, lnf_b});
    if (!lm_head.empty()) t.push_back({"lm_head.weight", {vocab, D}, lm_head});
    return t;
}

// llama.cpp's `gpt2` layout: matrices [out, in] (ggml dims {in, out}).
void RandomGpt2::write_gguf(const std::string& path, const std::vector<std::string>& tokens,
                            const std::vector<std::string>& merges) const {
    GgufWriter w;
    w.set_string("general.architecture", "gpt2");
    w.set_string("general.name", "random-gpt2");
    w.set_u32("gpt2.context_length", uint32_t(ctx));
    w.set_u32("gpt2.embedding_length", uint32_t(d));
    w.set_u32("gpt2.feed_forward_length", uint32_t(hidden));
    w.set_u32("gpt2.block_count", uint32_t(layers));
    w.set_u32("gpt2.attention.head_count", uint32_t(heads));
    w.set_f32("gpt2.attention.layer_norm_epsilon", eps);
    w.set_string("tokenizer.ggml.model", "gpt2");
    w.set_string("tokenizer.ggml.pre", "gpt-2");  // as llama.cpp's conversion writes it
    w.set_string_array("tokenizer.ggml.tokens", tokens);
    w.set_string_array("tokenizer.ggml.merges", merges);
    w.set_u32("tokenizer.ggml.bos_token_id", 50256);
    w.set_u32("tokenizer.ggml.eos_token_id", 50256);
    w.add_tensor_f32("token_embd.weight", {d, vocab}, wte.data());
    w.add_tensor_f32("position_embd.weight", {d, ctx}, wpe.data());
    for (int i = 0; i < layers; ++i) {
        const Layer& l = L[size_t(i)];
        const std::string b = "blk." + std::to_string(i) + ".";
        w.add_tensor_f32(b + "attn_norm.weight", {d}, l.ln1_w.data());
        w.add_tensor_f32(b + "attn_norm.bias", {d}, l.ln1_b.data());
        w.add_tensor_f32(b + "attn_qkv.weight", {d, 3 * d}, transpose(l.attn_w, d, 3 * d).data());
        w.add_tensor_f32(b + "attn_qkv.bias", {3 * d}, l.attn_b.data());
        w.add_tensor_f32(b + "attn_output.weight", {d, d}, transpose(l.proj_w, d, d).data());
        w.add_tensor_f32(b + "attn_output.bias", {d}, l.proj_b.data());
        w.add_tensor_f32(b + "ffn_norm.weight", {d}, l.ln2_w.data());
        w.add_tensor_f32(b + "ffn_norm.bias", {d}, l.ln2_b.data());
        w.add_tensor_f32(b + "ffn_up.weight", {d, hidden}, transpose(l.fc_w, d, hidden).data());
        w.add_tensor_f32(b + "ffn_up.bias", {hidden}, l.fc_b.data());
        w.add_tensor_f32(b + "ffn_down.weight", {hidden, d}, transpose(l.fcp_w, hidden, d).data());
        w.add_tensor_f32(b + "ffn_down.bias", {d}, l.fcp_b.data());
    }
    w.add_tensor_f32("output_norm.weight", {d}, lnf_w.data());
    w.add_tensor_f32("output_norm.bias", {d}, lnf_b.data());
    if (!lm_head.empty()) w.add_tensor_f32("output.weight", {d, vocab}, lm_head.data());
    w.write(path);
}

// The naive reference: plain loops in double, one position at a time.
Matrix RandomGpt2::naive_logits(const std::vector<int>& ids, const NaiveHook& hook) const {
    using Vec = std::vector<double>;
    const size_t T = ids.size(), D = size_t(d), HS = D / size_t(heads);
    std::vector<Vec> x(T, Vec(D));
    for (size_t t = 0; t < T; ++t)
        for (size_t i = 0; i < D; ++i)
            x[t][i] = double(wte[size_t(ids[t]) * D + i]) + double(wpe[t * D + i]);
    for (size_t layer = 0; layer < L.size(); ++layer) {
        const Layer& l = L[layer];
        const int li = int(layer);
        call_hook(hook, "hook_resid_pre", li, x);
        // Attention: q, k, v are the three column blocks of c_attn's output.
        std::vector<Vec> qkv;
        for (size_t t = 0; t < T; ++t)
            qkv.push_back(
                conv1d(layernorm(x[t], l.ln1_w, l.ln1_b, eps), l.attn_w, l.attn_b, 3 * d));
        std::vector<Vec> z;  // attn.hook_z: each head's weighted sum of values, side by side
        for (size_t t = 0; t < T; ++t) {
            Vec att(D, 0.0);
            for (size_t h = 0; h < size_t(heads); ++h) {
                Vec score(t + 1);
                double mx = -1e300, sum = 0;
                for (size_t s = 0; s <= t; ++s) {  // causal: keys 0..t
                    double dot = 0;
                    for (size_t i = 0; i < HS; ++i)
                        dot += qkv[t][h * HS + i] * qkv[s][D + h * HS + i];
                    score[s] = dot / std::sqrt(double(HS));
                    mx = std::max(mx, score[s]);
                }
                for (double& s : score) sum += (s = std::exp(s - mx));
                for (size_t s = 0; s <= t; ++s)
                    for (size_t i = 0; i < HS; ++i)
                        att[h * HS + i] += score[s] / sum * qkv[s][2 * D + h * HS + i];
            }
            z.push_back(att);
        }
        call_hook(hook, "attn.hook_z", li, z);
        std::vector<Vec> attn_out;
        for (size_t t = 0; t < T; ++t) attn_out.push_back(conv1d(z[t], l.proj_w, l.proj_b, d));
        call_hook(hook, "hook_attn_out", li, attn_out);
        for (size_t t = 0; t < T; ++t)
            for (size_t i = 0; i < D; ++i) x[t][i] += attn_out[t][i];
        // MLP: c_fc, GELU (tanh approximation), c_proj.
        std::vector<Vec> post, out;
        for (size_t t = 0; t < T; ++t) {
            Vec u = conv1d(layernorm(x[t], l.ln2_w, l.ln2_b, eps), l.fc_w, l.fc_b, hidden);
            for (double& v : u) v = gelu(v);
            post.push_back(u);
        }
        call_hook(hook, "mlp.hook_post", li, post);
        for (size_t t = 0; t < T; ++t) out.push_back(conv1d(post[t], l.fcp_w, l.fcp_b, d));
        call_hook(hook, "hook_mlp_out", li, out);
        for (size_t t = 0; t < T; ++t)
            for (size_t i = 0; i < D; ++i) x[t][i] += out[t][i];
    }
    const std::vector<float>& unembed = lm_head.empty() ? wte : lm_head;
    Matrix logits(ids.size(), vocab);
    for (size_t t = 0; t < T; ++t) {
        Vec f = layernorm(x[t], lnf_w, lnf_b, eps);
        for (size_t v = 0; v < size_t(vocab); ++v) {
            double s = 0;
            for (size_t i = 0; i < D; ++i) s += f[i] * unembed[v * D + i];
            logits(Eigen::Index(t), Eigen::Index(v)) = float(s);
        }
    }
    return logits;
}
}  // namespace ps::test
