// The trainer (core/train_*.cpp), the BPE trainer and the generated corpora:
//  - every parameter tensor's analytic gradient matches central finite differences, in double;
//  - a few hundred steps on a small stories corpus cut the validation loss by a stated factor;
//  - runs are bit-identical for a seed and thread count, and an interrupted run resumed from its
//    checkpoint ends bit-identical to an uninterrupted one;
//  - the saved directory loads through the Hugging Face path with the trainer's own logits, and
//    `paramscope info` counts the parameters the formula gives;
//  - the BPE tokenizer round-trips text and encodes exactly as the loaded tokenizer does.
#include <QTemporaryDir>
#include <QtTest>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "core/formats/loader.h"
#include "core/formats/tokenizer_files.h"
#include "core/model/forward.h"
#include "core/train/bpe_train.h"
#include "core/train/corpus.h"
#include "core/train/files.h"
#include "core/train/loop.h"
#include "core/train/rng.h"
#include "core/train/run.h"
#include "core/train/train_model.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

namespace fs = std::filesystem;
using namespace ps;

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// The message of the ps::Error `f` throws, or "" if it throws none.
template <class F>
std::string error_of(F f) {
    try {
        f();
    } catch (const Error& e) {
        return e.what();
    }
    return "";
}

// A small run used by several tests: 1 layer, 120 stories, a 500-token vocabulary.
RunOptions small_run(const std::string& out, int steps) {
    RunOptions o;
    o.corpus.builtin = "stories";
    o.corpus.documents = 120;
    o.corpus.seed = 5;
    o.out_dir = out;
    TrainSettings& s = o.settings;
    s.shape = {500, 32, 32, 1, 2};
    s.steps = steps;
    s.batch = 8;
    s.lr = 1e-2f;
    s.seed = 5;
    s.threads = 2;
    s.eval_every = 10;
    return o;
}

}  // namespace

class TestTrain : public QObject {
    Q_OBJECT

  private slots:
    // d(loss)/d(theta) of every tensor against (L(theta + h) - L(theta - h)) / 2h in double.
    // With h = 1e-5 the truncation error is ~h^2 |L'''| ~ 1e-10 and the rounding error
    // ~1e-16 / h ~ 1e-11, so 1e-7 relative to the tensor's largest gradient is a tight bound
    // that any wrong term (they are O(1) relative) would exceed by orders of magnitude.
    void gradientsMatchFiniteDifferences() {
        const Gpt2Shape shape{13, 6, 8, 2, 2};
        Gpt2<double> model(shape);
        std::vector<double> params(model.param_count());
        Rng rng(3);
        // Larger than GPT-2's 0.02 so every term of every gradient is far from zero; gains
        // and biases random too, so their gradients are not special cases.
        for (const ParamTensor& t : model.layout())
            for (size_t i = 0; i < t.count; ++i)
                params[t.offset + i] =
                    (t.name.find("ln_") != std::string::npos && t.name.ends_with(".weight"))
                        ? 1.0 + 0.3 * rng.normal()
                        : 0.3 * rng.normal();
        const int B = 3, T = 5;  // T < context: unused wpe rows must get exactly 0
        std::vector<int> inputs(B * T), targets(B * T);
        for (int& id : inputs) id = rng.below(shape.vocab_size);
        for (int& id : targets) id = rng.below(shape.vocab_size);

        std::vector<double> grads(model.param_count());
        model.loss(params.data(), inputs.data(), targets.data(), B, T, grads.data(), 2);
        std::vector<double> single(model.param_count());
        model.loss(params.data(), inputs.data(), targets.data(), B, T, single.data(), 1);
        const double h = 1e-5;
        for (const ParamTensor& t : model.layout()) {
            double max_grad = 0, max_err = 0, max_thread_diff = 0;
            for (size_t i = t.offset; i < t.offset + t.count; ++i) {
                const double saved = params[i];
                params[i] = saved + h;
                const double up =
                    model.loss(params.data(), inputs.data(), targets.data(), B, T, nullptr, 1);
                params[i] = saved - h;
                const double down =
                    model.loss(params.data(), inputs.data(), targets.data(), B, T, nullptr, 1);
                params[i] = saved;
                const double numeric = (up - down) / (2 * h);
                max_grad = std::max(max_grad, std::abs(numeric));
                max_err = std::max(max_err, std::abs(numeric - grads[i]));
                max_thread_diff = std::max(max_thread_diff, std::abs(grads[i] - single[i]));
            }
            QVERIFY2(max_grad > 1e-4, t.name.c_str());  // the check is not vacuous
            QVERIFY2(max_err <= 1e-7 * max_grad,
                     (t.name + ": max |analytic - numeric| = " + std::to_string(max_err) +
                      ", largest gradient " + std::to_string(max_grad))
                         .c_str());
            QVERIFY2(max_thread_diff <= 1e-12 * max_grad, t.name.c_str());
        }
        // Rows of wpe past T are never used: their gradient is exactly zero.
        const ParamTensor& wpe = model.layout()[1];
        for (size_t i = wpe.offset + T * shape.dim; i < wpe.offset + wpe.count; ++i)
            QCOMPARE(grads[i], 0.0);
    }

