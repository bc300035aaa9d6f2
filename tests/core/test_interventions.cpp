// Interventions (core/model/intervention.h) on a random Llama 3 and a random GPT-2: each kind
// against the naive scalar references applying the same change in their own code
// (tests/support/naive_hooks.h); the identities an ablation and a patch must satisfy; the
// key/value-cache path; forward_from; head importance; and the errors of bad specs.
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "core/analysis/importance.h"
#include "core/analysis/sweep.h"
#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "core/model/intervention.h"
#include "core/model/weight_edit.h"
#include "tests/support/decoder_fixtures.h"
#include "tests/support/expect_error.h"
#include "tests/support/random_gpt2.h"
#include "tests/support/suite.h"
#include "tests/support/tiny_fixtures.h"

using ps::test::NaiveRows;

namespace {

// The largest difference of two [T, vocab] logit tables, relative to the largest |logit| of b.
double relative(const Eigen::Ref<const ps::MatrixRM>& a, const Eigen::Ref<const ps::MatrixRM>& b) {
    return (a - b).cwiseAbs().maxCoeff() / b.cwiseAbs().maxCoeff();
}

ps::MatrixRM as_matrix(const std::vector<double>& v, int vocab) {
    ps::MatrixRM m(Eigen::Index(v.size() / size_t(vocab)), vocab);
    for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = float(v[size_t(i)]);
    return m;
}

// A naive hook acting at one hook of one layer.
ps::test::NaiveHook at(const std::string& hook, int layer, std::function<void(NaiveRows&)> f) {
    return [=](const std::string& h, int l, NaiveRows& x) {
        if (h == hook && l == layer) f(x);
    };
}

}  // namespace

