// The Eigen forward pass against a deliberately naive scalar llama (plain loops over the raw
// llama2.c file, one token at a time with a key/value cache, as run.c does), and the trace's
// internal consistency: every hook agrees with the others and with the logits.
#include <QtTest>
#include <cmath>
#include <fstream>

#include "core/error.h"
#include "core/forward.h"
#include "core/loader.h"
#include "tests/support/shared_data.h"

namespace {

// Naive llama2.c-style llama: reads the checkpoint itself, no Eigen, no shared code.
struct NaiveLlama {
    int dim, hidden, layers, heads, kv_heads, vocab, seq_len;
    std::vector<float> emb, rms_att, wq, wk, wv, wo, rms_ffn, w1, w2, w3, rms_final;

    explicit NaiveLlama(const std::string& path) {
        std::ifstream in(path, std::ios::binary);
        int h[7];
        in.read(reinterpret_cast<char*>(h), sizeof h);
        dim = h[0], hidden = h[1], layers = h[2], heads = h[3], kv_heads = h[4],
        vocab = std::abs(h[5]), seq_len = h[6];
        const int kv_dim = dim / heads * kv_heads;
        auto read = [&](std::vector<float>& v, size_t n) {
            v.resize(n);
            in.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(n * 4));
        };
        read(emb, size_t(vocab) * dim);
        read(rms_att, size_t(layers) * dim);
        read(wq, size_t(layers) * dim * dim);
        read(wk, size_t(layers) * kv_dim * dim);
        read(wv, size_t(layers) * kv_dim * dim);
        read(wo, size_t(layers) * dim * dim);
        read(rms_ffn, size_t(layers) * dim);
        read(w1, size_t(layers) * hidden * dim);
        read(w2, size_t(layers) * dim * hidden);
        read(w3, size_t(layers) * hidden * dim);
        read(rms_final, size_t(dim));
    }

    static void rmsnorm(float* o, const float* x, const float* w, int n) {
        double ss = 0;
        for (int i = 0; i < n; ++i) ss += double(x[i]) * x[i];
        double scale = 1.0 / std::sqrt(ss / n + 1e-5);
        for (int i = 0; i < n; ++i) o[i] = float(w[i] * (scale * x[i]));
    }
    static void matmul(float* o, const float* x, const float* w, int in, int out) {
        for (int i = 0; i < out; ++i) {
            double s = 0;
            for (int j = 0; j < in; ++j) s += double(w[size_t(i) * in + j]) * x[j];
            o[i] = float(s);
        }
    }

