// paramscope info: configuration and parameter inventory.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "app/cli/commands.h"
#include "core/analysis/param_stats.h"

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

// Tensors, parameters and bytes in the file, per stored type, in order of first appearance.
struct DTypeStorage {
    DType dtype;
    int tensors = 0;
    int64_t parameters = 0, bytes = 0;
};

static std::vector<DTypeStorage> storage_per_dtype(const Model& model) {
    std::vector<DTypeStorage> out;
    for (const TensorInfo& t : model.tensors) {
        auto it = std::find_if(out.begin(), out.end(),
                               [&](const DTypeStorage& d) { return d.dtype == t.dtype; });
        if (it == out.end()) it = out.insert(out.end(), DTypeStorage{t.dtype});
        ++it->tensors;
        it->parameters += t.count;
        it->bytes += t.bytes;
    }
    return out;
}

// The architecture's count formula, and whether the tensors hold that many parameters.
static std::string formula_text(const Model& model) {
    const ParameterFormula f = parameter_formula(model);
    const int64_t counted = model.totals().total();
    return f.formula + " = " + f.substituted + " = " + std::to_string(f.value) +
           (f.value == counted ? " (equals the tensors' count)"
                               : " (but the tensors hold " + std::to_string(counted) + ")");
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
    if (c.rotary()) {
        config["rope_theta"] = c.rope_theta;
        config["rope_style"] = c.rope_style == RopeStyle::Interleaved ? "interleaved" : "half";
        config["rotary_dims"] = c.rotary_dims();
        const char* scaling[] = {"none", "linear", "llama3"};
        config["rope_scaling"] = {{"type", scaling[static_cast<int>(c.rope_scaling.type)]},
                                  {"factor", c.rope_scaling.factor}};
        if (model.weights.rope_freq_factors) config["rope_freq_factors"] = true;
        if (c.rope_theta_sliding > 0) config["rope_theta_sliding"] = c.rope_theta_sliding;
    }
    config["q_dim"] = c.q_dim();
    if (c.sliding_window > 0) {
        json layers = json::array();
        for (int l = 0; l < c.n_layers; ++l)
            if (c.window(l) > 0) layers.push_back(l);
        config["sliding_window"] = {{"window", c.sliding_window}, {"layers", layers}};
    }
    if (c.attn_scale > 0) config["attn_scale"] = c.attn_scale;
    if (c.norm_offset != 0) config["norm_offset"] = c.norm_offset;
    if (c.embed_scale != 1) config["embed_scale"] = c.embed_scale;
    if (c.attn_softcap > 0) config["attn_softcap"] = c.attn_softcap;
    if (c.final_softcap > 0) config["final_softcap"] = c.final_softcap;
    json parameters = totals_json(model.totals());
    const ParameterFormula f = parameter_formula(model);
    parameters["formula"] = {{"formula", f.formula},
                             {"substituted", f.substituted},
                             {"value", f.value},
                             {"matches_tensors", f.value == model.totals().total()}};
    json per_dtype = json::array();
    for (const DTypeStorage& d : storage_per_dtype(model))
        per_dtype.push_back({{"dtype", dtype_name(d.dtype)},
                             {"tensors", d.tensors},
                             {"parameters", d.parameters},
                             {"bytes", d.bytes}});
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
              {"add_bos", tok.add_bos},
              {"chat_template",
               tok.chat_template.empty() ? json(nullptr) : json(tok.chat_template.text)},
              {"chat_template_source", tok.chat_template.source}}},
            {"parameters", parameters},
            {"weights",
             {{"dtypes", storage.dtypes},
              {"per_dtype", per_dtype},
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
    s += "  count: " + formula_text(model) + "\n";
    if (c.head_dim() * c.n_heads != c.dim || c.sliding_window > 0 || c.rope_dims > 0) {
        std::snprintf(buf, sizeof buf, "  head_dim %d (queries %d wide)", c.head_dim(), c.q_dim());
        s += buf;
        if (c.rope_dims > 0) s += ", RoPE on " + std::to_string(c.rope_dims) + " dims";
        if (c.sliding_window > 0) {
            int sliding = 0;
            for (int l = 0; l < c.n_layers; ++l) sliding += c.window(l) > 0;
            s += ", sliding window " + std::to_string(c.sliding_window) + " on " +
                 std::to_string(sliding) + " of " + std::to_string(c.n_layers) + " layers";
        }
        s += "\n";
    }
    s += "  weights: " + weight_storage(model).text() + "\n";
    const ChatTemplate& chat = model.tokenizer->chat_template;
    if (chat.empty()) {
        s += "  chat template: none\n";
    } else {
        const long lines = 1 + std::count(chat.text.begin(), chat.text.end(), '\n');
        s += "  chat template: " + chat.source + " (" + std::to_string(lines) +
             " lines; --json shows it, --chat uses it)\n";
    }
    for (const DTypeStorage& d : storage_per_dtype(model)) {
        std::snprintf(buf, sizeof buf, "    %-6s %5d tensors %14lld parameters %10.2f MB\n",
                      dtype_name(d.dtype), d.tensors, static_cast<long long>(d.parameters),
                      double(d.bytes) / (1024.0 * 1024.0));
        s += buf;
    }
    s += "\n";
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
