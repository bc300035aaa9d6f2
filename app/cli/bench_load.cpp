#include "app/cli/bench_load.h"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <random>

#include "app/cli/commands.h"
#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "core/model/random_model.h"
#include "core/train/bpe_train.h"
#include "core/train/files.h"
#include "core/train/train_model.h"

namespace ps::cli {

namespace fs = std::filesystem;

namespace {

using Clock = std::chrono::steady_clock;

double ms_since(Clock::time_point start) {
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

double file_megabytes(const std::string& path) {
    uintmax_t bytes = 0;
    if (fs::is_directory(path)) {
        for (const auto& e : fs::recursive_directory_iterator(path))
            if (e.is_regular_file()) bytes += e.file_size();
    } else {
        bytes = fs::file_size(path);
    }
    return static_cast<double>(bytes) / (1024.0 * 1024.0);
}

std::string shell_quote(const std::string& s) {
    std::string q = "'";
    for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
}

}  // namespace

int load_probe(const std::string& path, const BenchSettings& s) {
    set_threads(s.threads);
    const auto start = Clock::now();
    LoadOptions options;
    options.f32_weights = s.f32_weights;
    std::unique_ptr<Model> model = load_model(path, options);
    const double load_ms = ms_since(start);
    const int T = std::min(s.tokens, model->config.context_length);
    std::vector<int> ids(static_cast<size_t>(T));
    std::mt19937 rng(1);
    for (int& id : ids)
        id = static_cast<int>(rng() % static_cast<unsigned>(model->config.vocab_size));
    const Trace trace = forward(*model, ids, TraceOptions());
    const double first_ms = ms_since(start);
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    nlohmann::json j{{"load_ms", load_ms},
                     {"first_analysis_ms", first_ms},
                     {"peak_rss_mb", static_cast<double>(u.ru_maxrss) / 1024.0},
                     {"trace_mb", trace_megabytes(trace)}};
    std::printf("%s\n", j.dump().c_str());
    return 0;
}

nlohmann::json measure_load(const std::string& path, const BenchSettings& s) {
    const std::string command = shell_quote(fs::read_symlink("/proc/self/exe").string()) +
                                " bench " + shell_quote(path) + " --load-probe --tokens " +
                                std::to_string(s.tokens) + " --threads " +
                                std::to_string(s.threads) + (s.f32_weights ? " --f32-weights" : "");
    std::vector<double> load, first;
    double peak = 0, trace_mb = 0;
    for (int r = 0; r < std::max(1, s.repeats / 2); ++r) {
        FILE* pipe = popen(command.c_str(), "r");
        if (!pipe) throw Error("bench: cannot start the load probe: " + command);
        std::string out;
        char buffer[4096];
        while (size_t n = fread(buffer, 1, sizeof buffer, pipe)) out.append(buffer, n);
        if (pclose(pipe) != 0) throw Error("bench: the load probe failed on " + path);
        const nlohmann::json j = nlohmann::json::parse(out);
        load.push_back(j.at("load_ms").get<double>());
        first.push_back(j.at("first_analysis_ms").get<double>());
        peak = std::max(peak, j.at("peak_rss_mb").get<double>());
        trace_mb = j.at("trace_mb").get<double>();
    }
    auto figure = [](std::vector<double> v) {
        std::sort(v.begin(), v.end());
        return nlohmann::json{{"median", v[v.size() / 2]}, {"min", v.front()}, {"max", v.back()}};
    };
    nlohmann::json j;
    j["load"] = figure(load);
    j["load_ms"] = j["load"]["median"];
    j["first_analysis"] = figure(first);
    j["first_analysis_ms"] = j["first_analysis"]["median"];
    j["peak_rss_mb"] = peak;
    j["file_mb"] = file_megabytes(path);
    j["peak_rss_budget_mb"] = file_megabytes(path) + trace_mb + 150.0;
    return j;
}

void write_random_gpt2(const std::string& shape, const std::string& dir, bool f16) {
    const Config c = random_model_config(shape);
    if (c.arch != Arch::Gpt2) throw Error("bench: '" + shape + "' is not a GPT-2 shape");
    const Gpt2Shape g{c.vocab_size, c.context_length, c.dim, c.n_layers, c.n_heads};
    const Gpt2<float> model(g);
    std::vector<float> params(model.param_count());
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> uniform(-0.035f, 0.035f);
    for (float& p : params) p = uniform(rng);
    fs::create_directories(dir);
    write_gpt2_hf(dir, model, params, c.vocab_size - 1);
    // The same tensors rounded to F16, with the same names, in place of the F32 ones.
    if (f16) write_param_snapshot((fs::path(dir) / "model.safetensors").string(), model, params, 0);
    // The byte-level tokenizer: GPT-2's 256 byte symbols, unused pieces, then <|endoftext|>.
    BpeTrained tokenizer = train_bpe({"a"}, 257);
    tokenizer.pieces.resize(256);
    while (static_cast<int>(tokenizer.pieces.size()) < c.vocab_size - 1)
        tokenizer.pieces.push_back("<|unused_" + std::to_string(tokenizer.pieces.size()) + "|>");
    tokenizer.pieces.push_back("<|endoftext|>");
    tokenizer.merges.clear();
    tokenizer.write(dir);
}

}  // namespace ps::cli
