// Reading, applying and sourcing interventions (core/model/intervention.h).
#include "core/model/intervention.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <string>

#include "core/error.h"
#include "core/model/forward.h"

namespace ps {

const char* hook_name(Hook h) {
    switch (h) {
        case Hook::ResidPre:
            return "hook_resid_pre";
        case Hook::AttnZ:
            return "attn.hook_z";
        case Hook::AttnOut:
            return "hook_attn_out";
        case Hook::MlpPost:
            return "mlp.hook_post";
        case Hook::MlpOut:
            return "hook_mlp_out";
    }
    return "?";
}

namespace {

const char* action_word(Intervention::Action a, float factor) {
    switch (a) {
        case Intervention::Action::Scale:
            return factor == 0.0f ? "ablate" : "scale";
        case Intervention::Action::MeanAblate:
            return "mean-ablate";
        case Intervention::Action::Patch:
            return "patch";
        case Intervention::Action::Steer:
            return "steer";
    }
    return "?";
}

std::string number_text(float v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    return std::string(buf, end);
}

}  // namespace

std::string Intervention::spec() const {
    std::string s = std::string(action_word(action, factor)) + ":blocks." + std::to_string(layer) +
                    "." + hook_name(hook);
    if (unit >= 0) s += ":" + std::to_string(unit);
    if (action == Action::Scale && factor != 0.0f) s += "=" + number_text(factor);
    if (action == Action::Steer) s += "=" + number_text(factor);
    if (position >= 0) s += "@" + std::to_string(position);
    return s;
}

std::string Intervention::describe() const {
    std::string what;
    switch (hook) {
        case Hook::AttnZ:
            what = unit >= 0 ? "head " + std::to_string(layer) + "." + std::to_string(unit)
                             : "every head of layer " + std::to_string(layer);
            break;
        case Hook::MlpPost:
            what = unit >= 0 ? "neuron " + std::to_string(layer) + "." + std::to_string(unit)
                             : "every neuron of layer " + std::to_string(layer);
            break;
        case Hook::AttnOut:
            what = "attention of layer " + std::to_string(layer);
            break;
        case Hook::MlpOut:
            what = "MLP of layer " + std::to_string(layer);
            break;
        case Hook::ResidPre:
            what = "stream into layer " + std::to_string(layer);
            break;
    }
    std::string how;
    switch (action) {
        case Action::Scale:
            how = factor == 0.0f ? " ablated" : " x" + number_text(factor);
            break;
        case Action::MeanAblate:
            how = " mean-ablated";
            break;
        case Action::Patch:
            how = " patched from \"" + source + "\"";
            break;
        case Action::Steer:
            how = " steered " + number_text(factor) + " x (" + source + ")";
            break;
    }
    const std::string where =
        position < 0 ? ""
                     : (action == Action::Steer ? " from " : " at ") + std::to_string(position);
    return what + how + where;
}

int Intervention::first_position() const {
    if (action == Action::MeanAblate) return 0;
    return std::max(position, 0);
}

int Intervention::first_column(const Config& c) const {
    if (unit < 0) return 0;
    return hook == Hook::AttnZ ? unit * c.head_dim() : unit;
}

int Intervention::column_count(const Config& c) const {
    if (unit >= 0) return hook == Hook::AttnZ ? c.head_dim() : 1;
    switch (hook) {
        case Hook::AttnZ:
            return c.q_dim();
        case Hook::MlpPost:
            return c.hidden_dim;
        default:
            return c.dim;
    }
}

bool Intervention::same_as(const Intervention& o) const {
    if (action != o.action || hook != o.hook || layer != o.layer || unit != o.unit ||
        position != o.position || factor != o.factor || enabled != o.enabled)
        return false;
    if (values == o.values) return true;
    if (!values || !o.values) return false;
    return values->rows() == o.values->rows() && values->cols() == o.values->cols() &&
           *values == *o.values;
}

namespace {

[[noreturn]] void bad(const std::string& spec, const std::string& why) {
    throw Error("--intervene '" + spec + "': " + why);
}

int whole_number(const std::string& spec, const std::string& text, const char* what) {
    int v = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0)
        bad(spec, std::string("malformed ") + what + " '" + text + "' (expected a whole number)");
    return v;
}

float real_number(const std::string& spec, const std::string& text, const char* what) {
    float v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
        bad(spec, std::string("malformed ") + what + " '" + text + "' (expected a number)");
    return v;
}

void in_range(const std::string& spec, int v, int count, const std::string& what,
              const std::string& of) {
    if (v >= count)
        bad(spec, what + " " + std::to_string(v) + " is out of range (" + of + " has " +
                      std::to_string(count) + ": 0.." + std::to_string(count - 1) + ")");
}

}  // namespace

