// The Eigen forward pass against a deliberately naive scalar llama (plain loops over the raw
// llama2.c file, one token at a time with a key/value cache, as run.c does), and the trace's
// internal consistency: every hook agrees with the others and with the logits.
#include <QtTest>
#include <array>
#include <cmath>
#include <fstream>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "core/model/random_model.h"
#include "core/tensor/gemm.h"
#include "core/tensor/memory_budget.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

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
            QCOMPARE(lt.heads, c.n_heads);
            QCOMPARE(lt.pattern.rows(), Eigen::Index(T));
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
                QVERIFY(std::abs(lens[size_t(v)] - trace.logits(t, v)) <= 1e-4f);
        }
        // Without all_logits only the last row is computed, and it is the same (up to the
        // summation order of a matrix-vector instead of a matrix-matrix product: logits are ~10,
        // float spacing there is ~1e-6, and how many ulps the order costs depends on the CPU's
        // vector width, so the bound is the project's 1e-4 on logits).
        ps::TraceOptions last_only = ps::TraceOptions::none();
        ps::Trace bare = ps::forward(*model, kPrompt, last_only);
        QCOMPARE(bare.logits.rows(), Eigen::Index(1));
        QVERIFY(bare.layers[0].pattern.size() == 0 && bare.embed.size() == 0);
        QVERIFY(max_abs_diff(bare.logits, trace.logits.bottomRows(1)) <= 1e-4);
        // Hook names follow TransformerLens.
        std::vector<std::string> names;
        for (const auto& a : ps::named_activations(trace)) names.push_back(a.name);
        for (const char* n :
             {"hook_embed", "blocks.0.hook_resid_pre", "blocks.0.attn.hook_pattern",
              "blocks.0.hook_attn_out", "blocks.0.mlp.hook_post", "blocks.4.hook_mlp_out",
              "blocks.4.hook_resid_post", "ln_final.hook_normalized", "logits"})
            QVERIFY2(std::find(names.begin(), names.end(), n) != names.end(), n);
    }

    // A trace reused for a longer prompt gives the same activations as a pass over all of it,
    // for llama (rotary positions continue at the cached length) and GPT-2 (learned positions,
    // fused q/k/v), whether one token or several are new, or the prompt's end was edited.
    void reuse_matches_full_pass_data() {
        QTest::addColumn<QString>("which");
        QTest::newRow("stories260K llama") << "stories260K";
        QTest::newRow("gpt2-tiny random") << "gpt2-tiny";
    }
    void reuse_matches_full_pass() {
        QFETCH(QString, which);
        std::unique_ptr<ps::Model> model;
        if (which == "stories260K") {
            PS_REQUIRE_SHARED(path, "models/stories260K/stories260K.bin");
            model = ps::load_model(path);
        } else {
            model = ps::make_random_model("gpt2-tiny");
        }
        std::vector<int> ids;
        for (int i = 0; i < 40; ++i) ids.push_back((i * 37 + 11) % model->config.vocab_size);
        const ps::Trace full = ps::forward(*model, ids);
        auto prefix = [&](size_t n) { return std::vector<int>(ids.begin(), ids.begin() + n); };
        auto same_as_full = [&](const ps::Trace& t, const char* what) {
            const auto a = ps::named_activations(t), b = ps::named_activations(full);
            QCOMPARE(a.size(), b.size());
            double worst = 0;
            for (size_t i = 0; i < a.size(); ++i) {
                QCOMPARE(a[i].name, b[i].name);
                QCOMPARE(a[i].shape, b[i].shape);
                int64_t n = 1;
                for (int64_t d : a[i].shape) n *= d;
                for (int64_t j = 0; j < n; ++j)
                    worst = std::max(worst, std::abs(double(a[i].data[j]) - b[i].data[j]));
            }
            qInfo("%s: max |reused - full| over every activation = %.3g", what, worst);
            QVERIFY2(worst <= 1e-4, what);
        };

        // Append one token.
        const ps::Trace base = ps::forward(*model, prefix(ids.size() - 1));
        QCOMPARE(ps::reusable_prefix(*model, &base, ids, ps::TraceOptions()), int(ids.size()) - 1);
        same_as_full(ps::forward(*model, ids, ps::TraceOptions(), &base), "append one");
        // Append several, from a short start.
        const ps::Trace start = ps::forward(*model, prefix(7));
        same_as_full(ps::forward(*model, ids, ps::TraceOptions(), &start), "append 33");
        // Grow one token at a time, each pass reusing the one before.
        ps::Trace grown = ps::forward(*model, prefix(1));
        for (size_t n = 2; n <= ids.size(); ++n)
            grown = ps::forward(*model, prefix(n), ps::TraceOptions(), &grown);
        same_as_full(grown, "grown one by one");
        // An edit at position 30: only the common prefix (30 positions) is reused.
        std::vector<int> edited = ids;
        edited[30] = (edited[30] + 1) % model->config.vocab_size;
        const ps::Trace other = ps::forward(*model, edited);
        QCOMPARE(ps::reusable_prefix(*model, &other, ids, ps::TraceOptions()), 30);
        same_as_full(ps::forward(*model, ids, ps::TraceOptions(), &other), "after an edit");
        // The same prompt again: all but the last position are reused.
        QCOMPARE(ps::reusable_prefix(*model, &full, ids, ps::TraceOptions()), int(ids.size()) - 1);
        // A trace without the key/value cache, or without what is asked for, is not reused.
        const ps::Trace bare = ps::forward(*model, prefix(20), ps::TraceOptions::none());
        QCOMPARE(ps::reusable_prefix(*model, &bare, ids, ps::TraceOptions::none()), 0);
        ps::TraceOptions cache_only = ps::TraceOptions::none();
        cache_only.keys_values = true;
        const ps::Trace cached = ps::forward(*model, prefix(20), cache_only);
        QCOMPARE(ps::reusable_prefix(*model, &cached, ids, cache_only), 20);
        QCOMPARE(ps::reusable_prefix(*model, &cached, ids, ps::TraceOptions()), 0);
        // Key and value hooks are named as TransformerLens names them.
        const std::string k_name = model->config.arch == ps::Arch::Llama
                                       ? "blocks.0.attn.hook_rot_k"
                                       : "blocks.0.attn.hook_k";
        bool found = false;
        for (const auto& a : ps::named_activations(full))
            if (a.name == k_name) {
                found = true;
                QCOMPARE(a.shape,
                         (std::vector<int64_t>{int64_t(ids.size()), model->config.n_kv_heads,
                                               model->config.head_dim()}));
            }
        QVERIFY2(found, k_name.c_str());
    }

    // Both matrix-multiply kernels agree with plain loops, in both weight layouts, on sizes that
    // are not multiples of any vector width and with row strides wider than the rows, on 1 and 2
    // threads; for a block of positions and for a single one (an appended token: a
    // matrix-vector product, which goes to Eigen's gemv).
    void gemm_kernels_match_loops() {
        for (const auto& [m, n, k] : {std::array{37, 301, 129}, std::array{1, 2051, 129}}) {
            const int lda = k + 2, ldb_t = k + 4, ldb = n + 6, ldc = n + 4;
            std::vector<float> a(size_t(m) * lda), bt(size_t(n) * ldb_t), b(size_t(k) * ldb);
            for (size_t i = 0; i < a.size(); ++i) a[i] = std::sin(0.37f * float(i));
            for (size_t i = 0; i < bt.size(); ++i) bt[i] = std::cos(0.11f * float(i));
            for (int i = 0; i < k; ++i)
                for (int j = 0; j < n; ++j) b[size_t(i) * ldb + j] = bt[size_t(j) * ldb_t + i];
            std::vector<double> expected(size_t(m) * n, 0.0);
            for (int i = 0; i < m; ++i)
                for (int j = 0; j < n; ++j)
                    for (int p = 0; p < k; ++p)
                        expected[size_t(i) * n + j] +=
                            double(a[size_t(i) * lda + p]) * bt[size_t(j) * ldb_t + p];
            for (ps::GemmKernel kernel : {ps::GemmKernel::Eigen, ps::GemmKernel::OneDnn}) {
                if (!ps::gemm_kernel_available(kernel)) continue;
                ps::set_gemm_kernel(kernel);
                for (bool transposed : {true, false})
                    for (int threads : {1, 2}) {
                        std::vector<float> c(size_t(m) * ldc, -7.0f);
                        ps::gemm(c.data(), ldc, a.data(), lda, transposed ? bt.data() : b.data(),
                                 transposed ? ldb_t : ldb, m, n, k, transposed, threads);
                        double worst = 0;
                        for (int i = 0; i < m; ++i)
                            for (int j = 0; j < n; ++j)
                                worst = std::max(worst, std::abs(c[size_t(i) * ldc + j] -
                                                                 expected[size_t(i) * n + j]));
                        QVERIFY2(worst < 1e-4,
                                 qPrintable(QString::fromStdString(ps::gemm_kernel_name(kernel))));
                        QCOMPARE(c[size_t(n)], -7.0f);  // the stride's padding is left alone
                    }
            }
        }
        ps::set_gemm_kernel(ps::GemmKernel::OneDnn);  // the shipped default
    }

    // The pass agrees with the naive llama whichever kernel runs it.
    void both_kernels_match_naive() {
        PS_REQUIRE_SHARED(path, "models/stories260K/stories260K.bin");
        QVERIFY2(ps::gemm_kernel_available(ps::GemmKernel::OneDnn),
                 "the shipped build runs big products on oneDNN");
        auto model = ps::load_model(path);
        const auto expected = NaiveLlama(path).run(kPrompt);
        for (ps::GemmKernel kernel : {ps::GemmKernel::Eigen, ps::GemmKernel::OneDnn}) {
            ps::set_gemm_kernel(kernel);
            const ps::Trace trace = ps::forward(*model, kPrompt);
            double worst = 0;
            for (size_t t = 0; t < kPrompt.size(); ++t)
                for (int v = 0; v < model->config.vocab_size; ++v)
                    worst = std::max(worst, std::abs(double(trace.logits(Eigen::Index(t), v)) -
                                                     expected[t][size_t(v)]));
            qInfo("%s: max |logits - naive| = %.3g", ps::gemm_kernel_name(kernel).c_str(), worst);
            QVERIFY(worst <= 1e-4);
        }
        ps::set_gemm_kernel(ps::GemmKernel::OneDnn);
    }

    // The FLOP count: GPT-2 124M over 128 tokens with every position's logits is the 32.2 GFLOP
    // the performance issue's reference figures were measured on.
    void counts_forward_flops() {
        const ps::Config c = ps::random_model_config("gpt2-124m");
        QCOMPARE(std::round(ps::forward_flops(c, 128, true) / 1e8) / 10, 32.2);
        // One appended token after 127 cached: every weight once plus the unembedding.
        const double append = ps::forward_flops(c, 1, false, 127);
        QVERIFY(append > 2.0 * 124e6 * 0.95 && append < 2.0 * 124e6 * 1.05);
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

    // The trace's size is checked before anything is allocated: the attention patterns alone
    // grow with the square of the prompt (GPT-2 124M, 1024 tokens: 12 layers x 12 heads x 1024^2
    // floats = 576 MiB).
    void refuses_a_trace_that_does_not_fit() {
        const ps::Config big = ps::random_model_config("gpt2-124m");
        const ps::TraceOptions full;
        QVERIFY(ps::forward_bytes(big, 1024, full) > 576ull << 20);
        auto no_patterns = full;
        no_patterns.attention = false;
        QCOMPARE(ps::forward_bytes(big, 1024, full) - ps::forward_bytes(big, 1024, no_patterns),
                 4ull * 12 * 12 * 1024 * 1024);

        PS_REQUIRE_SHARED(path, "models/stories260K/stories260K.bin");
        auto model = ps::load_model(path);
        const std::vector<int> ids(200, 1);
        const uint64_t needed = ps::forward_bytes(model->config, 200, full);
        struct Unlimit {
            ~Unlimit() { ps::set_memory_limit(0); }
        } unlimit;
        ps::set_memory_limit(needed - 1);
        try {
            ps::forward(*model, ids, full);
            QFAIL("a trace bigger than the memory limit was allocated");
        } catch (const ps::Error& e) {
            const std::string m = e.what();
            QVERIFY2(m.find(path) != std::string::npos &&
                         m.find("forward pass over 200 tokens") != std::string::npos &&
                         m.find("MB of memory but only") != std::string::npos,
                     e.what());
        }
        // Exactly enough: it runs, and a smaller trace runs under the same limit.
        ps::set_memory_limit(needed);
        QCOMPARE(ps::forward(*model, ids, full).layers.size(), size_t(model->config.n_layers));
        ps::set_memory_limit(needed - 1);
        QCOMPARE(ps::forward(*model, ids, ps::TraceOptions::none()).logits.cols(),
                 Eigen::Index(model->config.vocab_size));
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestForward)
#include "test_forward.moc"
