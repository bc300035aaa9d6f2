// paramscope train: trains a small GPT-2 on a text file or a builtin corpus and writes a Hugging
// Face directory the app opens (see core/train/run.h). Progress goes to stderr on one line;
// Ctrl-C writes a checkpoint that --resume continues from.
#include <omp.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <string>

#include "app/cli/commands.h"
#include "core/error.h"
#include "core/train/run.h"

namespace ps::cli {

namespace {

std::atomic<bool> g_stop{false};

extern "C" void on_sigint(int) {
    g_stop.store(true);
    std::signal(SIGINT, SIG_DFL);  // a second Ctrl-C ends the process at once
}

std::string duration(double seconds) {
    const long s = std::lround(std::max(0.0, seconds));
    char buf[32];
    if (s >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", s / 3600, s / 60 % 60);
    else
        std::snprintf(buf, sizeof buf, "%ldm%02lds", s / 60, s % 60);
    return buf;
}

// The settings that shape a fresh run; with --resume they come from the checkpoint instead.
const char* const kRunOptions[] = {"corpus", "builtin", "documents", "layers",    "heads",
                                   "dim",    "context", "vocab",     "steps",     "batch",
                                   "lr",     "seed",    "warmup",    "eval-every"};

}  // namespace

CommandSpec train_spec() {
    return {
        "train",
        "(--corpus FILE | --builtin stories|sort|reverse) --out DIR [options] | --out DIR --resume",
        "Trains a GPT-2 (LayerNorm, learned positions, GELU, biases, tied unembedding) with "
        "AdamW, warm-up + cosine learning rate and gradient clipping, on a byte-level BPE "
        "tokenizer trained on the corpus. DIR gets config.json, model.safetensors, vocab.json, "
        "merges.txt, training_log.csv (step,train_loss,val_loss,lr,grad_norm), training.json "
        "and snapshots/step_NNNNNN.safetensors (f16) at steps 0, 1, 10, 100, 1000 and the last. "
        "Progress on stderr; Ctrl-C saves DIR/checkpoint.safetensors. Prints a JSON summary.",
        {{"corpus", "FILE", "UTF-8 text, documents separated by blank lines"},
         {"builtin", "NAME", "a generated corpus: stories, sort or reverse"},
         {"documents", "N",
          "documents the builtin generates (default 20000 stories, 50000 otherwise)"},
         {"layers", "L", "transformer blocks (default 2)"},
         {"heads", "H", "attention heads (default 4)"},
         {"dim", "D", "residual width, a multiple of heads (default 64)"},
         {"context", "C", "sequence length (default 64)"},
         {"vocab", "V", "tokenizer size, >= 257 (default 512)"},
         {"steps", "N", "optimizer steps (default 1000)"},
         {"batch", "B", "sequences per step (default 16)"},
         {"lr", "X", "peak learning rate (default 1e-3)"},
         {"warmup", "N", "warm-up steps (default: steps / 10, at most 200)"},
         {"eval-every", "N", "validation period in steps (default: steps / 20)"},
         {"seed", "S", "seed of the corpus, initialization and batches (default 1)"},
         {"threads", "N", "threads (default: all cores); results depend on it"},
         {"out", "DIR", "output directory (required)"},
         {"resume", "", "continue DIR's interrupted run from its checkpoint"}},
        "paramscope train --builtin stories --layers 4 --heads 4 --dim 96 --context 128 "
        "--vocab 1024 --steps 2000 --batch 16 --lr 2e-3 --seed 1 --out stories"};
}

int cmd_train(const Args& args) {
    if (!args.has("out")) throw Error("train needs --out DIR");
    RunOptions o;
    o.out_dir = args.str("out");
    o.resume = args.has("resume");
    TrainSettings& s = o.settings;
    if (o.resume) {
        for (const char* name : kRunOptions)
            if (args.has(name))
                throw Error(std::string("--resume takes every setting from the checkpoint; "
                                        "drop --") +
                            name);
        s.threads = args.integer("threads", 0);
    } else {
        if (args.has("corpus") == args.has("builtin"))
            throw Error("give exactly one of --corpus FILE or --builtin stories|sort|reverse");
        o.corpus.file = args.str("corpus");
        o.corpus.builtin = args.str("builtin");
        o.corpus.documents = args.integer("documents", 0);
        o.corpus.seed = args.u64("seed", 1);
        s.shape.n_layers = args.integer("layers", 2);
        s.shape.n_heads = args.integer("heads", 4);
        s.shape.dim = args.integer("dim", 64);
        s.shape.context_length = args.integer("context", 64);
        s.shape.vocab_size = args.integer("vocab", 512);
        s.steps = args.integer("steps", 1000);
        s.batch = args.integer("batch", 16);
        s.lr = static_cast<float>(args.number("lr", 1e-3));
        s.warmup = args.integer("warmup", -1);
        s.eval_every = args.integer("eval-every", -1);
        s.seed = o.corpus.seed;
        s.threads = args.integer("threads", omp_get_num_procs());
    }

    o.on_note = [](const std::string& text) { std::cerr << "\r\033[K" << text << "\n"; };
    auto last_print = std::chrono::steady_clock::now() - std::chrono::seconds(1);
    float last_val = -1;
    o.on_step = [&](const RunProgress& p) {
        if (p.val_loss >= 0) last_val = p.val_loss;
        const auto now = std::chrono::steady_clock::now();
        const bool last = p.stats.step == p.total_steps;
        if (!last && p.val_loss < 0 && now - last_print < std::chrono::milliseconds(250)) return;
        last_print = now;
        const int done = p.stats.step - p.first_step;
        const double eta = p.seconds / std::max(1, done) * (p.total_steps - p.stats.step);
        char val[32] = "-";
        if (last_val >= 0) std::snprintf(val, sizeof val, "%.4f", static_cast<double>(last_val));
        std::fprintf(stderr,
                     "\r\033[Kstep %d/%d  loss %.4f  val %s  lr %.2e  |g| %.3f  %.0f tok/s  "
                     "ETA %s",
                     p.stats.step, p.total_steps, static_cast<double>(p.stats.train_loss), val,
                     static_cast<double>(p.stats.lr), static_cast<double>(p.stats.grad_norm),
                     p.tokens_per_second, duration(eta).c_str());
        std::fflush(stderr);
    };
    g_stop.store(false);
    o.stop = &g_stop;
    auto previous = std::signal(SIGINT, on_sigint);
    RunResult r;
    try {
        r = run_training(o);
    } catch (...) {
        std::signal(SIGINT, previous);
        std::cerr << "\n";
        throw;
    }
    std::signal(SIGINT, previous);
    std::cerr << "\n";
    const Gpt2Shape& shape = r.settings.shape;
    nlohmann::json j{{"out", o.out_dir},
                     {"finished", r.finished},
                     {"step", r.step},
                     {"steps", r.settings.steps},
                     {"train_loss", r.train_loss},
                     {"val_loss", r.val_loss},
                     {"unigram_entropy", r.unigram_entropy},
                     {"vocab_size", shape.vocab_size},
                     {"param_count", gpt2_param_count(shape)},
                     {"seconds", r.seconds},
                     {"tokens_per_second", r.tokens_per_second}};
    std::cout << dump(j) << "\n";
    if (!r.finished)
        std::cerr << "interrupted: continue with paramscope train --out " << o.out_dir
                  << " --resume\n";
    return r.finished ? 0 : 130;
}

}  // namespace ps::cli
