// paramscope info: configuration and parameter inventory.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "app/cli/commands.h"

namespace ps::cli {

using nlohmann::json;

static json totals_json(const KindTotals& t) {
    return {
        {"total", t.total()},
        {"by_kind",
         {{"embedding", t.embedding}, {"weight", t.weight}, {"bias", t.bias}, {"norm", t.norm}}}};
}

// How the model holds its weights: the file's types, and whether the non-f32 matrices are kept
// as stored (compact) or were widened to f32 at load (--f32-weights).
struct WeightStorage {
    std::string dtypes;  // "F16", "F32 + Q8_0" ...
    bool compact = false;
    double compact_mb = 0;  // matrices read in the file's encoding
    double f32_mb = 0;      // f32 values, in place from the file or widened
    double resident_mb() const { return compact_mb + f32_mb; }
    std::string text() const;
};

static WeightStorage weight_storage(const Model& model) {
    WeightStorage w;
    std::vector<DType> seen;
    for (const TensorInfo& t : model.tensors) {
        if (std::find(seen.begin(), seen.end(), t.dtype) == seen.end()) seen.push_back(t.dtype);
        w.compact = w.compact || t.raw;
        (t.raw ? w.compact_mb : w.f32_mb) +=
            (t.raw ? double(t.bytes) : 4.0 * double(t.count)) / (1024.0 * 1024.0);
    }
    for (DType d : seen) w.dtypes += (w.dtypes.empty() ? "" : " + ") + std::string(dtype_name(d));
    return w;
}

std::string WeightStorage::text() const {
    char buf[256];
    const bool all_f32 = dtypes == "F32";
    if (compact)
        std::snprintf(buf, sizeof buf,
                      "%s, kept as stored (%.1f MB as stored + %.1f MB of f32 = %.1f MB resident)",
                      dtypes.c_str(), compact_mb, f32_mb, resident_mb());
    else
        std::snprintf(buf, sizeof buf, "%s, %s (%.1f MB resident)", dtypes.c_str(),
                      all_f32 ? "used as f32" : "widened to f32 (--f32-weights)", resident_mb());
    return buf;
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
    const WeightStorage storage = weight_storage(model);
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
            {"weights",
             {{"dtypes", storage.dtypes},
              {"compact", storage.compact},
              {"compact_mb", storage.compact_mb},
              {"f32_mb", storage.f32_mb},
              {"resident_mb", storage.resident_mb()}}},
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
        "  parameters: %lld total = %lld embedding + %lld weight + %lld bias + %lld norm%s\n",
        model.name.c_str(), arch_name(c.arch), model.format.c_str(), c.dim, c.hidden_dim,
        c.n_layers, c.n_heads, c.n_kv_heads, c.vocab_size, c.context_length,
        static_cast<long long>(t.total()), static_cast<long long>(t.embedding),
        static_cast<long long>(t.weight), static_cast<long long>(t.bias),
        static_cast<long long>(t.norm),
        c.tied_embeddings ? " (unembedding tied, counted once)" : "");
    s += buf;
    s += "  weights: " + weight_storage(model).text() + "\n\n";
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
