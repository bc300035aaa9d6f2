// paramscope bench: the performance table (app/cli/bench_report.cpp) on a model or a built-in
// shape;
// --micro: Google Benchmark runs of the forward pass and the sampling step; --train: training
// steps of the sample models' shapes against the machine's measured matrix-multiply rate.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "app/cli/bench_gui.h"
#include "app/cli/bench_load.h"
#include "app/cli/bench_report.h"
#include "app/cli/commands.h"
#include "app/gui/samples.h"
#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "core/model/random_model.h"
#include "core/sampling/sampling.h"
#include "core/tensor/gemm.h"
#include "core/train/loop.h"
#include "core/train/rng.h"

namespace ps::cli {

namespace fs = std::filesystem;

CommandSpec bench_spec() {
    return {"bench",
            "(MODEL | --shape NAME) [--tokens T] [--threads N] [--json] [--quick] | --micro ... | "
            "--train [--threads N]",
            "Measures the engine: opening the model (in a fresh process: time and peak memory), "
            "the forward pass with the full trace and without it, logits for all positions vs the "
            "last, appending one token with the key/value cache, the logit-lens grid, the "
            "sampling step at 50,257 tokens, and the matrix-multiply kernel's own rate on the "
            "same shapes (and on a 2048^3 product), printed as a table or as JSON. Each time is "
            "the median of --repeats runs, with min and max. --micro runs the same cases as "
            "Google Benchmark targets; --train times training steps of the sample models' shapes.",
            {{"shape", "NAME",
              "a built-in shape with random weights: gpt2-124m, gpt2-tiny (written to a "
              "temporary Hugging Face directory and opened from it), llama-15m, llama-110m, "
              "qwen2.5-0.5b, qwen3-0.6b, llama3.2-1b, gemma3-270m, smollm2-135m (in memory)"},
             {"dtype", "f32|f16|q8_0|q4_k",
              "--shape: the matrices' type (default f32; GPT-2 shapes f32 or f16). A matrix whose "
              "rows are not whole Q4_K blocks falls back to Q8_0, as llama-quantize does"},
             {"f32-weights", "", "widen F16/BF16/quantized weights to f32 at load"},
             {"tokens", "T", "prompt length (default: 128, at most the context window)"},
             {"threads", "N", "threads to use (default: all cores)"},
             {"repeats", "R", "timed runs per figure (default 7)"},
             {"quick", "", "few repeats and 32 tokens: a smoke run (CI)"},
             {"json", "", "print one JSON object instead of the table"},
             {"kernel", "NAME", "matrix-multiply kernel: onednn (default when built) or eigen"},
             {"no-load", "", "skip the load measurement"},
             {"gui", "",
              "also time the GUI offscreen on the sample model (or MODEL): a slider "
              "step to the repainted chart, a keystroke to every view repainted"},
             {"load-probe", "", "internal: open MODEL, run one traced pass, print JSON"},
             {"micro", "", "Google Benchmark runs of the forward pass and the sampling step"},
             {"train", "", "benchmark training instead of a model's forward pass"},
             {"filter", "REGEX", "--micro/--train: run only the benchmarks whose name matches"},
             {"min-time", "SECONDS", "--micro/--train: minimum time per benchmark (default 0.5)"},
             {"tokenizer", "FILE", "llama2.c tokenizer file"}},
            "paramscope bench --shape gpt2-124m --threads 2"};
}

namespace {

// The matrix-multiply rate the training benchmarks are measured against, once measured.
double g_matmul_flops = 0;

double seconds_since(std::chrono::steady_clock::time_point start) {
    return std::max(
        1e-9, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
}

// Each of `threads` threads multiplies its own 512 x 512 matrices: the rate the engine could
// reach if training were nothing but large products (Eigen's GEMM runs single-threaded here).
void register_matmul(int threads) {
    benchmark::RegisterBenchmark(
        ("matmul_f32_512/threads=" + std::to_string(threads)).c_str(),
        [threads](benchmark::State& state) {
            const int n = 512;
            std::vector<MatrixRM> a, b, c;
            for (int t = 0; t < threads; ++t) {
                a.push_back(MatrixRM::Random(n, n));
                b.push_back(MatrixRM::Random(n, n));
                c.push_back(MatrixRM::Zero(n, n));
            }
            const auto start = std::chrono::steady_clock::now();
            for (auto _ : state) {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
                for (int t = 0; t < threads; ++t) c[t].noalias() = a[t] * b[t];
                benchmark::DoNotOptimize(c[0].data());
            }
            const double flops = 2.0 * n * n * n * threads;
            state.counters["FLOPS"] =
                benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
            g_matmul_flops = flops * static_cast<double>(state.iterations()) / seconds_since(start);
        })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
}

void register_training(const std::string& name, const Gpt2Shape& shape, int batch, int threads) {
    benchmark::RegisterBenchmark(
        ("train_step/" + name + "/threads=" + std::to_string(threads)).c_str(),
        [shape, batch, threads](benchmark::State& state) {
            TrainSettings s;
            s.shape = shape;
            s.batch = batch;
            s.threads = threads;
            s.steps = 1000000;
            Rng rng(1);
            std::vector<int> tokens(static_cast<size_t>(shape.context_length) * 64);
            for (int& id : tokens) id = rng.below(shape.vocab_size);
            Trainer trainer(s, tokens, tokens);
            const auto start = std::chrono::steady_clock::now();
            for (auto _ : state) benchmark::DoNotOptimize(trainer.train_step());
            const double tokens_per_step = static_cast<double>(batch) * shape.context_length;
            const double flops = tokens_per_step * gpt2_training_flops_per_token(shape);
            state.counters["tokens"] =
                benchmark::Counter(tokens_per_step, benchmark::Counter::kIsIterationInvariantRate);
            state.counters["FLOPS"] =
                benchmark::Counter(flops, benchmark::Counter::kIsIterationInvariantRate);
            // Percent of the matrix-multiply rate measured just before (if it ran).
            if (g_matmul_flops > 0)
                state.counters["pct_of_matmul"] = 100.0 * flops *
                                                  static_cast<double>(state.iterations()) /
                                                  seconds_since(start) / g_matmul_flops;
        })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
}

int run_benchmarks(const Args& args) {
    std::vector<std::string> flags{
        "paramscope-bench", "--benchmark_min_time=" + std::to_string(args.number("min-time", 0.5))};
    if (args.has("filter")) flags.push_back("--benchmark_filter=" + args.str("filter"));
    std::vector<char*> argv;
    for (std::string& f : flags) argv.push_back(f.data());
    int argc = static_cast<int>(argv.size());
    benchmark::Initialize(&argc, argv.data());
    benchmark::RunSpecifiedBenchmarks();
    benchmark::Shutdown();
    return 0;
}

constexpr const char* kBenchPrompt =
    "Once upon a time, there was a little girl named Lily. She went to the";

int run_report(const Args& args) {
    BenchSettings s;
    s.threads = args.integer("threads", 0) > 0 ? args.integer("threads", 0) : omp_get_num_procs();
    s.repeats = args.integer("repeats", args.has("quick") ? 2 : 7);
    s.tokens = args.integer("tokens", args.has("quick") ? 32 : 128);
    if (s.repeats < 1 || s.tokens < 2) throw Error("bench: --repeats >= 1 and --tokens >= 2");
    if (args.has("kernel")) {
        const std::string k = args.str("kernel");
        if (k != "onednn" && k != "eigen")
            throw Error("bench: --kernel must be onednn or eigen, got '" + k + "'");
        set_gemm_kernel(k == "eigen" ? GemmKernel::Eigen : GemmKernel::OneDnn);
    }
    s.f32_weights = args.has("f32-weights");
    set_threads(s.threads);
    if (args.has("load-probe")) return load_probe(args.model(), s);

    nlohmann::json load;
    std::unique_ptr<Model> model;
    std::string label;
    std::optional<fs::path> temp_dir;
    const std::string shape = args.str("shape");
    if (!shape.empty() && random_model_config(shape).arch != Arch::Gpt2) {
        const std::string dtype = args.has("dtype") ? args.str("dtype") : "f32";
        const std::pair<const char*, DType> types[] = {
            {"f32", DType::F32}, {"f16", DType::F16}, {"q8_0", DType::Q8_0}, {"q4_k", DType::Q4_K}};
        const auto it = std::find_if(std::begin(types), std::end(types),
                                     [&](const auto& t) { return dtype == t.first; });
        if (it == std::end(types))
            throw Error("bench: --dtype must be f32, f16, q8_0 or q4_k for '" + shape + "', got '" +
                        dtype + "'");
        model = make_random_model(shape, 1, it->second);
        label = shape + " (random weights, in memory, " + dtype + ")";
    } else {
        std::string path;
        if (!shape.empty()) {
            temp_dir = fs::temp_directory_path() /
                       ("paramscope-bench-" + shape + "-" + std::to_string(getpid()));
            const std::string dtype = args.has("dtype") ? args.str("dtype") : "f32";
            if (dtype != "f32" && dtype != "f16")
                throw Error("bench: --dtype must be f32 or f16, got '" + dtype + "'");
            write_random_gpt2(shape, temp_dir->string(), dtype == "f16");
            path = temp_dir->string();
            label = shape + " (random weights, " + dtype + " safetensors" +
                    (s.f32_weights ? ", widened to f32)" : ")");
        } else {
            path = args.model();
            label = path;
        }
        if (!args.has("no-load")) load = measure_load(path, s);
        LoadOptions options;
        options.f32_weights = s.f32_weights;
        model = load_model(path, options);
    }
    nlohmann::json report = bench_report(*model, label, s);
    if (!load.is_null()) report.update(load);
    if (args.has("gui")) {
        const std::string gui_model = shape.empty() ? args.model() : default_sample().toStdString();
        if (gui_model.empty()) throw Error("bench --gui: no sample model found");
        report.update(bench_gui(gui_model, kBenchPrompt, s.repeats));
    }
    if (temp_dir) fs::remove_all(*temp_dir);
    if (args.has("json"))
        std::printf("%s\n", report.dump(2).c_str());
    else
        print_bench_report(report);
    return 0;
}

int run_micro(const Args& args) {
    std::shared_ptr<const Model> model =
        args.has("shape") ? make_random_model(args.str("shape")) : open_model(args);
    const Config& c = model->config;
    const int tokens = std::min(args.integer("tokens", 128), c.context_length);
    if (tokens < 1) throw Error("--tokens must be >= 1");
    std::vector<int> ids(static_cast<size_t>(tokens));
    std::mt19937 rng(1);
    for (int& id : ids) id = static_cast<int>(rng() % static_cast<unsigned>(c.vocab_size));

    const std::string shape = "/T=" + std::to_string(tokens);
    benchmark::RegisterBenchmark(
        ("forward_full_trace" + shape).c_str(),
        [model, ids](benchmark::State& state) {
            for (auto _ : state) benchmark::DoNotOptimize(forward(*model, ids, TraceOptions()));
        })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("forward_no_trace_all_logits" + shape).c_str(),
                                 [model, ids](benchmark::State& state) {
                                     TraceOptions options = TraceOptions::none();
                                     options.all_logits = true;
                                     for (auto _ : state)
                                         benchmark::DoNotOptimize(forward(*model, ids, options));
                                 })
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();

    // Appending the last token to a trace of the others: with the full trace (the prefix's
    // activations are copied) and with only the key/value cache kept (the pass alone).
    if (tokens >= 2) {
        const std::vector<int> prefix(ids.begin(), ids.end() - 1);
        for (const bool full : {true, false}) {
            TraceOptions options = TraceOptions::none();
            options.keys_values = true;
            if (full) options = TraceOptions();
            auto base = std::make_shared<const Trace>(forward(*model, prefix, options));
            benchmark::RegisterBenchmark(
                ((full ? "append_one_token_full_trace" : "append_one_token_cache_only") + shape)
                    .c_str(),
                [model, ids, options, base](benchmark::State& state) {
                    for (auto _ : state)
                        benchmark::DoNotOptimize(forward(*model, ids, options, base.get()));
                })
                ->Unit(benchmark::kMillisecond)
                ->UseRealTime();
        }
    }

    for (int vocab : {c.vocab_size, 50257}) {
        auto logits = std::make_shared<std::vector<float>>(static_cast<size_t>(vocab));
        std::normal_distribution<float> normal(0.0f, 3.0f);
        for (float& l : *logits) l = normal(rng);
        benchmark::RegisterBenchmark(
            ("sampling_step/vocab=" + std::to_string(vocab)).c_str(),
            [logits, vocab](benchmark::State& state) {
                SamplingSettings s;
                s.temperature = 0.8f;
                s.top_k = 40;
                s.top_p = 0.95f;
                s.min_p = 0.05f;
                for (auto _ : state)
                    benchmark::DoNotOptimize(apply_sampling(logits->data(), vocab, s));
            })
            ->Unit(benchmark::kMicrosecond);
    }

    return run_benchmarks(args);
}

}  // namespace

int cmd_bench(const Args& args) {
    set_threads(args.integer("threads", 0));
    if (args.has("train")) {
        const int threads =
            args.integer("threads", 0) > 0 ? args.integer("threads", 0) : omp_get_num_procs();
        register_matmul(threads);
        register_training("stories_L4_d96_C128_V1024_B16", {1024, 128, 96, 4, 4}, 16, threads);
        register_training("sort_L2_d64_C32_V257_B32", {257, 32, 64, 2, 4}, 32, threads);
        return run_benchmarks(args);
    }
    if (args.has("micro")) return run_micro(args);
    return run_report(args);
}

}  // namespace ps::cli