    // Logits at every position, token by token.
    std::vector<std::vector<float>> run(const std::vector<int>& ids) {
        const int hs = dim / heads, kv_dim = hs * kv_heads, T = int(ids.size());
        std::vector<float> kcache(size_t(layers) * T * kv_dim), vcache(kcache.size());
        std::vector<std::vector<float>> all;
        for (int pos = 0; pos < T; ++pos) {
            std::vector<float> x(emb.begin() + size_t(ids[size_t(pos)]) * dim,
                                 emb.begin() + size_t(ids[size_t(pos)] + 1) * dim);
            std::vector<float> xb(static_cast<size_t>(dim)), q(static_cast<size_t>(dim)),
                att_out(static_cast<size_t>(dim)), tmp(static_cast<size_t>(dim));
            std::vector<float> h1(static_cast<size_t>(hidden)), h3(static_cast<size_t>(hidden));
            for (int l = 0; l < layers; ++l) {
                rmsnorm(xb.data(), x.data(), &rms_att[size_t(l) * dim], dim);
                float* k = &kcache[(size_t(l) * T + pos) * kv_dim];
                float* v = &vcache[(size_t(l) * T + pos) * kv_dim];
                matmul(q.data(), xb.data(), &wq[size_t(l) * dim * dim], dim, dim);
                matmul(k, xb.data(), &wk[size_t(l) * kv_dim * dim], dim, kv_dim);
                matmul(v, xb.data(), &wv[size_t(l) * kv_dim * dim], dim, kv_dim);
                for (int i = 0; i < dim; i += 2) {
                    double freq = 1.0 / std::pow(10000.0, double(i % hs) / hs);
                    double c = std::cos(pos * freq), s = std::sin(pos * freq);
                    for (float* vec : {q.data(), i < kv_dim ? k : nullptr}) {
                        if (!vec) continue;
                        double a = vec[i], b = vec[i + 1];
                        vec[i] = float(a * c - b * s);
                        vec[i + 1] = float(a * s + b * c);
                    }
                }
                for (int h = 0; h < heads; ++h) {
                    const int kvh = h / (heads / kv_heads);
                    std::vector<double> score(size_t(pos) + 1);
                    double mx = -1e300, sum = 0;
                    for (int t = 0; t <= pos; ++t) {
                        double s = 0;
                        for (int i = 0; i < hs; ++i)
                            s += double(q[size_t(h * hs + i)]) *
                                 kcache[(size_t(l) * T + t) * kv_dim + size_t(kvh * hs + i)];
                        score[size_t(t)] = s / std::sqrt(double(hs));
                        mx = std::max(mx, score[size_t(t)]);
                    }
                    for (double& s : score) sum += (s = std::exp(s - mx));
                    for (int i = 0; i < hs; ++i) {
                        double o = 0;
                        for (int t = 0; t <= pos; ++t)
                            o += score[size_t(t)] / sum *
                                 vcache[(size_t(l) * T + t) * kv_dim + size_t(kvh * hs + i)];
                        att_out[size_t(h * hs + i)] = float(o);
                    }
                }
                matmul(tmp.data(), att_out.data(), &wo[size_t(l) * dim * dim], dim, dim);
                for (int i = 0; i < dim; ++i) x[size_t(i)] += tmp[size_t(i)];
                rmsnorm(xb.data(), x.data(), &rms_ffn[size_t(l) * dim], dim);
                matmul(h1.data(), xb.data(), &w1[size_t(l) * hidden * dim], dim, hidden);
                matmul(h3.data(), xb.data(), &w3[size_t(l) * hidden * dim], dim, hidden);
                for (int i = 0; i < hidden; ++i)
                    h1[size_t(i)] = float(h1[size_t(i)] / (1.0 + std::exp(-double(h1[size_t(i)]))) *
                                          h3[size_t(i)]);
                matmul(tmp.data(), h1.data(), &w2[size_t(l) * dim * hidden], hidden, dim);
                for (int i = 0; i < dim; ++i) x[size_t(i)] += tmp[size_t(i)];
            }
            rmsnorm(xb.data(), x.data(), rms_final.data(), dim);
            std::vector<float> logits(static_cast<size_t>(vocab));
            matmul(logits.data(), xb.data(), emb.data(), dim, vocab);
            all.push_back(std::move(logits));
        }
        return all;
    }
};

double max_abs_diff(const ps::MatrixRM& a, const ps::MatrixRM& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return INFINITY;
    return double((a - b).cwiseAbs().maxCoeff());
}

const std::vector<int> kPrompt{1,   317, 269, 368, 302, 382, 276, 329,
                               356, 374, 419, 426, 342, 397, 355, 267};

}  // namespace

class TestForward : public QObject {
    Q_OBJECT

  private slots:
    void matches_naive_scalar_llama() {
        PS_REQUIRE_SHARED(path, "models/stories260K/stories260K.bin");
        auto model = ps::load_model(path);
        ps::Trace trace = ps::forward(*model, kPrompt);
        NaiveLlama naive(path);
        auto expected = naive.run(kPrompt);
        double max_diff = 0;
        for (size_t t = 0; t < kPrompt.size(); ++t)
            for (int v = 0; v < naive.vocab; ++v)
                max_diff = std::max(max_diff, std::abs(double(trace.logits(Eigen::Index(t), v)) -
                                                       expected[t][size_t(v)]));
        qInfo("max |eigen - naive| = %.3g", max_diff);
        QVERIFY(max_diff <= 1e-4);
    }

