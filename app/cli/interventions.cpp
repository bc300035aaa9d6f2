// --intervene SPEC and paramscope importance (README "Interventions").
#include "app/cli/interventions.h"

#include <iostream>
#include <string>

#include "app/cli/commands.h"
#include "core/analysis/importance.h"
#include "core/analysis/sweep.h"
#include "core/error.h"
#include "core/model/weight_edit.h"

namespace ps::cli {

using nlohmann::json;

std::vector<OptionSpec> intervention_options() {
    return {{"intervene", "SPEC",
             "change the run (repeatable, applied in order): ablate:blocks.L.attn.hook_z:H[@P], "
             "ablate:blocks.L.mlp.hook_post:N[@P], mean-ablate:..., scale:...=F, "
             "ablate:blocks.L.hook_attn_out[@P], ablate:blocks.L.hook_mlp_out[@P], "
             "patch:blocks.L.hook_resid_pre[@P], steer:blocks.L.hook_resid_pre=ALPHA[@P], "
             "weight:TENSOR=F, weight:TENSOR[i,j]=V"},
            {"source-text", "T", "the source prompt of patch: interventions"},
            {"source-ids", "1,2,3", "the source prompt of patch: interventions, as token ids"},
            {"steer-plus", "T", "steer: the prompt whose stream is added"},
            {"steer-minus", "T", "steer: the prompt whose stream is subtracted"}};
}

namespace {

// A text as the prompt's tokens would be: with BOS when the model (or --bos) asks for it.
std::vector<int> tokens_of(const Model& model, const Args& args, const std::string& text) {
    const Tokenizer& tok = *model.tokenizer;
    std::vector<int> ids = tok.encode(text);
    const bool bos = args.has("bos") || (tok.add_bos && !args.has("no-bos"));
    if (bos && tok.bos_id >= 0) ids.insert(ids.begin(), tok.bos_id);
    if (ids.empty()) throw Error("'" + text + "' has no tokens");
    return ids;
}

// The one token --target TEXT names; `alternative` is the option that takes ids instead.
int one_token(const Model& model, const std::string& text, const char* alternative) {
    const std::vector<int> t = model.tokenizer->encode(text);
    if (t.size() != 1)
        throw Error("--target '" + text + "' is " + std::to_string(t.size()) +
                    " tokens; give one token (or " + alternative + ")");
    return t[0];
}

}  // namespace

Intervened open_intervened(const Args& args) {
    std::shared_ptr<const Model> model = open_model(args);
    std::vector<WeightEdit> edits;
    Intervened out;
    for (const std::string& spec : args.all("intervene")) {
        if (is_weight_edit(spec)) {
            edits.push_back(parse_weight_edit(spec, *model));
            continue;
        }
        Intervention iv = parse_intervention(spec, model->config);
        if (iv.action == Intervention::Action::Patch) {
            if (args.has("source-text") == args.has("source-ids"))
                throw Error("--intervene '" + spec +
                            "': a patch needs exactly one of --source-text T or --source-ids");
            const std::vector<int> source = args.has("source-ids")
                                                ? args.ids("source-ids")
                                                : tokens_of(*model, args, args.str("source-text"));
            set_patch_source(
                *model, iv, source,
                args.has("source-ids") ? args.str("source-ids") : args.str("source-text"));
        }
        if (iv.action == Intervention::Action::Steer) {
            if (!args.has("steer-plus") || !args.has("steer-minus"))
                throw Error("--intervene '" + spec + "': steering needs --steer-plus T and " +
                            "--steer-minus T");
            const std::string plus = args.str("steer-plus"), minus = args.str("steer-minus");
            set_steering(*model, iv, tokens_of(*model, args, plus), tokens_of(*model, args, minus),
                         "\"" + plus + "\" - \"" + minus + "\"");
        }
        out.interventions.push_back(iv);
    }
    out.model = edits.empty() ? model : edit_weights(model, edits);
    return out;
}

CommandSpec importance_spec() {
    std::vector<OptionSpec> o = prompt_options();
    for (const OptionSpec& i : intervention_options()) o.push_back(i);
    o.push_back({"target", "TEXT", "the token whose probability is measured (one token)"});
    o.push_back({"target-id", "ID", "the same as a token id (default: the model's top token)"});
    return {"importance", "MODEL (--text T | --ids ...) [--target TEXT | --target-id ID]",
            "Which heads matter for the next token: each head's z zeroed at every position in "
            "turn, {\"heads\": [[delta p per head] per layer], \"baseline_p\", \"target_id\", "
            "\"target_piece\"}, delta p = baseline p(target) - p(target) with the head ablated, "
            "at the last position.",
            o, "paramscope importance stories260K.bin --text \"Lily and Ben. Lily\" --json"};
}

int cmd_importance(const Args& args) {
    const Intervened run = open_intervened(args);
    const Model& model = *run.model;
    const std::vector<int> ids = prompt_ids(model, args);
    if (args.has("target") && args.has("target-id"))
        throw Error("give at most one of --target TEXT and --target-id ID");
    int target = args.integer("target-id", -1);
    if (args.has("target-id") && (target < 0 || target >= model.config.vocab_size))
        throw Error("--target-id " + args.str("target-id") + " is outside the vocabulary (0.." +
                    std::to_string(model.config.vocab_size - 1) + ")");
    if (args.has("target")) target = one_token(model, args.str("target"), "--target-id");
    const HeadImportance hi = head_importance(model, ids, target, run.interventions);
    json heads = json::array();
    for (const std::vector<float>& layer : hi.delta) heads.push_back(layer);
    std::cout << dump({{"ids", ids},
                       {"target_id", hi.target_id},
                       {"target_piece", model.tokenizer->piece(hi.target_id)},
                       {"baseline_p", hi.baseline_p},
                       {"heads", heads}})
              << "\n";
    return 0;
}

CommandSpec sweep_spec() {
    std::vector<OptionSpec> o = prompt_options();
    for (const OptionSpec& i : intervention_options()) o.push_back(i);
    o.push_back({"component", "UNIT",
                 "what is scaled: blocks.L.attn.hook_z:H, blocks.L.mlp.hook_post:N, "
                 "blocks.L.hook_attn_out or blocks.L.hook_mlp_out, each with an optional @P"});
    o.push_back({"from", "F", "the first factor (default 0)"});
    o.push_back({"to", "F", "the last factor (default 2)"});
    o.push_back({"steps", "N", "how many factors, evenly spaced (default 9)"});
    o.push_back({"target", "TEXT", "a token to follow (one token; repeatable)"});
    o.push_back({"target-ids", "1,2,3", "tokens to follow, as ids (default: the top three)"});
    return {"sweep", "MODEL (--text T | --ids ...) --component UNIT [--from F --to F --steps N]",
            "Scale one component by each factor and follow the probability of a few next tokens "
            "at the last position: {\"component\", \"factors\", \"targets\": [{\"id\", "
            "\"piece\", \"p\": [per factor]}]}; the other --intervene changes stay on.",
            o,
            "paramscope sweep stories260K.bin --text \"Lily and Ben. Lily\" --component "
            "blocks.1.attn.hook_z:6 --json"};
}

int cmd_sweep(const Args& args) {
    const Intervened run = open_intervened(args);
    const Model& model = *run.model;
    const std::vector<int> ids = prompt_ids(model, args);
    if (!args.has("component"))
        throw Error("--component UNIT is required (e.g. blocks.1.attn.hook_z:6)");
    const std::string unit = args.str("component");
    const Intervention component = parse_intervention("ablate:" + unit, model.config);
    const std::vector<float> factors = factor_range(
        float(args.number("from", 0.0)), float(args.number("to", 2.0)), args.integer("steps", 9));
    std::vector<int> targets = args.has("target-ids") ? args.ids("target-ids") : std::vector<int>{};
    for (const std::string& text : args.all("target"))
        targets.push_back(one_token(model, text, "--target-ids"));
    const ScaleSweep sw = scale_sweep(model, ids, component, factors, targets, run.interventions);
    json followed = json::array();
    for (size_t t = 0; t < sw.targets.size(); ++t)
        followed.push_back({{"id", sw.targets[t]},
                            {"piece", model.tokenizer->piece(sw.targets[t])},
                            {"p", sw.p[t]}});
    std::cout
        << dump({{"ids", ids}, {"component", unit}, {"factors", sw.factors}, {"targets", followed}})
        << "\n";
    return 0;
}

}  // namespace ps::cli
