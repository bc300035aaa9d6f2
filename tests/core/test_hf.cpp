// Hugging Face directories give the same numbers as the other formats:
//  - stories260K re-written as an HF Llama directory (q/k rows permuted exactly as
//    transformers' convert_llama_weights_to_hf.py does) matches the llama2.c checkpoint;
//  - a small random GPT-2 written as an HF directory and as a GGUF `gpt2` file gives the same
//    logits from both, and both match a deliberately naive scalar GPT-2 written here.
#include <QTemporaryDir>
#include <QtTest>
#include <bit>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/compact_weights.h"
#include "core/model/forward.h"
#include "core/tensor/half.h"
#include "tests/support/gguf_writer.h"
#include "tests/support/hf_writer.h"
#include "tests/support/random_gpt2.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

namespace fs = std::filesystem;
using ps::test::HfTensor;
using json = nlohmann::json;

namespace {

std::vector<float> copy_of(const float* p, int64_t n) {
    return std::vector<float>(p, p + n);
}

// transformers' permute(w, n_heads, dim1, dim2) for q/k:
// w.view(n_heads, dim1 / n_heads / 2, 2, dim2).transpose(1, 2).reshape(dim1, dim2),
// i.e. within each head, row 2i+j moves to row j*(head_dim/2) + i.
std::vector<float> permute_rows(const std::vector<float>& w, int n_heads, int dim1, int dim2) {
    const int half = dim1 / n_heads / 2;
    std::vector<float> out(w.size());
    for (int h = 0; h < n_heads; ++h)
        for (int i = 0; i < half; ++i)
            for (int j = 0; j < 2; ++j) {
                const int from = h * 2 * half + 2 * i + j, to = h * 2 * half + j * half + i;
                std::copy_n(&w[size_t(from) * dim2], dim2, &out[size_t(to) * dim2]);
            }
    return out;
}

double max_abs_diff(const ps::MatrixRM& a, const ps::MatrixRM& b) {
    if (a.rows() != b.rows() || a.cols() != b.cols()) return INFINITY;
    return double((a - b).cwiseAbs().maxCoeff());
}

// Every tensor's name, shape and values, bit for bit.
bool same_values(const std::vector<HfTensor>& a, const std::vector<HfTensor>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if (a[i].name != b[i].name || a[i].shape != b[i].shape ||
            a[i].values.size() != b[i].values.size() ||
            std::memcmp(a[i].values.data(), b[i].values.data(), a[i].values.size() * 4) != 0)
            return false;
    return true;
}

// Every weight of two Llama models, read through the accessors the forward pass uses (so a
// compact F16 model is dequantized exactly as the kernels see it), bit for bit.
bool same_llama_weights(const ps::Model& a, const ps::Model& b) {
    const auto same_linear = [](const ps::Linear& x, const ps::Linear& y) {
        if (x.in != y.in || x.out != y.out) return false;
        for (int o = 0; o < x.out; ++o)
            for (int i = 0; i < x.in; ++i)
                if (std::bit_cast<uint32_t>(ps::linear_weight(x, o, i)) !=
                    std::bit_cast<uint32_t>(ps::linear_weight(y, o, i)))
                    return false;
        return true;
    };
    const ps::Config& c = a.config;
    std::vector<float> ra(size_t(c.dim)), rb(size_t(c.dim));
    for (int token = 0; token < c.vocab_size; ++token) {
        ps::token_embedding_row(a.weights, c.dim, token, ra.data());
        ps::token_embedding_row(b.weights, c.dim, token, rb.data());
        if (std::memcmp(ra.data(), rb.data(), ra.size() * 4) != 0) return false;
    }
    for (size_t l = 0; l < a.weights.layers.size(); ++l) {
        const ps::LayerWeights& x = a.weights.layers[l];
        const ps::LayerWeights& y = b.weights.layers[l];
        if (!same_linear(x.wq, y.wq) || !same_linear(x.wk, y.wk) || !same_linear(x.wv, y.wv) ||
            !same_linear(x.wo, y.wo) || !same_linear(x.ffn_gate, y.ffn_gate) ||
            !same_linear(x.ffn_up, y.ffn_up) || !same_linear(x.ffn_down, y.ffn_down) ||
            std::memcmp(x.attn_norm, y.attn_norm, size_t(c.dim) * 4) != 0 ||
            std::memcmp(x.ffn_norm, y.ffn_norm, size_t(c.dim) * 4) != 0)
            return false;
    }
    return std::memcmp(a.weights.final_norm, b.weights.final_norm, size_t(c.dim) * 4) == 0 &&
           same_linear(a.weights.unembed, b.weights.unembed);
}

// tok512.bin: int32 max_len, then per token {f32 score, int32 len, bytes}.
void read_llama2c_vocab(const std::string& path, int n, std::vector<std::string>& pieces,
                        std::vector<float>& scores) {
    std::ifstream in(path, std::ios::binary);
    int32_t max_len;
    in.read(reinterpret_cast<char*>(&max_len), 4);
    for (int i = 0; i < n; ++i) {
        float score;
        int32_t len;
        in.read(reinterpret_cast<char*>(&score), 4);
        in.read(reinterpret_cast<char*>(&len), 4);
        std::string s(size_t(len), '\0');
        in.read(s.data(), len);
        scores.push_back(score);
        pieces.push_back(s);
    }
    QVERIFY(in.good());
}

// The stories260K weights under HF Llama names; q and k permuted for rotate-half RoPE.
std::vector<HfTensor> llama_tensors_from(const ps::Model& m) {
    const ps::Config& c = m.config;
    const int d = c.dim, kv = c.kv_dim(), hid = c.hidden_dim;
    std::vector<HfTensor> t;
    t.push_back({"model.embed_tokens.weight",
                 {c.vocab_size, d},
                 copy_of(m.weights.token_embedding, int64_t(c.vocab_size) * d)});
    for (int l = 0; l < c.n_layers; ++l) {
        const ps::LayerWeights& L = m.weights.layers[size_t(l)];
        const std::string p = "model.layers." + std::to_string(l) + ".";
        t.push_back({p + "input_layernorm.weight", {d}, copy_of(L.attn_norm, d)});
        t.push_back({p + "self_attn.q_proj.weight",
                     {d, d},
                     permute_rows(copy_of(L.wq.w, d * d), c.n_heads, d, d)});
        t.push_back({p + "self_attn.k_proj.weight",
                     {kv, d},
                     permute_rows(copy_of(L.wk.w, kv * d), c.n_kv_heads, kv, d)});
        t.push_back({p + "self_attn.v_proj.weight", {kv, d}, copy_of(L.wv.w, kv * d)});
        t.push_back({p + "self_attn.o_proj.weight", {d, d}, copy_of(L.wo.w, d * d)});
        t.push_back({p + "post_attention_layernorm.weight", {d}, copy_of(L.ffn_norm, d)});
        t.push_back({p + "mlp.gate_proj.weight", {hid, d}, copy_of(L.ffn_gate.w, hid * d)});
        t.push_back({p + "mlp.up_proj.weight", {hid, d}, copy_of(L.ffn_up.w, hid * d)});
        t.push_back({p + "mlp.down_proj.weight", {d, hid}, copy_of(L.ffn_down.w, d * hid)});
    }
    t.push_back({"model.norm.weight", {d}, copy_of(m.weights.final_norm, d)});
    return t;
}

json llama_config(const ps::Config& c) {
    return {{"architectures", {"LlamaForCausalLM"}},
            {"model_type", "llama"},
            {"hidden_size", c.dim},
            {"intermediate_size", c.hidden_dim},
            {"num_hidden_layers", c.n_layers},
            {"num_attention_heads", c.n_heads},
            {"num_key_value_heads", c.n_kv_heads},
            {"max_position_embeddings", c.context_length},
            {"rms_norm_eps", 1e-5},
            {"rope_theta", 10000.0},
            {"vocab_size", c.vocab_size},
            {"hidden_act", "silu"},
            {"tie_word_embeddings", true},
            {"rope_scaling", nullptr},
            {"torch_dtype", "float32"}};
}

}  // namespace

