// paramscope info: configuration and parameter inventory.
#include <cstdio>
#include <string>

#include "app/cli_commands.h"

namespace ps::cli {

using nlohmann::json;

static json totals_json(const KindTotals& t) {
    return {
        {"total", t.total()},
        {"by_kind",
         {{"embedding", t.embedding}, {"weight", t.weight}, {"bias", t.bias}, {"norm", t.norm}}}};
}

json model_info_json(const Model& model) {
    const Config& c = model.config;
    json config{{"dim", c.dim},
                {"hidden_dim", c.hidden_dim},
                {"n_layers", c.n_layers},
                {"n_heads", c.n_heads},
                {"n_kv_heads", c.n_kv_heads},
                {"head_dim", c.head_dim()},
                {"vocab_size", c.vocab_size},
                {"context_length", c.context_length},
                {"norm_eps", c.norm_eps},
                {"tied_embeddings", c.tied_embeddings}};
    if (c.arch == Arch::Llama) {
        config["rope_theta"] = c.rope_theta;
        config["rope_style"] = c.rope_style == RopeStyle::Interleaved ? "interleaved" : "half";
    }
    json parameters = totals_json(model.totals());
    json per_layer = json::array();
    for (const KindTotals& t : model.totals_per_layer()) per_layer.push_back(totals_json(t));
    parameters["by_layer"] = per_layer;
    json tensors = json::array();
    for (const TensorInfo& t : model.tensors)
        tensors.push_back({{"name", t.name},
                           {"shape", t.shape},
                           {"dtype", dtype_name(t.dtype)},
                           {"kind", kind_name(t.kind)},
                           {"layer", t.layer},
                           {"count", t.count},
                           {"bytes", t.bytes}});
    const Tokenizer& tok = *model.tokenizer;
    return {{"name", model.name},
            {"path", model.path},
            {"format", model.format},
            {"architecture", arch_name(c.arch)},
            {"config", config},
            {"tokenizer",
             {{"kind", tok.kind()},
              {"vocab_size", tok.vocab_size()},
              {"bos_id", tok.bos_id},
              {"eos_id", tok.eos_id},
              {"add_bos", tok.add_bos}}},
            {"parameters", parameters},
            {"tensors", tensors},
            {"warnings", model.warnings}};
}

std::string model_info_text(const Model& model) {
    const Config& c = model.config;
    const KindTotals t = model.totals();
    char buf[512];
    std::string s;
    std::snprintf(
        buf, sizeof buf,
        "%s (%s, %s)\n  dim %d, MLP %d, %d layers, %d heads (%d key/value), vocab %d, context %d\n"
        "  parameters: %lld total = %lld embedding + %lld weight + %lld bias + %lld norm%s\n\n",
        model.name.c_str(), arch_name(c.arch), model.format.c_str(), c.dim, c.hidden_dim,
        c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.context_length,
        static_cast<long long>(t.total()), static_cast<long long>(t.embedding),
        static_cast<long long>(t.weight), static_cast<long long>(t.bias),
        static_cast<long long>(t.norm),
        c.tied_embeddings ? " (unembedding tied, counted once)" : "");
    s += buf;
    for (const TensorInfo& info : model.tensors) {
        std::string shape;
        for (size_t i = 0; i < info.shape.size(); ++i)
            shape += (i ? " x " : "") + std::to_string(info.shape[i]);
        std::snprintf(buf, sizeof buf, "  %-40s %-16s %-5s %-9s %12lld\n", info.name.c_str(),
                      shape.c_str(), dtype_name(info.dtype), kind_name(info.kind),
                      static_cast<long long>(info.count));
        s += buf;
    }
    return s;
}

}  // namespace ps::cli