bool is_weight_edit(const std::string& spec) {
    return spec.rfind("weight:", 0) == 0;
}

Intervention parse_intervention(const std::string& spec, const Config& c) {
    using A = Intervention::Action;
    Intervention iv;
    const size_t colon = spec.find(':');
    const std::string action = spec.substr(0, colon);
    if (action == "ablate" || action == "scale")
        iv.action = A::Scale;
    else if (action == "mean-ablate")
        iv.action = A::MeanAblate;
    else if (action == "patch")
        iv.action = A::Patch;
    else if (action == "steer")
        iv.action = A::Steer;
    else
        bad(spec, "unknown action '" + action +
                      "' (expected ablate, mean-ablate, scale, patch, steer or weight)");
    if (colon == std::string::npos) bad(spec, "no hook after '" + action + ":'");
    std::string rest = spec.substr(colon + 1);
    // "=F" and "@P" may come in either order at the end.
    std::string value, position;
    for (int pass = 0; pass < 2; ++pass) {
        const size_t cut = rest.find_last_of("=@");
        if (cut == std::string::npos) break;
        (rest[cut] == '=' ? value : position) = rest.substr(cut + 1);
        rest.erase(cut);
    }
    if (!position.empty()) {
        iv.position = whole_number(spec, position, "position");
        in_range(spec, iv.position, c.context_length, "position", "the context window");
    }
    // blocks.L.<hook>[:UNIT]
    if (rest.rfind("blocks.", 0) != 0)
        bad(spec,
            "the hook '" + rest + "' should start with blocks.L. (e.g. blocks.0.attn.hook_z)");
    const size_t dot = rest.find('.', 7);
    if (dot == std::string::npos) bad(spec, "no hook name after '" + rest + "'");
    iv.layer = whole_number(spec, rest.substr(7, dot - 7), "layer");
    in_range(spec, iv.layer, c.n_layers, "layer", "the model");
    std::string hook = rest.substr(dot + 1), unit;
    if (const size_t u = hook.find(':'); u != std::string::npos) {
        unit = hook.substr(u + 1);
        hook.erase(u);
    }
    const Hook hooks[] = {Hook::ResidPre, Hook::AttnZ, Hook::AttnOut, Hook::MlpPost, Hook::MlpOut};
    bool known = false;
    for (Hook h : hooks)
        if (hook == hook_name(h)) iv.hook = h, known = true;
    if (!known)
        bad(spec, "unknown hook '" + hook +
                      "' (expected hook_resid_pre, attn.hook_z, hook_attn_out, mlp.hook_post or "
                      "hook_mlp_out)");
    if (!unit.empty()) {
        if (iv.hook != Hook::AttnZ && iv.hook != Hook::MlpPost)
            bad(spec, std::string(hook_name(iv.hook)) + " has no heads or neurons to choose ('" +
                          unit + "')");
        iv.unit = whole_number(spec, unit, iv.hook == Hook::AttnZ ? "head" : "neuron");
        if (iv.hook == Hook::AttnZ)
            in_range(spec, iv.unit, c.n_heads, "head", "the layer");
        else
            in_range(spec, iv.unit, c.hidden_dim, "neuron", "the layer");
    }
    if (action == "scale") {
        if (value.empty()) bad(spec, "scale needs a factor: ...=F");
        iv.factor = real_number(spec, value, "factor");
    } else if (iv.action == A::Steer) {
        if (iv.hook != Hook::ResidPre) bad(spec, "steer acts on hook_resid_pre only");
        if (value.empty()) bad(spec, "steer needs a strength: ...=ALPHA");
        iv.factor = real_number(spec, value, "strength");
    } else if (!value.empty()) {
        bad(spec, action + " takes no '=" + value + "'");
    }
    return iv;
}

bool acts_at(const Interventions& list, Hook hook, int layer) {
    for (const Intervention& iv : list)
        if (iv.enabled && iv.hook == hook && iv.layer == layer) return true;
    return false;
}

