// paramscope bench: Google Benchmark runs of the forward pass (with and without the trace) and
// of the sampling step, on a model the user names.
#include <benchmark/benchmark.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "app/cli_commands.h"
#include "core/error.h"
#include "core/forward.h"
#include "core/random_model.h"
#include "core/sampling.h"

namespace ps::cli {

CommandSpec bench_spec() {
    return {"bench",
            "MODEL [--tokens T] [--threads N] [--filter REGEX]",
            "Benchmarks (Google Benchmark): the forward pass over T prompt tokens with the full "
            "trace and without it, and the sampling step at the model's vocabulary and at GPT-2's "
            "50,257 tokens.",
            {{"shape", "NAME",
              "a built-in shape with random weights: gpt2-124m, gpt2-tiny, llama-15m, llama-110m"},
             {"tokens", "T", "prompt length (default: 128, at most the context window)"},
             {"threads", "N", "threads to use (default: all cores)"},
             {"filter", "REGEX", "run only the benchmarks whose name matches"},
             {"min-time", "SECONDS", "minimum time per benchmark (default 0.5)"},
             {"tokenizer", "FILE", "llama2.c tokenizer file"}},
            "paramscope bench stories260K.bin --tokens 128 --threads 2"};
}

int cmd_bench(const Args& args) {
    set_threads(args.integer("threads", 0));
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

}  // namespace ps::cli
