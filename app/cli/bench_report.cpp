// `paramscope bench MODEL | --shape NAME`: the figures of README's performance table, measured in
// one run of one binary, printed as a table or (--json) as one JSON object.
//
// Every time is the median of --repeats runs after one warm-up, with the minimum and maximum
// beside it. The matrix-multiply rate the forward pass is judged against is measured here too,
// with the same kernel on the same product shapes, so the efficiency is a ratio of two
// measurements taken minutes apart on the same machine, never of a figure from elsewhere.
#include "app/cli/bench_report.h"

#include <sys/resource.h>
#include <unistd.h>

#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <random>

#include "app/cli/bench_load.h"
#include "core/analysis/layer_analysis.h"
#include "core/error.h"
#include "core/model/compact_weights.h"
#include "core/model/forward.h"
#include "core/sampling/sampling.h"
#include "core/tensor/gemm.h"

namespace ps::cli {

namespace {

using Clock = std::chrono::steady_clock;

struct Figure {
    double median = 0, min = 0, max = 0;
};

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// Runs f once to warm up, then `repeats` timed times.
template <class F>
Figure measure(int repeats, F&& f) {
    f();
    std::vector<double> ms;
    for (int r = 0; r < std::max(1, repeats); ++r) {
        const auto start = Clock::now();
        f();
        ms.push_back(ms_since(start));
    }
    std::sort(ms.begin(), ms.end());
    return {ms[ms.size() / 2], ms.front(), ms.back()};
}

nlohmann::json to_json(const Figure& f) {
    return {{"median", f.median}, {"min", f.min}, {"max", f.max}};
}

// The products one forward pass over T positions makes (m, n, k, b transposed), as the engine
// calls them; attention's per-head products are small and left to Eigen.
struct Product {
    int m, n, k;
};
std::vector<Product> forward_products(const Config& c, int T) {
    std::vector<Product> p;
    const bool fused_qkv = c.arch == Arch::Gpt2;
    if (fused_qkv) {
        p.push_back({T, c.dim + 2 * c.kv_dim(), c.dim});
    } else {
        p.push_back({T, c.q_dim(), c.dim});
        p.push_back({T, c.kv_dim(), c.dim});
        p.push_back({T, c.kv_dim(), c.dim});
    }
    p.push_back({T, c.dim, c.q_dim()});
    if (c.gated_mlp()) p.push_back({T, c.hidden_dim, c.dim});
    p.push_back({T, c.hidden_dim, c.dim});
    p.push_back({T, c.dim, c.hidden_dim});
    return p;
}

// The rate of `kernel` on the forward pass's own products (each layer's, times the layer count,
// plus the unembedding), and on a square 2048 product: GFLOP/s.
struct GemmRates {
    double forward_shapes = 0, square = 0;
};
GemmRates measure_gemm(GemmKernel kernel, const Config& c, int T, int threads, int repeats) {
    const GemmKernel saved = gemm_kernel();
    set_gemm_kernel(kernel);
    std::mt19937 rng(7);
    std::uniform_real_distribution<float> uniform(-1.0f, 1.0f);
    auto random = [&](size_t n) {
        std::vector<float> v(n);
        for (float& x : v) x = uniform(rng);
        return v;
    };
    auto rate = [&](const Product& p, double times) {
        std::vector<float> a = random(size_t(p.m) * p.k), b = random(size_t(p.n) * p.k);
        std::vector<float> out(size_t(p.m) * p.n);
        Figure f = measure(repeats, [&] {
            gemm(out.data(), p.n, a.data(), p.k, b.data(), p.k, p.m, p.n, p.k, true, threads);
        });
        return std::pair{2.0 * p.m * p.n * p.k * times, f.median * times};
    };
    double flop = 0, ms = 0;
    for (const Product& p : forward_products(c, T)) {
        auto [f, t] = rate(p, c.n_layers);
        flop += f;
        ms += t;
    }
    auto [uf, ut] = rate({T, c.vocab_size, c.dim}, 1);
    flop += uf;
    ms += ut;
    GemmRates r;
    r.forward_shapes = flop / ms / 1e6;
    auto [sf, st] = rate({2048, 2048, 2048}, 1);
    r.square = sf / st / 1e6;
    set_gemm_kernel(saved);
    return r;
}

// The rate at which this machine streams the model's weights from memory: every tensor summed
// once over `threads` threads, in blocks. Appending one token multiplies each weight by one
// vector, so it cannot take less than its multiply-adds (one weight read each) at this rate.
// Compact tensors (kept in the file's encoding) are dequantized block by block as the forward
// pass does, so for them it is the rate at which f32 weights can be produced.
double weight_read_gbps(const Model& model, int threads, int repeats) {
    struct Block {
        const float* data;
        const uint8_t* raw;
        DType dtype;
        int64_t count;
    };
    std::vector<Block> blocks;
    double bytes = 0;
    constexpr int64_t kBlock = 1 << 18;  // values, a multiple of every quantization block
    for (const TensorInfo& t : model.tensors) {
        if (!t.data && !t.raw) continue;
        for (int64_t at = 0; at < t.count; at += kBlock)
            blocks.push_back({t.data ? t.data + at : nullptr,
                              t.data ? nullptr : t.raw + encoded_bytes(t.dtype, at), t.dtype,
                              std::min(kBlock, t.count - at)});
        bytes += 4.0 * static_cast<double>(t.count);
    }
    float sink = 0;
    const Figure f = measure(repeats, [&] {
        float total = 0;
        const int n = static_cast<int>(blocks.size());
#pragma omp parallel for num_threads(threads) reduction(+ : total) schedule(static)
        for (int b = 0; b < n; ++b) {
            const Block& block = blocks[size_t(b)];
            const float* values = block.data;
            thread_local std::vector<float> decoded;
            if (!values) {
                decoded.resize(static_cast<size_t>(block.count));
                dequantize(block.dtype, block.raw, decoded.data(), block.count);
                values = decoded.data();
            }
            total += Eigen::Map<const Eigen::ArrayXf>(values, block.count).sum();
        }
        sink += total;
    });
    if (std::isnan(sink)) std::fprintf(stderr, "(the weights hold NaN)\n");  // keeps the sum
    return bytes / f.median / 1e6;
}

double peak_rss_mb() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return static_cast<double>(u.ru_maxrss) / 1024.0;
}

void print_row(const char* name, const Figure& f, const char* unit) {
    std::printf("  %-44s %10.2f %10.2f %10.2f  %s\n", name, f.median, f.min, f.max, unit);
}
void print_value(const char* name, double v, const char* unit) {
    std::printf("  %-44s %10.2f %21s  %s\n", name, v, "", unit);
}

}  // namespace