void apply_interventions(const Interventions& list, Hook hook, int layer, int start,
                         Eigen::Ref<MatrixRM> x, const Config& c) {
    using A = Intervention::Action;
    const int rows = static_cast<int>(x.rows());
    for (const Intervention& iv : list) {
        if (!iv.enabled || iv.hook != hook || iv.layer != layer) continue;
        const int c0 = iv.first_column(c), n = iv.column_count(c);
        // The rows it acts on: one position, every position, or (Steer) from one position on.
        int lo = 0, hi = rows;
        if (iv.action == A::Steer) {
            lo = std::clamp(iv.first_position() - start, 0, rows);
        } else if (iv.position >= 0) {
            lo = std::clamp(iv.position - start, 0, rows);
            hi = iv.position >= start && iv.position < start + rows ? lo + 1 : lo;
        }
        auto block = x.block(lo, c0, hi - lo, n);
        switch (iv.action) {
            case A::Scale:
                block *= iv.factor;
                break;
            case A::MeanAblate: {
                if (start != 0) throw Error("mean ablation needs every position of the prompt");
                const Eigen::RowVectorXf mean = x.middleCols(c0, n).colwise().mean();
                block.rowwise() = mean;
                break;
            }
            case A::Patch: {
                if (!iv.values) throw Error(iv.spec() + ": the patch has no source run");
                // Positions past the source's end are left as they are.
                const int src = static_cast<int>(iv.values->rows());
                for (int r = lo; r < hi; ++r)
                    if (start + r < src) block.row(r - lo) = iv.values->row(start + r);
                break;
            }
            case A::Steer:
                if (!iv.values) throw Error(iv.spec() + ": the steering has no direction");
                block.rowwise() += iv.factor * iv.values->row(0);
                break;
        }
    }
}

int positions_unaffected(const Interventions& a, const Interventions& b, int limit) {
    Interventions on_a, on_b;
    for (const Intervention& iv : a)
        if (iv.enabled) on_a.push_back(iv);
    for (const Intervention& iv : b)
        if (iv.enabled) on_b.push_back(iv);
    int result = limit;
    // A mean depends on every position of the prompt, whatever changed.
    for (const Interventions* list : {&on_a, &on_b})
        for (const Intervention& iv : *list)
            if (iv.action == Intervention::Action::MeanAblate) return 0;
    size_t k = 0;
    while (k < on_a.size() && k < on_b.size() && on_a[k].same_as(on_b[k])) ++k;
    for (const Interventions* list : {&on_a, &on_b})
        for (size_t i = k; i < list->size(); ++i)
            result = std::min(result, (*list)[i].first_position());
    return result;
}

void set_patch_source(const Model& model, Intervention& patch, const std::vector<int>& source_ids,
                      const std::string& label) {
    const Config& c = model.config;
    TraceOptions options = TraceOptions::none();
    options.residual = patch.hook == Hook::ResidPre;
    options.sublayer_out = patch.hook == Hook::AttnOut || patch.hook == Hook::MlpOut;
    options.neurons = patch.hook == Hook::MlpPost;
    options.attention = options.keys_values = patch.hook == Hook::AttnZ;
    const Trace source = forward(model, source_ids, options);
    const int T = static_cast<int>(source_ids.size());
    if (patch.position >= T)
        throw Error(patch.spec() + ": position " + std::to_string(patch.position) +
                    " is past the source prompt's " + std::to_string(T) + " tokens");
    const LayerTrace& lt = source.layers[static_cast<size_t>(patch.layer)];
    MatrixRM all;
    switch (patch.hook) {
        case Hook::ResidPre:
            all = lt.resid_pre;
            break;
        case Hook::AttnOut:
            all = lt.attn_out;
            break;
        case Hook::MlpOut:
            all = lt.mlp_out;
            break;
        case Hook::MlpPost:
            all = lt.mlp_post;
            break;
        case Hook::AttnZ: {  // z of head h = its pattern [T, T] x its value head [T, head_dim]
            const int hd = c.head_dim(), group = c.n_heads / c.n_kv_heads;
            all.resize(T, c.q_dim());
            for (int h = 0; h < c.n_heads; ++h)
                all.middleCols(h * hd, hd) =
                    lt.head_pattern(h) * lt.v.middleCols((h / group) * hd, hd);
            break;
        }
    }
    patch.values = std::make_shared<const MatrixRM>(
        all.middleCols(patch.first_column(c), patch.column_count(c)));
    patch.source = label;
}

void set_steering(const Model& model, Intervention& steer, const std::vector<int>& plus,
                  const std::vector<int>& minus, const std::string& label) {
    TraceOptions options = TraceOptions::none();
    options.residual = true;
    const size_t l = static_cast<size_t>(steer.layer);
    const Trace a = forward(model, plus, options), b = forward(model, minus, options);
    const Activation& ra = a.layers[l].resid_pre;
    const Activation& rb = b.layers[l].resid_pre;
    steer.values = std::make_shared<const MatrixRM>(ra.bottomRows(1) - rb.bottomRows(1));
    steer.source = label;
}

}  // namespace ps