class TestHf : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    std::string dir(const std::string& name) const {
        return (fs::path(tmp_.path().toStdString()) / name).string();
    }

    // GPT-2's real vocabulary (tokens by id, merges) from the HF files in ../shared.
    std::vector<std::string> gpt2_tokens_, gpt2_merges_;
    std::string gpt2_hf_dir_, gpt2_tok_dir_;

  private slots:
    void initTestCase() {
        QVERIFY(tmp_.isValid());
        ps::set_threads(1);
    }

    void stories260k_as_hf_llama_matches_llama2c() {
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        PS_REQUIRE_SHARED(tok, "models/stories260K/tok512.bin");
        auto ref = ps::load_model(bin);
        const ps::Config& c = ref->config;
        QCOMPARE(c.n_kv_heads * 2, c.n_heads);  // grouped-query attention: k permuted per kv head

        std::vector<std::string> pieces;
        std::vector<float> scores;
        read_llama2c_vocab(tok, c.vocab_size, pieces, scores);
        // HF pieces: "▁" for a space, plain names for the control tokens.
        for (std::string& p : pieces)
            for (size_t at; (at = p.find(' ')) != std::string::npos;) p.replace(at, 1, "\u2581");
        pieces[0] = "<unk>", pieces[1] = "<s>", pieces[2] = "</s>";

        const std::string hf = dir("stories260K-hf");
        ps::test::write_hf_model(hf, llama_config(c), llama_tensors_from(*ref));
        ps::test::write_llama_tokenizer_json(hf, pieces, scores);
        auto model = ps::load_model(hf);
        QCOMPARE(model->format, std::string("hf"));
        QCOMPARE(model->name, std::string("stories260K-hf"));
        QVERIFY(model->config.rope_style == ps::RopeStyle::Half);
        QVERIFY(model->config.tied_embeddings);
        QCOMPARE(model->tensors.size(), size_t(2 + 9 * c.n_layers));
        QCOMPARE(model->totals().total(), ref->totals().total());
        // f32 weights are used in place from the mapping, not copied.
        QVERIFY(model->owned.empty());

        // The tokenizers agree too.
        const std::string text = "Once upon a time, Lily met a big dog. \xE2\x9C\x93 Zq!";
        QCOMPARE(model->tokenizer->encode(text), ref->tokenizer->encode(text));

        // Logits at all 64 positions of the greedy reference run. Each line of the run.c
        // reference: the input id, then its 512 next-token logits.
        std::vector<int> ids;
        ps::MatrixRM run_c(64, c.vocab_size);
        {
            PS_REQUIRE_SHARED(logits_file,
                              "reference/stories260K_logits_greedy64_once_upon_a_time.txt");
            std::ifstream in(logits_file);
            for (std::string line; ids.size() < 64 && std::getline(in, line);) {
                std::istringstream row(line);
                int id = -1;
                row >> id;
                for (int v = 0; v < c.vocab_size; ++v) row >> run_c(Eigen::Index(ids.size()), v);
                QVERIFY(!row.fail());
                ids.push_back(id);
            }
        }
        QCOMPARE(ids.size(), size_t(64));
        auto all = ps::TraceOptions::none();
        all.all_logits = true;
        const ps::MatrixRM want = ps::forward(*ref, ids, all).logits;
        const ps::MatrixRM got = ps::forward(*model, ids, all).logits;
        const double diff = max_abs_diff(got, want);
        qInfo("stories260K HF (F32) vs llama2.c: max |dlogit| = %.3g", diff);
        QVERIFY2(diff <= 1e-4, qPrintable(QString::number(diff)));
        const double vs_run_c = max_abs_diff(got, run_c);
        qInfo("stories260K HF (F32) vs run.c reference: max |dlogit| = %.3g", vs_run_c);
        QVERIFY2(vs_run_c <= 1e-4, qPrintable(QString::number(vs_run_c)));

        // The same weights in three shards.
        const std::string sharded = dir("stories260K-sharded");
        ps::test::write_hf_model(sharded, llama_config(c), llama_tensors_from(*ref), "F32", 3);
        ps::test::write_llama_tokenizer_json(sharded, pieces, scores);
        auto shards = ps::load_model(sharded);
        QCOMPARE(shards->files.size(), size_t(3));
        // The loader must give bit-identical weights; the logits then only differ by how the
        // kernels round for different buffer alignments, so they meet the usual bound.
        QVERIFY(same_values(llama_tensors_from(*shards), llama_tensors_from(*model)));
        QVERIFY(max_abs_diff(ps::forward(*shards, ids, all).logits, want) <= 1e-4);

        // F16: the loader must give exactly the f16-rounded weights, so it matches an F32
        // directory holding those rounded values to float precision ...
        std::vector<HfTensor> rounded = llama_tensors_from(*ref);
        for (HfTensor& t : rounded)
            for (float& v : t.values) v = ps::f16_to_f32(ps::f32_to_f16(v));
        const std::string f16 = dir("stories260K-f16"), f16ref = dir("stories260K-f16-as-f32");
        ps::test::write_hf_model(f16, llama_config(c), llama_tensors_from(*ref), "F16");
        ps::test::write_hf_model(f16ref, llama_config(c), rounded, "F32");
        ps::test::write_llama_tokenizer_json(f16, pieces, scores);
        ps::test::write_llama_tokenizer_json(f16ref, pieces, scores);
        ps::LoadOptions widen;  // values compared as f32 (kept as stored: test_compact_weights)
        widen.f32_weights = true;
        auto half = ps::load_model(f16, widen);
        QVERIFY(half->tensors[0].dtype == ps::DType::F16);
        QVERIFY(
            same_values(llama_tensors_from(*half), llama_tensors_from(*ps::load_model(f16ref))));
        const ps::MatrixRM half_logits = ps::forward(*half, ids, all).logits;
        // ... and stays close to the f32 model: rounding each weight by up to 2^-11 relative
        // (~0.05%) moves logits of magnitude ~10 by a few 1e-3 through 5 layers; 0.05 is a
        // bound with a margin, far below the spread between candidate tokens.
        const double half_diff = max_abs_diff(half_logits, want);
        qInfo("stories260K HF (F16) vs llama2.c f32: max |dlogit| = %.3g", half_diff);
        QVERIFY2(half_diff <= 0.05, qPrintable(QString::number(half_diff)));
        // Kept as stored (the default), the F16 weights are the same values, bit for bit; the
        // logits then differ only by the order in which the kernels sum (the compact kernels
        // dequantize panel by panel), which moves float32 sums of ~10 by a few ulps per layer.
        // That is a property of the machine's kernels, not of the model, so the bound is the
        // project's bound on logits, not one CPU's rounding (1.9e-5 was seen on an AMD EPYC).
        auto compact = ps::load_model(f16);
        QVERIFY(compact->has_compact_tensors() && !half->has_compact_tensors());
        QVERIFY(same_llama_weights(*compact, *half));
        const double compact_diff =
            max_abs_diff(ps::forward(*compact, ids, all).logits, half_logits);
        qInfo("stories260K HF (F16) kept as stored vs widened: %.3g", compact_diff);
        QVERIFY2(compact_diff <= 1e-4, qPrintable(QString::number(compact_diff)));
    }

    void gpt2_hf_and_gguf_match_a_naive_gpt2() {
        PS_REQUIRE_SHARED(vocab_json, "tokenizers/gpt2-hf/vocab.json");
        const std::string gpt2_tok = gpt2_tok_dir_ = fs::path(vocab_json).parent_path().string();
        {
            std::ifstream in(vocab_json);
            const json vocab = json::parse(in);
            gpt2_tokens_.assign(vocab.size(), "");
            for (const auto& [piece, id] : vocab.items()) gpt2_tokens_.at(id.get<size_t>()) = piece;
            std::ifstream m(gpt2_tok + "/merges.txt");
            for (std::string line; std::getline(m, line);)
                if (!line.empty() && line.rfind("#version", 0) != 0) gpt2_merges_.push_back(line);
        }
        QCOMPARE(gpt2_tokens_.size(), size_t(50257));

        ps::test::RandomGpt2 g;
        g.vocab = int(gpt2_tokens_.size());
        g.randomize(1234);
        gpt2_hf_dir_ = dir("gpt2-random");
        ps::test::write_hf_model(gpt2_hf_dir_, g.config(), g.hf_tensors("transformer."));
        ps::test::copy_gpt2_tokenizer(gpt2_tok, gpt2_hf_dir_);
        const std::string gguf = dir("gpt2-random.gguf");
        g.write_gguf(gguf, gpt2_tokens_, gpt2_merges_);

        auto hf = ps::load_model(gpt2_hf_dir_);
        auto gg = ps::load_model(gguf);
        QVERIFY(hf->config.arch == ps::Arch::Gpt2 && gg->config.arch == ps::Arch::Gpt2);
        QCOMPARE(hf->config.hidden_dim, 4 * g.d);
        QVERIFY(hf->config.tied_embeddings);
        QVERIFY(hf->weights.layers[0].wq.stored_in_out);  // Conv1D used in place
        QVERIFY(hf->owned.empty());
        // The attn.bias mask buffers are not parameters.
        for (const ps::TensorInfo& t : hf->tensors) {
            const std::string suffix = ".attn.bias";
            QVERIFY(t.name.size() < suffix.size() ||
                    t.name.compare(t.name.size() - suffix.size(), suffix.size(), suffix) != 0);
        }
        QCOMPARE(hf->totals().total(), gg->totals().total());

        std::vector<int> ids = hf->tokenizer->encode("Hello world! The quick brown fox, 12345.");
        QCOMPARE(ids, gg->tokenizer->encode("Hello world! The quick brown fox, 12345."));
        for (int extra : {50256, 0, 31373, 50000, 198}) ids.push_back(extra);
        QVERIFY(ids.size() >= 12 && int(ids.size()) <= g.ctx);

        auto all = ps::TraceOptions::none();
        all.all_logits = true;
        const ps::MatrixRM a = ps::forward(*hf, ids, all).logits;
        const ps::MatrixRM b = ps::forward(*gg, ids, all).logits;
        const ps::MatrixRM naive = g.naive_logits(ids);
        const double hf_gguf = max_abs_diff(a, b), hf_naive = max_abs_diff(a, naive);
        qInfo("GPT-2 HF vs GGUF %.3g, HF vs naive %.3g (logit range %.3g..%.3g)", hf_gguf, hf_naive,
              double(naive.minCoeff()), double(naive.maxCoeff()));
        QVERIFY(naive.maxCoeff() - naive.minCoeff() > 5);  // logits that can tell tokens apart
        // Both files hold the same f32 values; the logits differ only by summation order.
        QVERIFY2(hf_gguf <= 1e-4, qPrintable(QString::number(hf_gguf)));
        QVERIFY2(hf_naive <= 1e-4, qPrintable(QString::number(hf_naive)));
        QVERIFY2(max_abs_diff(b, naive) <= 1e-4, "GGUF vs naive");
    }

    // No "transformer." prefix, an untied lm_head, and F16 / BF16 storage: the naive model
    // computes with the same rounded weights, so the bound stays 1e-4.
    void gpt2_variants_untied_and_half_precision() {
        if (gpt2_tokens_.empty()) QSKIP("needs the GPT-2 vocabulary (previous test)");
        for (const std::string dtype : {"F16", "BF16"}) {
            ps::test::RandomGpt2 g;
            g.vocab = int(gpt2_tokens_.size());
            g.randomize(99);
            g.lm_head.resize(g.wte.size());  // a permutation of wte: same scale, different rows
            for (size_t i = 0; i < g.lm_head.size(); ++i)
                g.lm_head[i] = g.wte[(i * 7919) % g.wte.size()];
            const std::string out = dir("gpt2-" + dtype);
            ps::test::write_hf_model(out, g.config(), g.hf_tensors(""), dtype);
            ps::test::copy_gpt2_tokenizer(gpt2_tok_dir_, out);
            g.round_to(dtype);
            auto m = ps::load_model(out);
            QVERIFY(!m->config.tied_embeddings);
            QVERIFY(m->weights.unembed.raw && m->weights.token_embedding_raw);  // kept as stored
            QVERIFY(m->weights.unembed.raw != m->weights.token_embedding_raw);
            const std::vector<int> ids = {464, 2068, 7586, 21831, 50256, 11, 17, 198, 3};
            auto all = ps::TraceOptions::none();
            all.all_logits = true;
            const double diff = max_abs_diff(ps::forward(*m, ids, all).logits, g.naive_logits(ids));
            qInfo("GPT-2 %s untied vs naive: %.3g", dtype.c_str(), diff);
            QVERIFY2(diff <= 1e-4,
                     qPrintable(QString::fromStdString(dtype) + ": " + QString::number(diff)));
        }
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestHf)
#include "test_hf.moc"