double trace_megabytes(const Trace& trace) {
    double bytes = 0;
    for (const NamedActivation& a : named_activations(trace)) {
        double n = 4;
        for (int64_t d : a.shape) n *= static_cast<double>(d);
        bytes += n;
    }
    return bytes / (1024.0 * 1024.0);
}

nlohmann::json bench_report(const Model& model, const std::string& label, const BenchSettings& s) {
    const Config& c = model.config;
    const int T = std::min(s.tokens, c.context_length);
    if (T < 2) throw Error("bench: --tokens must be at least 2 (one to append)");
    std::vector<int> ids(static_cast<size_t>(T));
    std::mt19937 rng(1);
    for (int& id : ids) id = static_cast<int>(rng() % static_cast<unsigned>(c.vocab_size));
    const std::vector<int> shorter(ids.begin(), ids.end() - 1);
    const int R = s.repeats;

    nlohmann::json j;
    j["model"] = label;
    j["tokens"] = T;
    j["threads"] = s.threads;
    j["kernel"] = gemm_kernel_name(gemm_kernel());

    TraceOptions no_trace = TraceOptions::none();
    no_trace.all_logits = true;
    TraceOptions last_only = TraceOptions::none();
    const Figure full = measure(R, [&] { forward(model, ids, TraceOptions()); });
    const Figure bare = measure(R, [&] { forward(model, ids, no_trace); });
    const Figure last = measure(R, [&] { forward(model, ids, last_only); });
    const Trace base = forward(model, shorter, TraceOptions());
    // Appending extends the shorter trace's buffers in place (each result is dropped before
    // the next run, as the app drops its previous analysis); replacing the last token cannot
    // write over rows the longer trace still shows, so it copies the shared positions.
    const Figure append = measure(R, [&] { forward(model, ids, TraceOptions(), &base); });
    const Trace trace = forward(model, ids, TraceOptions());
    std::vector<int> edited = ids;
    edited.back() = (edited.back() + 1) % c.vocab_size;
    const Figure edit = measure(R, [&] { forward(model, edited, TraceOptions(), &trace); });
    const Figure lens = measure(std::max(1, R / 3), [&] { logit_lens_grid(model, trace); });

    const int vocab = 50257;
    std::vector<float> logits(vocab);
    std::normal_distribution<float> normal(0.0f, 3.0f);
    for (float& l : logits) l = normal(rng);
    SamplingSettings sampling;
    sampling.temperature = 0.8f;
    sampling.top_k = 40;
    sampling.top_p = 0.95f;
    sampling.min_p = 0.05f;
    const Figure sample = measure(R * 5, [&] { apply_sampling(logits.data(), vocab, sampling); });

    const GemmRates rates = measure_gemm(gemm_kernel(), c, T, s.threads, R);
    const double read_gbps = weight_read_gbps(model, s.threads, R);
    // One float read per multiply-add of the appended position.
    const double append_bound_ms = forward_flops(c, 1, false, T - 1) / 2 * 4 / read_gbps / 1e6;
    const double gflop = forward_flops(c, T, true) / 1e9;
    j["forward_ms"] = full.median;
    j["forward"] = to_json(full);
    j["forward_no_trace_ms"] = bare.median;
    j["forward_no_trace"] = to_json(bare);
    j["forward_last_logits_ms"] = last.median;
    j["forward_last_logits"] = to_json(last);
    j["trace_overhead"] = full.median / bare.median - 1.0;
    j["append_ms"] = append.median;
    j["append"] = to_json(append);
    j["append_ratio"] = append.median / full.median;
    j["edit_last_ms"] = edit.median;
    j["edit_last"] = to_json(edit);
    j["weight_read_gbps"] = read_gbps;
    j["append_bound_ms"] = append_bound_ms;
    j["logit_lens_ms"] = lens.median;
    j["sampling_ms"] = sample.median;
    j["forward_gflop"] = gflop;
    j["forward_gflops"] = gflop / full.median * 1e3;
    j["gemm_gflops"] = rates.forward_shapes;
    j["gemm_2048_gflops"] = rates.square;
    j["efficiency"] = gflop / full.median * 1e3 / rates.forward_shapes;
    j["trace_mb"] = trace_megabytes(trace);
    if (gemm_kernel() != GemmKernel::Eigen) {
        const GemmRates eigen = measure_gemm(GemmKernel::Eigen, c, T, s.threads, R);
        j["eigen_gemm_gflops"] = eigen.forward_shapes;
        j["eigen_gemm_2048_gflops"] = eigen.square;
    }
    j["bench_peak_rss_mb"] = peak_rss_mb();
    return j;
}