class TestInterventions : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    ps::test::DecoderSpec spec_;
    ps::test::HfWeights w_;
    ps::test::RandomGpt2 g_;
    std::unique_ptr<ps::Model> llama_, gpt2_;
    const std::vector<int> ids_{1, 40, 77, 12, 200, 9, 33, 150, 61, 5};
    const std::vector<int> other_{1, 88, 3, 120, 7, 54, 201, 16, 99, 42};

    static QByteArray read(const std::string& file) {
        QFile f(QString::fromStdString(file));
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
    std::string path(const std::string& name) const {
        return tmp_.filePath(QString::fromStdString(name)).toStdString();
    }
    ps::MatrixRM llama_naive(const std::vector<int>& ids, const ps::test::NaiveHook& hook) const {
        return as_matrix(ps::test::naive_decoder_logits(spec_, w_, ids, hook),
                         llama_->config.vocab_size);
    }
    ps::MatrixRM gpt2_naive(const std::vector<int>& ids, const ps::test::NaiveHook& hook) const {
        return g_.naive_logits(ids, hook);
    }
    static ps::MatrixRM run(const ps::Model& m, const std::vector<int>& ids,
                            const ps::Interventions& list) {
        return ps::forward(m, ids, ps::TraceOptions(), nullptr, list).logits;
    }

    // The engine with `spec` against the naive pass with `hook`, and the change is real: the
    // logits move by far more than the tolerance.
    void check(const ps::Model& m, const std::string& spec, const ps::test::NaiveHook& hook,
               bool llama, ps::Intervention* filled = nullptr) {
        ps::Intervention iv = filled ? *filled : ps::parse_intervention(spec, m.config);
        const ps::MatrixRM engine = run(m, ids_, {iv});
        const ps::MatrixRM naive = llama ? llama_naive(ids_, hook) : gpt2_naive(ids_, hook);
        const double err = relative(engine, naive);
        const double moved = relative(engine, run(m, ids_, {}));
        qInfo("%s %s: %.2e from the naive pass, logits moved %.2e", llama ? "llama" : "gpt2",
              spec.c_str(), err, moved);
        QVERIFY2(err < 1e-4, qPrintable(QString::fromStdString(spec)));
        QVERIFY2(moved > 1e-3, qPrintable(QString::fromStdString(spec + ": changed nothing")));
    }

    // Every kind of intervention, on one model; `hd` its head width, `hidden` its MLP width.
    void every_kind(const ps::Model& m, bool llama) {
        const int hd = m.config.head_dim();
        check(m, "ablate:blocks.1.attn.hook_z:2",
              at("attn.hook_z", 1,
                 [&](NaiveRows& z) {
                     for (auto& row : z)
                         for (int e = 0; e < hd; ++e) row[size_t(2 * hd + e)] = 0;
                 }),
              llama);
        check(m, "scale:blocks.0.attn.hook_z:1=2.5@6",
              at("attn.hook_z", 0,
                 [&](NaiveRows& z) {
                     for (int e = 0; e < hd; ++e) z[6][size_t(hd + e)] *= 2.5;
                 }),
              llama);
        check(m, "ablate:blocks.0.mlp.hook_post:7@3",
              at("mlp.hook_post", 0, [](NaiveRows& x) { x[3][7] = 0; }), llama);
        check(m, "scale:blocks.1.mlp.hook_post:5=-3",
              at("mlp.hook_post", 1,
                 [](NaiveRows& x) {
                     for (auto& row : x) row[5] *= -3;
                 }),
              llama);
        check(m, "mean-ablate:blocks.1.attn.hook_z:0",
              at("attn.hook_z", 1,
                 [&](NaiveRows& z) {
                     for (int e = 0; e < hd; ++e) {
                         double mean = 0;
                         for (auto& row : z) mean += row[size_t(e)] / double(z.size());
                         for (auto& row : z) row[size_t(e)] = mean;
                     }
                 }),
              llama);
        check(m, "ablate:blocks.0.hook_attn_out@4",
              at("hook_attn_out", 0,
                 [](NaiveRows& x) {
                     for (double& v : x[4]) v = 0;
                 }),
              llama);
        check(m, "mean-ablate:blocks.1.hook_mlp_out",
              at("hook_mlp_out", 1,
                 [](NaiveRows& x) {
                     for (size_t i = 0; i < x[0].size(); ++i) {
                         double mean = 0;
                         for (auto& row : x) mean += row[i] / double(x.size());
                         for (auto& row : x) row[i] = mean;
                     }
                 }),
              llama);
        check(m, "ablate:blocks.0.hook_mlp_out",
              at("hook_mlp_out", 0,
                 [](NaiveRows& x) {
                     for (auto& row : x)
                         for (double& v : row) v = 0;
                 }),
              llama);

        // Patch: the naive source run records the activation, the naive main run pastes it.
        for (const std::string hook : {"hook_resid_pre", "hook_attn_out", "attn.hook_z"}) {
            NaiveRows recorded;
            const int unit_cols = hook == "attn.hook_z" ? hd : 0;
            auto record = at(hook, 1, [&](NaiveRows& x) { recorded = x; });
            (void)(llama ? llama_naive(other_, record) : gpt2_naive(other_, record));
            const std::string spec = "patch:blocks.1." + hook + (unit_cols ? ":3" : "") + "@5";
            ps::Intervention iv = ps::parse_intervention(spec, m.config);
            ps::set_patch_source(m, iv, other_, "other");
            check(m, spec,
                  at(hook, 1,
                     [&](NaiveRows& x) {
                         if (!unit_cols)
                             x[5] = recorded[5];
                         else
                             for (int e = 0; e < hd; ++e)
                                 x[5][size_t(3 * hd + e)] = recorded[5][size_t(3 * hd + e)];
                     }),
                  llama, &iv);
        }

        // Steer: the naive pass adds the engine's direction, which must be resid(+) - resid(-).
        ps::Intervention steer =
            ps::parse_intervention("steer:blocks.1.hook_resid_pre=4@2", m.config);
        const std::vector<int> plus{1, 40, 77}, minus{1, 40, 12};
        ps::set_steering(m, steer, plus, minus, "+ / -");
        NaiveRows rp, rm;
        auto grab = [&](NaiveRows& into) {
            return at("hook_resid_pre", 1, [&](NaiveRows& x) { into = x; });
        };
        (void)(llama ? llama_naive(plus, grab(rp)) : gpt2_naive(plus, grab(rp)));
        (void)(llama ? llama_naive(minus, grab(rm)) : gpt2_naive(minus, grab(rm)));
        double worst = 0;
        for (int i = 0; i < m.config.dim; ++i)
            worst = std::max(
                worst, std::abs((*steer.values)(0, i) - (rp[2][size_t(i)] - rm[2][size_t(i)])));
        QVERIFY2(worst < 1e-4, qPrintable(QString::number(worst)));
        check(m, steer.spec(),
              at("hook_resid_pre", 1,
                 [&](NaiveRows& x) {
                     for (size_t t = 2; t < x.size(); ++t)
                         for (int i = 0; i < m.config.dim; ++i)
                             x[t][size_t(i)] += 4.0 * (*steer.values)(0, i);
                 }),
              llama, &steer);
    }

  private slots:
    void initTestCase() {
        QVERIFY(tmp_.isValid());
        spec_ = ps::test::modern_decoder_specs()[0];
        w_ = ps::test::random_decoder_weights(spec_, ps::test::decoder_vocab_size(), 11);
        ps::test::write_hf_decoder(path("llama"), spec_, w_, "F32");
        llama_ = ps::load_model(path("llama"));
        QVERIFY(llama_->config.n_layers >= 2);

        const ps::BpeVocab v = ps::test::small_bpe_vocab();
        g_.vocab = int(v.pieces.size());
        g_.randomize(5);
        const std::string dir = path("gpt2");
        ps::test::write_hf_model(dir, g_.config(), g_.hf_tensors("transformer."), "F32");
        nlohmann::json vocab = nlohmann::json::object();
        for (size_t i = 0; i < v.pieces.size(); ++i) vocab[v.pieces[i]] = int(i);
        std::ofstream(dir + "/vocab.json") << vocab.dump();
        std::ofstream(dir + "/merges.txt") << "#version: 0.2\n";
        gpt2_ = ps::load_model(dir);
        QCOMPARE(gpt2_->config.arch, ps::Arch::Gpt2);
    }

    void every_kind_matches_the_naive_llama() { every_kind(*llama_, true); }
    void every_kind_matches_the_naive_gpt2() { every_kind(*gpt2_, false); }

    // Zeroing head h's z is zeroing the columns of W_O that read it.
    void ablating_a_head_is_zeroing_its_output_rows() {
        const int l = 1, h = 2, hd = llama_->config.head_dim();
        ps::test::HfWeights w = w_;
        std::vector<float>& o = w.at("model.layers.1.self_attn.o_proj.weight");  // [dim, q_dim]
        const int q_dim = llama_->config.q_dim();
        for (int r = 0; r < llama_->config.dim; ++r)
            for (int e = 0; e < hd; ++e) o[size_t(r * q_dim + h * hd + e)] = 0;
        ps::test::write_hf_decoder(path("llama-zeroed"), spec_, w, "F32");
        const auto zeroed = ps::load_model(path("llama-zeroed"));
        const ps::Intervention iv = ps::parse_intervention(
            "ablate:blocks." + std::to_string(l) + ".attn.hook_z:" + std::to_string(h),
            llama_->config);
        QVERIFY(relative(run(*llama_, ids_, {iv}), run(*zeroed, ids_, {})) < 1e-4);
    }

    void patching_the_same_prompt_changes_nothing() {
        ps::Intervention iv =
            ps::parse_intervention("patch:blocks.0.hook_resid_pre", llama_->config);
        ps::set_patch_source(*llama_, iv, ids_, "same");
        const ps::MatrixRM a = run(*llama_, ids_, {iv}), b = run(*llama_, ids_, {});
        QVERIFY(std::memcmp(a.data(), b.data(), size_t(a.size()) * sizeof(float)) == 0);
    }

    // Every position of the stream into layer 1 from another prompt: from there on the run is
    // the other prompt's.
    void patching_every_position_is_running_the_source_from_there() {
        for (const ps::Model* m : {llama_.get(), gpt2_.get()}) {
            ps::Intervention iv =
                ps::parse_intervention("patch:blocks.1.hook_resid_pre", m->config);
            ps::set_patch_source(*m, iv, other_, "other");
            QVERIFY(relative(run(*m, ids_, {iv}), run(*m, other_, {})) < 1e-4);
            QVERIFY(relative(run(*m, ids_, {}), run(*m, other_, {})) > 1e-2);
        }
    }

    // The cache: a trace with other interventions is reused up to the first position where the
    // lists differ, and the result is the full pass's.
    void the_cache_path_equals_a_full_pass() {
        const ps::Model& m = *llama_;
        const ps::TraceOptions all;
        const ps::Interventions none,
            at7{ps::parse_intervention("ablate:blocks.1.attn.hook_z:1@7", m.config)},
            every{ps::parse_intervention("ablate:blocks.0.mlp.hook_post:3", m.config)},
            mean{ps::parse_intervention("mean-ablate:blocks.0.hook_mlp_out@8", m.config)};
        const ps::Trace plain = ps::forward(m, ids_, all);
        QCOMPARE(ps::reusable_prefix(m, &plain, ids_, all, at7), 7);
        QCOMPARE(ps::reusable_prefix(m, &plain, ids_, all, every), 0);
        QCOMPARE(ps::reusable_prefix(m, &plain, ids_, all, mean), 0);
        QCOMPARE(ps::reusable_prefix(m, &plain, ids_, all, none), int(ids_.size()) - 1);
        for (const ps::Interventions* list : {&at7, &every, &mean}) {
            const ps::Trace reused = ps::forward(m, ids_, all, &plain, *list);
            QVERIFY(relative(reused.logits, run(m, ids_, *list)) < 1e-4);
            QCOMPARE(int(reused.interventions.size()), 1);
        }
        // The same interventions over a shorter prompt: the longer one appends to it.
        const std::vector<int> prefix(ids_.begin(), ids_.begin() + 6);
        const ps::Trace shorter = ps::forward(m, prefix, all, nullptr, every);
        QCOMPARE(ps::reusable_prefix(m, &shorter, ids_, all, every), 6);
        QVERIFY(relative(ps::forward(m, ids_, all, &shorter, every).logits, run(m, ids_, every)) <
                1e-4);
        // Turned off, an intervention is no intervention.
        ps::Interventions off = at7;
        off[0].enabled = false;
        QCOMPARE(ps::reusable_prefix(m, &plain, ids_, all, off), int(ids_.size()) - 1);
    }

    void forward_from_a_layer_equals_the_full_pass() {
        for (const ps::Model* m : {llama_.get(), gpt2_.get()}) {
            ps::TraceOptions stream = ps::TraceOptions::none();
            stream.residual = true;
            const ps::Trace base = ps::forward(*m, ids_, stream);
            const ps::Interventions list{
                ps::parse_intervention("ablate:blocks.1.attn.hook_z:0", m->config)};
            const ps::Trace resumed = ps::forward_from(*m, base, 1, list, ps::TraceOptions());
            QVERIFY(relative(resumed.logits, run(*m, ids_, list)) < 1e-4);
            QVERIFY(resumed.layers[0].resid_pre.shares_buffer_with(base.layers[0].resid_pre));
        }
    }

    void head_importance_is_each_ablation() {
        const ps::Model& m = *gpt2_;
        int calls = 0;
        const ps::HeadImportance hi =
            ps::head_importance(m, ids_, -1, {}, [&](int done, int total) {
                ++calls;
                return done <= total;
            });
        QCOMPARE(calls, m.config.n_layers * m.config.n_heads);
        const ps::MatrixRM plain = run(m, ids_, {});
        Eigen::Index top = 0;
        plain.row(plain.rows() - 1).maxCoeff(&top);
        QCOMPARE(hi.target_id, int(top));
        const int V = m.config.vocab_size;
        QVERIFY(std::abs(hi.baseline_p - ps::probability_of(plain.data() + (plain.rows() - 1) * V,
                                                            V, hi.target_id)) < 1e-6);
        float largest = 0;
        for (int l = 0; l < m.config.n_layers; ++l)
            for (int h = 0; h < m.config.n_heads; ++h) {
                const ps::MatrixRM z =
                    run(m, ids_,
                        {ps::parse_intervention("ablate:blocks." + std::to_string(l) +
                                                    ".attn.hook_z:" + std::to_string(h),
                                                m.config)});
                const double p = ps::probability_of(z.data() + (z.rows() - 1) * V, V, hi.target_id);
                QVERIFY(std::abs(hi.delta[size_t(l)][size_t(h)] - (hi.baseline_p - p)) < 1e-4);
                largest = std::max(largest, std::abs(hi.delta[size_t(l)][size_t(h)]));
            }
        QVERIFY(largest > 1e-3);
        // Cancelled after the third head.
        bool cancelled = false;
        try {
            ps::head_importance(m, ids_, 5, {}, [](int done, int) { return done < 3; });
        } catch (const ps::Cancelled&) {
            cancelled = true;
        }
        QVERIFY(cancelled);
        EXPECT_ERROR(ps::head_importance(m, ids_, V + 3), "target token id",
                     "outside the vocabulary");
    }

    // A sweep's probabilities are one scaled run each; factor 1 is the plain model, and a
    // user intervention on the same unit is replaced by the sweep's factor, not multiplied.
    void a_sweep_is_one_scaled_run_per_factor() {
        const ps::Model& m = *llama_;
        const int V = m.config.vocab_size;
        const std::string unit = "blocks.1.mlp.hook_post:3";
        const ps::Intervention component = ps::parse_intervention("ablate:" + unit, m.config);
        const std::vector<float> factors = ps::factor_range(0.0f, 2.0f, 5);
        QCOMPARE(factors[2], 1.0f);
        const ps::Interventions user{ps::parse_intervention("scale:" + unit + "=7", m.config)};
        const ps::ScaleSweep sw = ps::scale_sweep(m, ids_, component, factors, {}, user);
        QCOMPARE(sw.targets.size(), size_t(3));
        const ps::MatrixRM plain = run(m, ids_, {});
        Eigen::Index top = 0;
        plain.row(plain.rows() - 1).maxCoeff(&top);
        QCOMPARE(sw.targets[0], int(top));
        double moved = 0;
        for (size_t f = 0; f < factors.size(); ++f) {
            const ps::MatrixRM z =
                run(m, ids_,
                    {ps::parse_intervention("scale:" + unit + "=" + std::to_string(factors[f]),
                                            m.config)});
            for (size_t t = 0; t < sw.targets.size(); ++t) {
                const double p =
                    ps::probability_of(z.data() + (z.rows() - 1) * V, V, sw.targets[t]);
                QVERIFY(std::abs(sw.p[t][f] - p) < 1e-5);
                moved = std::max(moved, std::abs(double(sw.p[t][f] - sw.p[t][2])));
            }
        }
        QVERIFY2(moved > 1e-4, qPrintable(QString::number(moved)));
        bool cancelled = false;
        try {
            ps::scale_sweep(m, ids_, component, factors, {5}, {},
                            [](int done, int) { return done < 2; });
        } catch (const ps::Cancelled&) {
            cancelled = true;
        }
        QVERIFY(cancelled);
        EXPECT_ERROR(ps::scale_sweep(m, ids_, component, factors, {V}), "target token id",
                     "outside the vocabulary");
        EXPECT_ERROR(ps::scale_sweep(
                         m, ids_, ps::parse_intervention("patch:blocks.0.hook_resid_pre", m.config),
                         factors, {}),
                     "hook_resid_pre");
        EXPECT_ERROR(ps::factor_range(0, 2, 1), "2 to 1000 steps");
    }

    // Weight edits: an overlay equal to a file with the same change, which leaves the file and
    // the model it came from untouched; compact (F16) tensors too.
    void weight_edits_are_an_overlay() {
        const int h = 2, hd = llama_->config.head_dim(), q_dim = llama_->config.q_dim();
        const std::string o = "model.layers.1.self_attn.o_proj.weight";
        ps::test::HfWeights w = w_;
        for (int r = 0; r < llama_->config.dim; ++r)
            for (int e = 0; e < hd; ++e) w.at(o)[size_t(r * q_dim + h * hd + e)] = 0;
        w.at("model.norm.weight")[3] = 0.25f;
        for (float& v : w.at("model.layers.0.mlp.up_proj.weight")) v *= -0.5f;
        for (const std::string dtype : {"F32", "F16"}) {
            ps::test::write_hf_decoder(path("edit-" + dtype), spec_, w_, dtype);
            const std::string file = path("edit-" + dtype) + "/model.safetensors";
            const QByteArray before = read(file);
            std::shared_ptr<const ps::Model> base = ps::load_model(path("edit-" + dtype));
            QCOMPARE(base->has_compact_tensors(), dtype == "F16");
            const ps::MatrixRM plain = run(*base, ids_, {});
            std::vector<ps::WeightEdit> edits;
            for (int e = 0; e < hd; ++e)
                edits.push_back(ps::parse_weight_edit(
                    "weight:" + o + "[:," + std::to_string(h * hd + e) + "]=0", *base));
            edits.push_back(ps::parse_weight_edit("weight:model.norm.weight[3]=0.25", *base));
            edits.push_back(
                ps::parse_weight_edit("weight:model.layers.0.mlp.up_proj.weight=-0.5", *base));
            {
                const auto edited = ps::edit_weights(base, edits);
                const ps::MatrixRM expected = as_matrix(
                    ps::test::naive_decoder_logits(spec_, w, ids_), llama_->config.vocab_size);
                QVERIFY2(relative(run(*edited, ids_, {}), expected) < 1e-4, dtype.c_str());
                QVERIFY(relative(run(*edited, ids_, {}), plain) > 1e-2);
                // A plain run's cache is not reused by the edited model's run (the trace records
                // the edits), nor the other way round.
                ps::TraceOptions kv;
                kv.keys_values = true;
                const ps::Trace plain_trace = ps::forward(*base, ids_, kv);
                const ps::Trace edited_trace = ps::forward(*edited, ids_, kv, &plain_trace);
                QCOMPARE(edited_trace.weight_edits.size(), edits.size());
                QVERIFY(relative(edited_trace.logits, expected) < 1e-4);
                QVERIFY(relative(ps::forward(*base, ids_, kv, &edited_trace).logits, plain) < 1e-6);
                // An edit that is off changes nothing.
                std::vector<ps::WeightEdit> off = edits;
                for (ps::WeightEdit& e : off) e.enabled = false;
                const auto unchanged = ps::edit_weights(base, off);
                QVERIFY(unchanged->weight_edits.empty());
                QVERIFY(relative(run(*unchanged, ids_, {}), plain) == 0.0);
            }
            // Undone exactly, and the file never written.
            const ps::MatrixRM again = run(*base, ids_, {});
            QVERIFY(std::memcmp(again.data(), plain.data(), size_t(plain.size()) * 4) == 0);
            QVERIFY(read(file) == before);
        }
        const ps::Model& m = *llama_;
        EXPECT_ERROR(ps::parse_weight_edit("weight:nope.weight=2", m), "no tensor 'nope.weight'");
        EXPECT_ERROR(ps::parse_weight_edit("weight:" + o + "[40,0]=1", m),
                     "row 40 is out of range");
        EXPECT_ERROR(ps::parse_weight_edit("weight:" + o + "[0,x]=1", m), "malformed column 'x'");
        EXPECT_ERROR(ps::parse_weight_edit("weight:" + o + "[0,0]=one", m),
                     "malformed number 'one'");
        EXPECT_ERROR(ps::parse_weight_edit("weight:model.norm.weight[1,2]=1", m), "1-D");
        QCOMPARE(QString::fromStdString(ps::parse_weight_edit("weight:" + o + "[3,:]=0", m).spec()),
                 QString::fromStdString("weight:" + o + "[3,:]=0"));
    }

    void specs_read_back_and_bad_ones_are_named() {
        const ps::Config& c = llama_->config;
        for (const char* spec :
             {"ablate:blocks.1.attn.hook_z:2@4", "scale:blocks.0.mlp.hook_post:9=0.5",
              "mean-ablate:blocks.1.hook_attn_out", "ablate:blocks.0.hook_mlp_out@3",
              "patch:blocks.1.hook_resid_pre@2", "steer:blocks.1.hook_resid_pre=-2@1"}) {
            const ps::Intervention iv = ps::parse_intervention(spec, c);
            QCOMPARE(QString::fromStdString(iv.spec()), QString(spec));
            QVERIFY(ps::parse_intervention(iv.spec(), c).same_as(iv));
        }
        QCOMPARE(ps::parse_intervention("scale:blocks.0.attn.hook_z:1@5=2", c).position, 5);
        QCOMPARE(QString::fromStdString(
                     ps::parse_intervention("ablate:blocks.1.attn.hook_z:2", c).describe()),
                 QString("head 1.2 ablated"));
        EXPECT_ERROR(ps::parse_intervention("zap:blocks.0.attn.hook_z:1", c),
                     "unknown action 'zap'");
        EXPECT_ERROR(ps::parse_intervention("ablate:blocks.0.attn.hook_q:1", c),
                     "unknown hook 'attn.hook_q'");
        EXPECT_ERROR(ps::parse_intervention("ablate:blocks.9.attn.hook_z:1", c),
                     "layer 9 is out of range");
        EXPECT_ERROR(ps::parse_intervention("ablate:blocks.0.attn.hook_z:4", c),
                     "head 4 is out of range", "0..3");
        EXPECT_ERROR(ps::parse_intervention("ablate:blocks.0.mlp.hook_post:999", c), "neuron 999");
        EXPECT_ERROR(ps::parse_intervention("scale:blocks.0.attn.hook_z:1=big", c),
                     "malformed factor 'big'");
        EXPECT_ERROR(ps::parse_intervention("scale:blocks.0.attn.hook_z:1", c), "needs a factor");
        EXPECT_ERROR(ps::parse_intervention("ablate:blocks.x.hook_mlp_out", c),
                     "malformed layer 'x'");
        EXPECT_ERROR(ps::parse_intervention("ablate:blocks.0.hook_mlp_out:3", c),
                     "no heads or neurons");
        EXPECT_ERROR(ps::parse_intervention("ablate:layer0", c), "should start with blocks.L.");
        EXPECT_ERROR(ps::parse_intervention("steer:blocks.0.hook_mlp_out=2", c),
                     "hook_resid_pre only");
        EXPECT_ERROR(ps::parse_intervention("ablate:blocks.0.hook_mlp_out@-1", c),
                     "malformed position");
        ps::Intervention patch = ps::parse_intervention("patch:blocks.0.hook_resid_pre@12", c);
        EXPECT_ERROR(ps::set_patch_source(*llama_, patch, other_, "x"),
                     "past the source prompt's 10");
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestInterventions)
#include "test_interventions.moc"
