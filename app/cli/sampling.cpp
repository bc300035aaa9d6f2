// paramscope generate and paramscope dist: the sampling step from the command line.
#include <iostream>
#include <string>

#include "app/cli/chain_options.h"
#include "app/cli/commands.h"
#include "app/cli/interventions.h"
#include "core/analysis/intervention_effect.h"
#include "core/error.h"
#include "core/model/forward.h"
#include "core/sampling/generate.h"
#include "core/sampling/sampling.h"

namespace ps::cli {

using nlohmann::json;

namespace {

std::vector<OptionSpec> sampling_options() {
    std::vector<OptionSpec> o = prompt_options();
    o.push_back({"temperature", "X", "temperature, 0 = greedy (default 1)"});
    o.push_back({"top-k", "K", "keep the K most probable tokens, 0 = off (default 0)"});
    o.push_back({"top-p", "P", "keep the smallest set reaching probability P (default 1 = off)"});
    o.push_back({"min-p", "M", "keep tokens with p >= M x the top p (default 0 = off)"});
    o.push_back(
        {"order", "hf|llamacpp", "hf: temperature first; llamacpp: filters first (default hf)"});
    for (const OptionSpec& c : chain_options()) o.push_back(c);
    for (const OptionSpec& i : intervention_options()) o.push_back(i);
    return o;
}

SamplingSettings settings_from(const Args& args) {
    SamplingSettings s;
    s.temperature = static_cast<float>(args.number("temperature", 1.0));
    s.top_k = args.integer("top-k", 0);
    s.top_p = static_cast<float>(args.number("top-p", 1.0));
    s.min_p = static_cast<float>(args.number("min-p", 0.0));
    const std::string order = args.str("order", "hf");
    if (order == "hf")
        s.order = SamplingOrder::HuggingFace;
    else if (order == "llamacpp")
        s.order = SamplingOrder::LlamaCpp;
    else
        throw Error("--order must be 'hf' or 'llamacpp', got '" + order + "'");
    if (!(s.temperature >= 0.0f && s.temperature <= 100.0f))
        throw Error("--temperature must be in [0, 100]");
    if (s.top_k < 0) throw Error("--top-k must be >= 0");
    if (!(s.top_p >= 0.0f && s.top_p <= 1.0f)) throw Error("--top-p must be in [0, 1]");
    if (!(s.min_p >= 0.0f && s.min_p <= 1.0f)) throw Error("--min-p must be in [0, 1]");
    return s;
}

}  // namespace

CommandSpec generate_spec() {
    std::vector<OptionSpec> o = sampling_options();
    o.push_back({"steps", "N", "tokens to generate (default 32)"});
    o.push_back({"seed", "S", "random seed (default 42)"});
    return {"generate", "MODEL --text T --steps N [--temperature X] [--seed S] [sampling options]",
            "Continues the prompt: {\"ids\": prompt + continuation, \"text\": decoded text}. Stops "
            "early at the end-of-text token.",
            o,
            "paramscope generate stories260K.bin --text \"Once upon a time\" --steps 60 "
            "--temperature 0"};
}

int cmd_generate(const Args& args) {
    const Intervened run = open_intervened(args);
    const Model* model = run.model.get();
    std::vector<int> ids = prompt_ids(*model, args);
    const SamplingSettings settings = settings_from(args);
    const int steps = args.integer("steps", 32);
    if (steps < 0) throw Error("--steps must be >= 0");
    const uint64_t seed = args.u64("seed", 42);
    Sampler sampler(seed);
    GenerateOptions options;
    options.steps = steps;
    options.top_n = 0;
    options.interventions = run.interventions;
    const std::optional<ChainSettings> chain = chain_from(args, *model);
    ChainRandom random(seed);
    const Generation g = chain ? generate_tokens(*model, ids, *chain, random, sampler, options)
                               : generate_tokens(*model, ids, settings, sampler, options);
    for (int id : g.continuation()) ids.push_back(id);
    std::cout << dump(json{{"ids", ids}, {"text", model->tokenizer->decode(ids)}}) << "\n";
    return 0;
}

CommandSpec dist_spec() {
    std::vector<OptionSpec> o = sampling_options();
    o.push_back({"position", "P", "the position whose next token is shown (default: the last)"});
    o.push_back(
        {"all", "", "list every token of the vocabulary (default: the 1000 most probable)"});
    o.push_back({"seed", "S", "the seed of the chain's draws (XTC; default 42)"});
    return {
        "dist", "MODEL (--text T | --ids ...) [--position P] [sampling options] [--all]",
        "The next-token distribution before and after the sampling controls: {\"position\", "
        "\"tokens\": [{\"id\", \"piece\", \"logit\", \"p_raw\", \"p_final\", \"removed_by\"}], "
        "\"entropy_raw_bits\", \"entropy_final_bits\", \"kept\"}, tokens by raw probability; "
        "with --chain or --preset, removed_by names the stage, and --stages adds \"stages\": "
        "[{\"name\", \"kept\", \"kept_mass\", \"entropy_bits\", \"removed\", \"changed\"}].",
        o,
        "paramscope dist stories260K.bin --text \"Once upon a time\" --top-k 5 --temperature 0.8"};
}

int cmd_dist(const Args& args) {
    const Intervened run = open_intervened(args);
    const Model* model = run.model.get();
    std::vector<int> ids = prompt_ids(*model, args);
    const SamplingSettings settings = settings_from(args);
    const int T = static_cast<int>(ids.size());
    const int position = args.integer("position", T - 1);
    if (position < 0 || position >= T)
        throw Error("--position must be in 0.." + std::to_string(T - 1) + ", got " +
                    std::to_string(position));
    ids.resize(static_cast<size_t>(position) + 1);  // later tokens can't influence this position
    Trace trace = forward(*model, ids, TraceOptions::none(), nullptr, run.interventions);
    const int vocab = model->config.vocab_size;
    const float* logits = trace.logits.data();
    const std::optional<ChainSettings> chain = chain_from(args, *model);
    if (args.has("stages") && !chain) throw Error("--stages needs --chain STAGES or --preset");
    Distribution d = apply_sampling(logits, vocab, chain ? SamplingSettings{} : settings);
    std::vector<std::string> removed_by(static_cast<size_t>(vocab));
    json stages = json::array();
    if (chain) {
        // The tokens by raw probability as always; p_final, kept and removed_by the chain's.
        ChainRandom random(args.u64("seed", 42));
        const ChainResult r = apply_chain(logits, vocab, ids, *chain, random);
        for (const StageResult& st : r.stages) {
            for (int id : st.removed) removed_by[size_t(id)] = stage_name(st.stage);
            stages.push_back({{"name", stage_name(st.stage)},
                              {"kept", st.kept},
                              {"kept_mass", st.kept_mass},
                              {"entropy_bits", st.entropy_bits},
                              {"removed", st.removed},
                              {"changed", st.changed}});
        }
        for (int v = 0; v < vocab; ++v) {
            d.p_final[size_t(v)] = r.p_final[size_t(v)];
            if (r.p_final[size_t(v)] == 0.0f && removed_by[size_t(v)].empty())
                removed_by[size_t(v)] = "masked";  // a -inf logit
        }
        d.entropy_final_bits = r.entropy_final_bits;
        d.kept = static_cast<int>(r.ranked.size());
    } else {
        for (int v = 0; v < vocab; ++v)
            if (const char* name = removed_by_name(d.removed_by[size_t(v)]))
                removed_by[size_t(v)] = name;
    }
    const size_t n = args.has("all") ? d.ranked.size() : std::min<size_t>(1000, d.ranked.size());
    std::string out = "{\"position\":" + std::to_string(position) + ",\"tokens\":[";
    for (size_t i = 0; i < n; ++i) {
        const int id = d.ranked[i];
        const std::string& removed = removed_by[static_cast<size_t>(id)];
        out += i ? ",{" : "{";
        out += "\"id\":" + std::to_string(id) + ",\"piece\":" + dump(model->tokenizer->piece(id)) +
               ",\"logit\":";
        append_float(out, logits[id]);
        out += ",\"p_raw\":";
        append_float(out, d.p_raw[static_cast<size_t>(id)]);
        out += ",\"p_final\":";
        append_float(out, d.p_final[static_cast<size_t>(id)]);
        out += std::string(",\"removed_by\":") +
               (removed.empty() ? "null" : "\"" + removed + "\"") + "}";
    }
    out += "],\"entropy_raw_bits\":" + json(d.entropy_raw_bits).dump() +
           ",\"entropy_final_bits\":" + json(d.entropy_final_bits).dump() +
           ",\"kept\":" + std::to_string(d.kept);
    if (args.has("stages")) out += ",\"stages\":" + stages.dump();
    if (!run.interventions.empty() || model->edited_from) {
        // The same position without the changes: what the interventions did to it.
        const Model& plain = model->edited_from ? *model->edited_from : *model;
        const Trace before = forward(plain, ids, TraceOptions::none());
        const InterventionEffect e = intervention_effect(before.logits.data(), logits, vocab, 10);
        json changes = json::array();
        for (const TokenChange& t : e.top)
            changes.push_back({{"id", t.id},
                               {"piece", model->tokenizer->piece(t.id)},
                               {"p_before", t.p_before},
                               {"p_after", t.p_after}});
        out += ",\"intervention\":" + dump(json{{"kl_divergence", e.kl_divergence},
                                                {"argmax_before", e.argmax_before},
                                                {"argmax_after", e.argmax_after},
                                                {"changes", changes}});
    }
    out += "}\n";
    std::cout << out;
    return 0;
}

}  // namespace ps::cli