    void layoutMatchesTheFormula() {
        for (const Gpt2Shape& s :
             {Gpt2Shape{13, 6, 8, 2, 2}, Gpt2Shape{50257, 1024, 768, 12, 12}}) {
            const std::vector<ParamTensor> layout = gpt2_layout(s);
            size_t next = 0;
            for (const ParamTensor& t : layout) {
                QCOMPARE(t.offset, next);
                next += t.count;
                QCOMPARE(t.decay, t.shape.size() == 2);
            }
            QCOMPARE(next, gpt2_param_count(s));
        }
        QCOMPARE(gpt2_param_count({50257, 1024, 768, 12, 12}), size_t(124439808));  // GPT-2 small
    }

    // 300 steps of 8 x 32 tokens on 108 training stories: the validation loss falls from
    // ln(500) = 6.2 to below half of that (this run reaches 2.46, a factor 0.39), and below the
    // corpus's unigram entropy (5.07 nats), which no model ignoring the context can beat.
    void shortRunReducesValidationLoss() {
        QTemporaryDir dir;
        RunOptions o = small_run(dir.path().toStdString(), 300);
        RunResult r = run_training(o);
        QVERIFY(r.finished);
        QCOMPARE(r.step, 300);
        std::ifstream log(dir.path().toStdString() + "/training_log.csv");
        std::string line;
        std::getline(log, line);
        QCOMPARE(line, std::string("step,train_loss,val_loss,lr,grad_norm"));
        std::getline(log, line);
        const float initial = std::stof(line.substr(line.find(",,") + 2));
        QVERIFY(std::abs(initial - std::log(500.0f)) < 0.3f);
        qInfo("validation loss %.3f -> %.3f (unigram entropy %.3f)", double(initial),
              double(r.val_loss), r.unigram_entropy);
        QVERIFY2(r.val_loss < 0.5f * initial, std::to_string(r.val_loss).c_str());
        QVERIFY(r.val_loss < r.unigram_entropy - 1.0);  // it uses the context
        int rows = 0;
        while (std::getline(log, line)) ++rows;
        QCOMPARE(rows, 300);
        for (int step : {0, 1, 10, 100, 300}) {
            char name[64];
            std::snprintf(name, sizeof name, "/snapshots/step_%06d.safetensors", step);
            QVERIFY2(fs::exists(dir.path().toStdString() + name), name);
        }
        QVERIFY(!fs::exists(dir.path().toStdString() + "/snapshots/step_001000.safetensors"));
        QVERIFY(!fs::exists(dir.path().toStdString() + "/checkpoint.safetensors"));
    }