    void trace_is_consistent() {
        PS_REQUIRE_SHARED(path, "models/stories260K/stories260K.bin");
        auto model = ps::load_model(path);
        const ps::Config& c = model->config;
        ps::Trace trace = ps::forward(*model, kPrompt);
        const Eigen::Index T = Eigen::Index(kPrompt.size());
        QCOMPARE(trace.layers.size(), size_t(c.n_layers));
        QCOMPARE(max_abs_diff(trace.embed, trace.layers[0].resid_pre), 0.0);
        for (int l = 0; l < c.n_layers; ++l) {
            const ps::LayerTrace& lt = trace.layers[size_t(l)];
            ps::MatrixRM sum = lt.resid_pre + lt.attn_out + lt.mlp_out;
            QVERIFY(max_abs_diff(sum, lt.resid_post) < 1e-5);
            if (l + 1 < c.n_layers)
                QCOMPARE(max_abs_diff(lt.resid_post, trace.layers[size_t(l) + 1].resid_pre), 0.0);
            QCOMPARE(lt.pattern.rows(), Eigen::Index(c.n_heads) * T);
            QCOMPARE(lt.mlp_post.cols(), Eigen::Index(c.hidden_dim));
            for (int h = 0; h < c.n_heads; ++h) {
                auto p = lt.head_pattern(h);
                for (Eigen::Index q = 0; q < T; ++q) {
                    QVERIFY(std::abs(p.row(q).sum() - 1.0f) < 1e-5f);
                    for (Eigen::Index k = q + 1; k < T; ++k)
                        QCOMPARE(p(q, k), 0.0f);  // causal mask
                }
            }
        }
        // The logit lens of the last layer's residual is the model's output.
        for (Eigen::Index t = 0; t < T; ++t) {
            ps::MatrixRM resid = trace.layers.back().resid_post.row(t);
            std::vector<float> lens = ps::logit_lens(*model, resid.data());
            for (int v = 0; v < c.vocab_size; ++v)
                QVERIFY(std::abs(lens[size_t(v)] - trace.logits(t, v)) < 1e-5f);
        }
        // Without all_logits only the last row is computed, and it is the same (up to the
        // summation order of a matrix-vector instead of a matrix-matrix product: logits are ~10,
        // float spacing there is ~1e-6).
        ps::TraceOptions last_only = ps::TraceOptions::none();
        ps::Trace bare = ps::forward(*model, kPrompt, last_only);
        QCOMPARE(bare.logits.rows(), Eigen::Index(1));
        QVERIFY(bare.layers[0].pattern.size() == 0 && bare.embed.size() == 0);
        QVERIFY(max_abs_diff(bare.logits, trace.logits.bottomRows(1)) < 1e-5);
        // Hook names follow TransformerLens.
        std::vector<std::string> names;
        for (const auto& a : ps::named_activations(trace)) names.push_back(a.name);
        for (const char* n :
             {"hook_embed", "blocks.0.hook_resid_pre", "blocks.0.attn.hook_pattern",
              "blocks.0.hook_attn_out", "blocks.0.mlp.hook_post", "blocks.4.hook_mlp_out",
              "blocks.4.hook_resid_post", "ln_final.hook_normalized", "logits"})
            QVERIFY2(std::find(names.begin(), names.end(), n) != names.end(), n);
    }

    void rejects_bad_prompts() {
        PS_REQUIRE_SHARED(path, "models/stories260K/stories260K.bin");
        auto model = ps::load_model(path);
        auto message = [&](const std::vector<int>& ids) {
            try {
                ps::forward(*model, ids);
            } catch (const ps::Error& e) {
                return std::string(e.what());
            }
            return std::string("no error");
        };
        QVERIFY(message({}).find("empty") != std::string::npos);
        QVERIFY(message({1, 512}).find("token id 512 at position 1 is outside the vocabulary") !=
                std::string::npos);
        QVERIFY(message({-1}).find("outside the vocabulary") != std::string::npos);
        QVERIFY(message(std::vector<int>(513, 1)).find("context window is 512") !=
                std::string::npos);
    }
};

QTEST_APPLESS_MAIN(TestForward)
#include "test_forward.moc"
