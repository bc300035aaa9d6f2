// --chain, --preset and the stage options (app/cli/chain_options.h).
#include "app/cli/chain_options.h"

#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "core/error.h"
#include "core/model/model.h"

namespace ps::cli {

namespace {

// The options that only a chain reads.
const char* const kStageOptions[] = {"repeat-penalty",     "frequency-penalty",  "presence-penalty",
                                     "penalty-last-n",     "dry-multiplier",     "dry-base",
                                     "dry-allowed-length", "dry-penalty-last-n", "dry-breakers",
                                     "top-n-sigma",        "typical-p",          "xtc-probability",
                                     "xtc-threshold"};

}  // namespace

std::vector<OptionSpec> chain_options() {
    return {
        {"chain", "STAGES",
         "the sampler chain in order, e.g. penalties,dry,top_n_sigma,top_k,typical,top_p,min_p,"
         "xtc,temperature"},
        {"preset", "llamacpp|hf",
         "llama.cpp's default chain or Hugging Face generate's, with their default values"},
        {"repeat-penalty", "R", "penalties: divide positive, multiply negative logits (1 = off)"},
        {"frequency-penalty", "F", "penalties: logit -= count x F (0 = off)"},
        {"presence-penalty", "P", "penalties: logit -= P once seen (0 = off)"},
        {"penalty-last-n", "N", "penalties: the last N tokens (llama.cpp; default 64, 0 = off)"},
        {"dry-multiplier", "M", "dry: the penalty's scale (0 = off)"},
        {"dry-base", "B", "dry: the penalty's growth per extra repeated token (>= 1, 1.75)"},
        {"dry-allowed-length", "L", "dry: repeats up to L tokens go free (default 2)"},
        {"dry-penalty-last-n", "N", "dry: scan the last N tokens (default 64)"},
        {"dry-breakers", "JSON",
         "dry: sequence breakers as a JSON list of strings "
         "(default [\"\\n\", \":\", \"\\\"\", \"*\"])"},
        {"top-n-sigma", "N", "keep logits >= max - N std (<= 0 = off)"},
        {"typical-p", "P", "locally typical sampling's mass (1 = off)"},
        {"xtc-probability", "P", "xtc: the chance of excluding the top choices (0 = off)"},
        {"xtc-threshold", "T", "xtc: tokens with p >= T are top choices (default 0.1)"},
        {"stages", "", "dist: each stage's survivors, entropy and removed tokens"}};
}

std::optional<ChainSettings> chain_from(const Args& args, const Model& model) {
    if (!args.has("chain") && !args.has("preset")) {
        for (const char* option : kStageOptions)
            if (args.has(option))
                throw Error(std::string("--") + option +
                            " is a sampler-chain setting: give --chain STAGES or --preset "
                            "llamacpp|hf with it");
        return std::nullopt;
    }
    ChainSettings s;
    const std::string preset = args.str("preset", "llamacpp");
    if (preset == "llamacpp")
        s = llamacpp_chain();
    else if (preset == "hf")
        s = huggingface_chain();
    else
        throw Error("--preset must be 'llamacpp' or 'hf', got '" + preset + "'");
    if (args.has("chain")) {
        s.stages.clear();
        std::stringstream list(args.str("chain"));
        for (std::string name; std::getline(list, name, ',');)
            if (!name.empty()) s.stages.push_back(parse_stage(name));
    }
    auto f = [&](const char* name, float& v) { v = static_cast<float>(args.number(name, v)); };
    auto i = [&](const char* name, int& v) { v = args.integer(name, v); };
    f("repeat-penalty", s.repeat_penalty);
    f("frequency-penalty", s.frequency_penalty);
    f("presence-penalty", s.presence_penalty);
    i("penalty-last-n", s.penalty_last_n);
    f("dry-multiplier", s.dry_multiplier);
    f("dry-base", s.dry_base);
    i("dry-allowed-length", s.dry_allowed_length);
    i("dry-penalty-last-n", s.dry_penalty_last_n);
    f("top-n-sigma", s.top_n_sigma);
    f("typical-p", s.typical_p);
    f("xtc-probability", s.xtc_probability);
    f("xtc-threshold", s.xtc_threshold);
    f("temperature", s.temperature);
    i("top-k", s.top_k);
    f("top-p", s.top_p);
    f("min-p", s.min_p);
    check_chain(s);
    // DRY's breakers, as token sequences of this model's vocabulary (only when DRY can act).
    bool dry = false;
    for (Stage st : s.stages) dry |= st == Stage::Dry;
    if (dry && s.dry_multiplier != 0.0f) {
        std::vector<std::string> breakers = {"\n", ":", "\"", "*"};
        if (args.has("dry-breakers")) {
            const nlohmann::json list =
                nlohmann::json::parse(args.str("dry-breakers"), nullptr, false);
            if (!list.is_array())
                throw Error("--dry-breakers must be a JSON list of strings, e.g. [\"\\n\", \":\"]");
            breakers.clear();
            for (const auto& b : list) {
                if (!b.is_string()) throw Error("--dry-breakers: every breaker must be a string");
                breakers.push_back(b.get<std::string>());
            }
        }
        s.dry_breakers = dry_breakers_from_text(*model.tokenizer, breakers);
    }
    return s;
}

}  // namespace ps::cli