    void sameSeedAndThreadsAreBitIdentical() {
        const std::vector<std::string> docs = generate_stories(2, 60);
        PreparedCorpus data = prepare_corpus(docs, 280);
        TrainSettings s;
        s.shape = {data.tokenizer.vocab_size(), 24, 16, 2, 2};
        s.steps = 25;
        s.batch = 5;
        s.threads = 3;
        auto run = [&](uint64_t seed) {
            s.seed = seed;
            Trainer t(s, data.train, data.val);
            while (t.step() < s.steps) t.train_step();
            return t.params();
        };
        const std::vector<float> a = run(9), b = run(9), c = run(10);
        QCOMPARE(a.size(), b.size());
        QVERIFY(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
        QVERIFY(a != c);
    }

    // Stopped at step 17 (as Ctrl-C does) and resumed: the same bytes as one run of 40 steps.
    void resumeIsBitExact() {
        QTemporaryDir whole, parts;
        RunResult full = run_training(small_run(whole.path().toStdString(), 40));
        QVERIFY(full.finished);

        std::atomic<bool> stop{false};
        RunOptions o = small_run(parts.path().toStdString(), 40);
        o.stop = &stop;
        o.on_step = [&](const RunProgress& p) { stop = p.stats.step == 17; };
        RunResult first = run_training(o);
        QVERIFY(!first.finished);
        QCOMPARE(first.step, 17);
        QVERIFY(fs::exists(parts.path().toStdString() + "/checkpoint.safetensors"));
        // A fresh run into a directory holding a run is refused.
        QVERIFY(error_of([&] {
                    run_training(small_run(parts.path().toStdString(), 40));
                }).find("already holds a training run") != std::string::npos);

        RunOptions again;
        again.out_dir = o.out_dir;
        again.resume = true;
        again.settings.threads = 0;  // the checkpoint's thread count
        RunResult second = run_training(again);
        QVERIFY(second.finished);
        QCOMPARE(second.step, 40);
        for (const char* file : {"/model.safetensors", "/training_log.csv",
                                 "/snapshots/step_000040.safetensors", "/vocab.json"})
            QVERIFY2(read_file(whole.path().toStdString() + file) ==
                         read_file(parts.path().toStdString() + file),
                     file);
        QVERIFY(!fs::exists(parts.path().toStdString() + "/checkpoint.safetensors"));
    }

    void savedModelLoadsWithTheSameLogits() {
        QTemporaryDir dir;
        const std::string out = dir.path().toStdString();
        RunOptions o = small_run(out, 30);
        o.settings.shape = {500, 32, 32, 2, 4};
        run_training(o);
        std::unique_ptr<Model> model = load_model(out);
        QCOMPARE(model->config.arch, Arch::Gpt2);
        QVERIFY(model->config.tied_embeddings);

        // The trainer's own forward on the saved parameters.
        const Gpt2Shape shape{model->config.vocab_size, 32, 32, 2, 4};
        Gpt2<float> trainer_model(shape);
        std::vector<float> params(trainer_model.param_count());
        for (const ParamTensor& t : trainer_model.layout()) {
            const TensorInfo* info = nullptr;
            for (const TensorInfo& ti : model->tensors)
                if (ti.name == t.name) info = &ti;
            QVERIFY2(info, t.name.c_str());
            QCOMPARE(size_t(info->count), t.count);
            std::copy_n(info->data, t.count, params.data() + t.offset);
        }
        const std::vector<int> ids =
            model->tokenizer->encode("Lily went to the park with her red ball.");
        QVERIFY(ids.size() > 5);
        const MatrixR<float> expected =
            trainer_model.logits(params.data(), ids.data(), static_cast<int>(ids.size()));
        const Trace trace = forward(*model, ids, TraceOptions::none());
        QCOMPARE(trace.logits.rows(), 1);
        const float diff =
            (trace.logits.row(0) - expected.row(expected.rows() - 1)).cwiseAbs().maxCoeff();
        // The same weights through two engines: equal up to summation order (1e-4 on logits).
        QVERIFY2(diff <= 1e-4f, std::to_string(diff).c_str());
        TraceOptions all = TraceOptions::none();
        all.all_logits = true;
        QVERIFY((forward(*model, ids, all).logits - expected).cwiseAbs().maxCoeff() <= 1e-4f);

        // The inventory: the formula's count, split into embeddings, weights, biases and norms.
        const size_t count = gpt2_param_count(shape);
        QCOMPARE(size_t(model->totals().total()), count);
        ps::test::CliResult r = ps::test::run_cli({"info", dir.path(), "--json"});
        QCOMPARE(r.exit_code, 0);
        const nlohmann::json info = nlohmann::json::parse(r.out.toStdString());
        const nlohmann::json& p = info["parameters"];
        QCOMPARE(p["total"].get<size_t>(), count);
        const size_t d = 32, V = size_t(shape.vocab_size), L = 2;
        QCOMPARE(p["by_kind"]["embedding"].get<size_t>(), V * d + 32 * d);
        QCOMPARE(p["by_kind"]["weight"].get<size_t>(), L * 12 * d * d);
        QCOMPARE(p["by_kind"]["bias"].get<size_t>(), L * 9 * d);  // 3d + d + 4d + d
        QCOMPARE(p["by_kind"]["norm"].get<size_t>(), L * 4 * d + 2 * d);
    }

    void bpeRoundTripsAndMatchesTheLoader() {
        const std::vector<std::string> docs = generate_stories(4, 200);
        BpeTrained bpe = train_bpe(docs, 400);
        QCOMPARE(bpe.vocab_size(), 400);
        QCOMPARE(bpe.eot_id, 399);
        QTemporaryDir dir;
        bpe.write(dir.path().toStdString());
        std::unique_ptr<Tokenizer> loaded = load_hf_tokenizer(dir.path().toStdString());
        QCOMPARE(loaded->vocab_size(), 400);
        QCOMPARE(loaded->eos_id, 399);
        const std::vector<std::string> texts = {
            docs[0], docs[7], "Lily's dog won't play; they'll see 42 cats!\n\n  Zoë ran   fast.",
            "unseen xylophone words, ünïcödé and emoji \xF0\x9F\x99\x82 too", " leading space"};
        for (const std::string& text : texts) {
            const std::vector<int> ids = bpe.encode(text);
            QCOMPARE(loaded->encode(text), ids);
            QCOMPARE(bpe.decode(ids), text);
            QCOMPARE(loaded->decode(ids), text);
        }
        // The merges learned something: common words are single tokens.
        QCOMPARE(bpe.encode(" the").size(), size_t(1));
        QVERIFY(bpe.encode(docs[0]).size() < docs[0].size() / 2);
        QVERIFY(!error_of([] { train_bpe({"x"}, 256); }).empty());
    }

    void corporaAreDeterministicAndWellFormed() {
        QCOMPARE(generate_stories(11, 30), generate_stories(11, 30));
        QVERIFY(generate_stories(11, 30) != generate_stories(12, 30));
        QCOMPARE(generate_reverse(11, 30), generate_reverse(11, 30));
        QVERIFY(generate_reverse(11, 30) != generate_reverse(12, 30));
        for (const std::string& story : generate_stories(3, 200)) {
            // The hero's name, introduced first, comes back later in the story.
            const size_t named =
                story.find("named ") != std::string::npos && story.find("named ") < story.find('.')
                    ? story.find("named ") + 6
                    : story.find("called ") + 7;
            const size_t first = story.find('.') < named ? 0 : named;
            const std::string name = story.substr(first, story.find_first_of(" .", first) - first);
            QVERIFY2(story.find(name, story.find('.')) != std::string::npos, story.c_str());
            QVERIFY(story.find('{') == std::string::npos && story.find('[') == std::string::npos);
            QVERIFY(story.size() > 200 && story.size() < 2000);
        }
        QCOMPARE(generate_sort(11, 30), generate_sort(11, 30));
        QVERIFY(generate_sort(11, 30) != generate_sort(12, 30));
        for (const std::string& e : generate_sort(3, 200)) {
            const size_t gt = e.find('>');
            QVERIFY(gt >= 3 && gt <= 8);
            std::string left = e.substr(0, gt);
            std::sort(left.begin(), left.end());
            QVERIFY(std::adjacent_find(left.begin(), left.end()) == left.end());  // distinct
            QCOMPARE(e.substr(gt + 1), left);
        }
        for (const std::string& e : generate_reverse(3, 200)) {
            const size_t gt = e.find('>');
            QVERIFY(gt >= 3 && gt <= 8);
            const std::string left = e.substr(0, gt);
            QCOMPARE(e.substr(gt + 1), std::string(left.rbegin(), left.rend()));
        }
    }

    void badSettingsGiveClearErrors() {
        auto contains = [](const std::string& message, const char* part) {
            return message.find(part) != std::string::npos;
        };
        QVERIFY(contains(error_of([] {
                             check_shape({300, 32, 30, 1, 4});
                         }),
                         "dim (30) must be a multiple of heads (4)"));
        QVERIFY(contains(error_of([] { check_shape({300, 0, 32, 1, 4}); }), "context"));
        TrainSettings s;
        s.shape = {300, 16, 16, 1, 2};
        s.lr = -1;
        QVERIFY(contains(error_of([&] { s.check(); }), "lr must be"));
        QVERIFY(contains(error_of([] { generate_builtin("poems", 1, 10); }), "poems"));
        QVERIFY(contains(error_of([] { prepare_corpus({"only one"}, 300); }), "at least 2"));
        RunOptions o = small_run("unused", 10);
        o.settings.shape.vocab_size = 100;
        QVERIFY(contains(error_of([&] { run_training(o); }), "vocab must be at least 257"));
        o = small_run("unused", 10);
        o.settings.shape.context_length = 4000;  // longer than the 12 validation stories
        QTemporaryDir dir;
        o.out_dir = dir.path().toStdString();
        QVERIFY(contains(error_of([&] { run_training(o); }), "corpus too small"));
        QVERIFY(contains(error_of([&] {
                             RunOptions r;
                             r.out_dir = dir.path().toStdString();
                             r.resume = true;
                             run_training(r);
                         }),
                         "no checkpoint"));

        const ps::test::CliResult r = ps::test::run_cli(
            {"train", "--builtin", "stories", "--dim", "30", "--heads", "4", "--out", dir.path()});
        QCOMPARE(r.exit_code, 1);
        QVERIFY2(r.err.contains("must be a multiple of heads"), r.err.constData());
        const ps::test::CliResult both = ps::test::run_cli(
            {"train", "--builtin", "stories", "--corpus", "x.txt", "--out", dir.path()});
        QCOMPARE(both.exit_code, 1);
        QVERIFY(both.err.contains("exactly one of --corpus"));
    }
};

PARAMSCOPE_TEST_GUILESS_MAIN(TestTrain)
#include "test_train.moc"
