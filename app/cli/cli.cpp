// The headless command line: paramscope info | tokenize | logits | generate | trace | dist | bench.
// JSON on stdout (keys documented in README.md); errors as one "error: ..." line on stderr.
#include "app/cli/cli.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <string>

#include <nlohmann/json.hpp>

#include "app/cli/args.h"
#include "app/cli/commands.h"
#include "app/cli/interventions.h"
#include "core/error.h"
#include "core/formats/loader.h"
#include "core/model/forward.h"
#include "core/tokenizer/prompt.h"

namespace ps {

namespace cli {

using nlohmann::json;

namespace {

const OptionSpec kThreads{"threads", "N", "threads to use (default: all cores)"};
const OptionSpec kJson{"json", "", "print JSON (the default for every command but info)"};
const OptionSpec kTokenizer{"tokenizer", "FILE",
                            "llama2.c tokenizer file (default: found beside MODEL)"};
const OptionSpec kF32Weights{"f32-weights", "",
                             "widen F16/BF16/quantized weights to f32 at load (4 bytes per "
                             "parameter; default: kept as stored)"};
const OptionSpec kText{"text", "T", "the prompt text"};
const OptionSpec kIds{"ids", "1,2,3", "the prompt as token ids, used as given"};
const OptionSpec kBos{"bos", "", "prepend BOS to --text (or to --ids)"};
const OptionSpec kNoBos{"no-bos", "", "don't prepend BOS to --text (default: as the model says)"};
const OptionSpec kChat{"chat", "",
                       "wrap --text as a user message in the model's chat template, the "
                       "assistant's turn opened (the template writes the BOS)"};

}  // namespace

const std::vector<OptionSpec>& prompt_options() {
    static const std::vector<OptionSpec> options{kText,      kIds,        kBos,     kNoBos, kChat,
                                                 kTokenizer, kF32Weights, kThreads, kJson};
    return options;
}

std::unique_ptr<Model> open_model(const Args& args) {
    set_threads(args.integer("threads", 0));
    LoadOptions options;
    options.tokenizer_path = args.str("tokenizer");
    options.f32_weights = args.has("f32-weights");
    std::unique_ptr<Model> model = load_model(args.model(), options);
    for (const std::string& warning : model->warnings)
        std::cerr << model->path << ": warning: " << warning << "\n";
    return model;
}

std::vector<int> prompt_ids(const Model& model, const Args& args) {
    if (args.has("text") == args.has("ids"))
        throw Error("give exactly one of --text T or --ids 1,2,3");
    if (args.has("chat") && args.has("ids"))
        throw Error("--chat wraps --text; it cannot wrap --ids");
    const Tokenizer& tok = *model.tokenizer;
    std::vector<int> ids;
    bool bos;
    if (args.has("ids")) {
        bos = args.has("bos");
        ids = args.ids("ids");
    } else if (args.has("chat")) {
        bos = args.has("bos");
        ids = prompt_tokens(tok, {args.str("text"), true, ""});
    } else {
        bos = args.has("bos") || (tok.add_bos && !args.has("no-bos"));
        ids = tok.encode(args.str("text"));
    }
    if (bos) {
        if (tok.bos_id < 0) throw Error(model.path + ": the model has no BOS token");
        ids.insert(ids.begin(), tok.bos_id);
    }
    for (int id : ids)
        if (id < 0 || id >= model.config.vocab_size)
            throw Error("token id " + std::to_string(id) + " is outside the vocabulary (0.." +
                        std::to_string(model.config.vocab_size - 1) + ")");
    return ids;
}

void append_float(std::string& out, float v) {
    if (!std::isfinite(v)) {
        out += "null";
        return;
    }
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
    (void)ec;
    out.append(buf, end);
}

std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

namespace {

int cmd_info(const Args& args) {
    auto model = open_model(args);
    json j = model_info_json(*model);
    if (args.has("json")) {
        std::cout << dump(j) << "\n";
        return 0;
    }
    std::cout << model_info_text(*model);
    return 0;
}

int cmd_tokenize(const Args& args) {
    auto model = open_model(args);
    std::vector<int> ids = prompt_ids(*model, args);
    json pieces = json::array(), bytes = json::array();
    for (int id : ids) {
        pieces.push_back(model->tokenizer->piece(id));
        bytes.push_back(model->tokenizer->token_bytes(id));
    }
    json j{{"ids", ids}, {"pieces", pieces}, {"text", bytes}};
    std::cout << dump(j) << "\n";
    return 0;
}

int cmd_logits(const Args& args) {
    const Intervened run = open_intervened(args);
    std::vector<int> ids = prompt_ids(*run.model, args);
    TraceOptions options = TraceOptions::none();
    options.all_logits = args.has("all-positions");
    Trace trace = forward(*run.model, ids, options, nullptr, run.interventions);
    std::string out = "{\"ids\":" + json(ids).dump() + ",\"logits\":[";
    out.reserve(out.size() + static_cast<size_t>(trace.logits.size()) * 14);
    for (Eigen::Index r = 0; r < trace.logits.rows(); ++r) {
        out += r ? ",[" : "[";
        for (Eigen::Index c = 0; c < trace.logits.cols(); ++c) {
            if (c) out += ',';
            append_float(out, trace.logits(r, c));
        }
        out += ']';
    }
    out += "]}\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
    return 0;
}

const std::vector<CommandSpec>& commands() {
    static const std::vector<CommandSpec> specs = [] {
        std::vector<CommandSpec> s;
        s.push_back({"info",
                     "MODEL [--json]",
                     "Architecture, configuration and parameter inventory (every tensor with its "
                     "shape, dtype, kind and count; totals per kind and per layer).",
                     {kJson, kTokenizer, kF32Weights, kThreads},
                     "paramscope info stories260K.bin --json"});
        s.push_back({"tokenize", "MODEL (--text T | --ids 1,2,3) [--no-bos]",
                     "Token ids and pieces of a prompt: {\"ids\", \"pieces\", \"text\"}.",
                     prompt_options(),
                     "paramscope tokenize stories260K.bin --text \"Once upon a time\""});
        auto logits_options = prompt_options();
        logits_options.push_back(
            {"all-positions", "", "logits at every position (default: the last)"});
        for (const OptionSpec& o : intervention_options()) logits_options.push_back(o);
        s.push_back({"logits", "MODEL (--text T | --ids 1,2,3) [--all-positions]",
                     "Next-token logits: {\"ids\", \"logits\": [[vocab floats], ...]}, floats "
                     "printed round-trip exact.",
                     logits_options,
                     "paramscope logits stories260K.bin --ids 1,403,407 --all-positions"});
        s.push_back(generate_spec());
        s.push_back(trace_spec());
        s.push_back(dist_spec());
        s.push_back(bench_spec());
        s.push_back(train_spec());
        s.push_back(importance_spec());
        s.push_back(sweep_spec());
        return s;
    }();
    return specs;
}

int dispatch(const std::string& name, const Args& args) {
    if (name == "info") return cmd_info(args);
    if (name == "tokenize") return cmd_tokenize(args);
    if (name == "logits") return cmd_logits(args);
    if (name == "generate") return cmd_generate(args);
    if (name == "trace") return cmd_trace(args);
    if (name == "dist") return cmd_dist(args);
    if (name == "bench") return cmd_bench(args);
    if (name == "train") return cmd_train(args);
    if (name == "importance") return cmd_importance(args);
    if (name == "sweep") return cmd_sweep(args);
    throw Error("unknown command " + name);
}

}  // namespace

}  // namespace cli

bool is_cli_command(const char* word) {
    for (const cli::CommandSpec& spec : cli::commands())
        if (spec.name == word) return true;
    return std::strcmp(word, "help") == 0 || std::strcmp(word, "--help") == 0 ||
           std::strcmp(word, "-h") == 0;
}

int run_cli(int argc, char** argv) {
    const std::string name = argv[1];
    if (name == "help" || name == "--help" || name == "-h") {
        std::cout << "usage: paramscope [MODEL] [--prompt T] [--view NAME] [--size WxH] "
                     "[--screenshot FILE.png]\n"
                     "         opens the app (no MODEL: the bundled stories sample);\n"
                     "         --screenshot renders offscreen, writes the PNG and exits\n"
                     "       paramscope COMMAND [options]   runs headless, prints JSON\n"
                     "       paramscope COMMAND --help\n\ncommands:\n";
        for (const cli::CommandSpec& spec : cli::commands()) {
            // The summary's first clause is enough for the overview; COMMAND --help has all.
            const std::string first = spec.summary.substr(0, spec.summary.find_first_of(":.("));
            std::cout << "  " << spec.name
                      << std::string(10 - std::min<size_t>(9, spec.name.size()), ' ') << first
                      << "\n";
        }
        return 0;
    }
    for (const cli::CommandSpec& spec : cli::commands()) {
        if (spec.name != name) continue;
        try {
            cli::Args args(spec, argc, argv);
            if (args.help()) {
                std::cout << cli::help_text(spec);
                return 0;
            }
            return cli::dispatch(name, args);
        } catch (const std::exception& e) {
            std::fprintf(stderr, "error: %s\n", e.what());
            return 1;
        }
    }
    return 1;
}

}  // namespace ps