void print_bench_report(const nlohmann::json& j) {
    auto fig = [&](const char* key) {
        const auto& f = j.at(key);
        return Figure{f.at("median").get<double>(), f.at("min").get<double>(),
                      f.at("max").get<double>()};
    };
    std::printf("ParamScope bench: %s, %d tokens, %d threads, kernel %s\n",
                j.at("model").get<std::string>().c_str(), j.at("tokens").get<int>(),
                j.at("threads").get<int>(), j.at("kernel").get<std::string>().c_str());
    std::printf("  %-44s %10s %10s %10s\n", "", "median", "min", "max");
    if (j.contains("load")) {
        print_row("open the model (mmap, parse)", fig("load"), "ms");
        print_row("open to first analysis (full trace)", fig("first_analysis"), "ms");
        print_value("peak resident memory (fresh process)", j.at("peak_rss_mb"), "MB");
        print_value("  model file(s)", j.at("file_mb"), "MB");
    }
    print_row("forward, full trace, all logits", fig("forward"), "ms");
    print_row("forward, no trace, all logits", fig("forward_no_trace"), "ms");
    print_row("forward, no trace, last position's logits", fig("forward_last_logits"), "ms");
    print_row("append one token (key/value cache)", fig("append"), "ms");
    if (j.contains("append_bound_ms")) {
        print_value("  reading its weights once (memory-bound)", j.at("append_bound_ms"), "ms");
        print_value("  memory read rate over the weights", j.at("weight_read_gbps"), "GB/s");
    }
    if (j.contains("edit_last"))
        print_row("replace the last token (copies the trace)", fig("edit_last"), "ms");
    print_value("trace overhead", 100.0 * j.at("trace_overhead").get<double>(), "%");
    print_value("trace size", j.at("trace_mb"), "MB");
    print_value("logit-lens grid (every layer x position)", j.at("logit_lens_ms"), "ms");
    print_value("sampling step, vocabulary 50,257", j.at("sampling_ms"), "ms");
    print_value("forward pass work", j.at("forward_gflop"), "GFLOP");
    print_value("forward pass rate", j.at("forward_gflops"), "GFLOP/s");
    print_value("matrix-multiply rate, same kernel, same shapes", j.at("gemm_gflops"), "GFLOP/s");
    print_value("matrix-multiply rate, 2048 x 2048 x 2048", j.at("gemm_2048_gflops"), "GFLOP/s");
    print_value("efficiency (forward rate / matrix-multiply rate)",
                100.0 * j.at("efficiency").get<double>(), "%");
    if (j.contains("eigen_gemm_gflops")) {
        print_value("  Eigen's kernel on the same shapes", j.at("eigen_gemm_gflops"), "GFLOP/s");
        print_value("  Eigen's kernel, 2048 x 2048 x 2048", j.at("eigen_gemm_2048_gflops"),
                    "GFLOP/s");
    }
    if (j.contains("slider_ms")) {
        std::printf("  GUI, offscreen, on %s:\n", j.at("gui_model").get<std::string>().c_str());
        print_row("  sampling slider step to repainted chart", fig("slider"), "ms");
        print_row("  keystroke to every visible view repainted", fig("keystroke"), "ms");
        print_value("  (plus the typing debounce)", j.at("debounce_ms"), "ms");
    }
}

}  // namespace ps::cli
