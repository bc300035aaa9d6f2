// paramscope trace: every captured activation, as a safetensors file named by hook.
#include <iostream>

#include "app/cli/commands.h"
#include "app/cli/interventions.h"
#include "core/error.h"
#include "core/formats/trace_file.h"
#include "core/model/forward.h"

namespace ps::cli {

CommandSpec trace_spec() {
    std::vector<OptionSpec> o = prompt_options();
    o.push_back({"out", "FILE", "the safetensors file to write (required)"});
    for (const OptionSpec& i : intervention_options()) o.push_back(i);
    return {"trace", "MODEL (--text T | --ids ...) --out FILE.safetensors",
            "Runs the prompt and writes every activation under its TransformerLens hook name "
            "(hook_embed, blocks.L.hook_resid_pre, blocks.L.attn.hook_pattern [heads, T, T], "
            "blocks.L.hook_attn_out, blocks.L.mlp.hook_post, blocks.L.hook_mlp_out, "
            "blocks.L.hook_resid_post, ln_final.hook_normalized, logits) as F32. Prints a JSON "
            "summary {\"out\", \"ids\", \"tensors\": [{\"name\", \"shape\"}]}.",
            o,
            "paramscope trace stories260K.bin --text \"Once upon a time\" --out trace.safetensors"};
}

int cmd_trace(const Args& args) {
    if (!args.has("out")) throw Error("trace needs --out FILE.safetensors");
    const Intervened run = open_intervened(args);
    const Model* model = run.model.get();
    std::vector<int> ids = prompt_ids(*model, args);
    Trace trace = forward(*model, ids, TraceOptions(), nullptr, run.interventions);
    nlohmann::json listing = nlohmann::json::array();
    for (const WrittenTensor& t : write_trace_safetensors(args.str("out"), *model, trace))
        listing.push_back({{"name", t.name}, {"shape", t.shape}});
    std::cout << dump({{"out", args.str("out")}, {"ids", ids}, {"tensors", listing}}) << "\n";
    return 0;
}

}  // namespace ps::cli
