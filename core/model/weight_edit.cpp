// Parameter edits on a copy-on-write overlay (core/model/weight_edit.h).
#include "core/model/weight_edit.h"

#include <charconv>
#include <cmath>
#include <map>

#include "core/error.h"
#include "core/model/compact_weights.h"
#include "core/tensor/memory_budget.h"
#include "core/tensor/quant.h"

namespace ps {

namespace {

std::string index_text(int64_t i) {
    return i < 0 ? ":" : std::to_string(i);
}

std::string number_text(float v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    (void)ec;
    return std::string(buf, end);
}

[[noreturn]] void bad(const std::string& spec, const std::string& why) {
    throw Error("--intervene '" + spec + "': " + why);
}

int64_t index_of(const std::string& spec, const std::string& text, int64_t size, const char* what) {
    if (text == ":") return -1;
    int64_t v = -1;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (text.empty() || ec != std::errc() || end != text.data() + text.size() || v < 0)
        bad(spec,
            std::string("malformed ") + what + " '" + text + "' (expected a whole number or :)");
    if (v >= size)
        bad(spec, std::string(what) + " " + text + " is out of range (0.." +
                      std::to_string(size - 1) + ")");
    return v;
}

// The tensor's [rows, cols] as edits index it: a 1-D tensor is one column of rows.
std::pair<int64_t, int64_t> grid(const TensorInfo& t) {
    const int64_t rows = t.shape.empty() ? 1 : t.shape[0];
    return {rows, rows > 0 ? t.count / rows : 0};
}

}  // namespace

std::string WeightEdit::spec() const {
    std::string s = "weight:" + tensor;
    if (row < 0 && col < 0) return s + (kind == Kind::Scale ? "=" : "[:,:]=") + number_text(value);
    s += "[" + index_text(row) + (col >= 0 || row < 0 ? "," + index_text(col) : ",:") + "]";
    return s + (kind == Kind::Scale ? "*" : "=") + number_text(value);
}

WeightEdit parse_weight_edit(const std::string& spec, const Model& model) {
    WeightEdit e;
    if (spec.rfind("weight:", 0) != 0) bad(spec, "a weight edit starts with weight:");
    const std::string body = spec.substr(7);
    const size_t op = body.find_last_of("=*");
    if (op == std::string::npos) bad(spec, "no '=F' (scale), '[i,j]=V' (set) or '[...]*F'");
    std::string target = body.substr(0, op);
    const std::string value = body.substr(op + 1);
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), e.value);
    if (value.empty() || ec != std::errc() || end != value.data() + value.size() ||
        !std::isfinite(e.value))
        bad(spec, "malformed number '" + value + "'");
    std::string index;
    if (const size_t open = target.find('['); open != std::string::npos) {
        if (target.back() != ']') bad(spec, "'" + target + "' has no closing ]");
        index = target.substr(open + 1, target.size() - open - 2);
        target.erase(open);
    }
    e.tensor = target;
    const TensorInfo* t = nullptr;
    for (const TensorInfo& candidate : model.tensors)
        if (candidate.name == target) t = &candidate;
    if (!t) bad(spec, "the model has no tensor '" + target + "' (paramscope info lists them)");
    const auto [rows, cols] = grid(*t);
    if (index.empty()) {
        if (body[op] == '*') bad(spec, "'*F' scales a part: give [i,:], [:,j] or [i,j]");
        e.kind = WeightEdit::Kind::Scale;  // weight:TENSOR=F scales the whole tensor
        return e;
    }
    e.kind = body[op] == '*' ? WeightEdit::Kind::Scale : WeightEdit::Kind::Set;
    const size_t comma = index.find(',');
    if (t->shape.size() < 2) {
        if (comma != std::string::npos) bad(spec, target + " is 1-D: index it as [i]");
        e.row = index_of(spec, index, rows, "index");
        return e;
    }
    if (comma == std::string::npos)
        bad(spec, target + " is " + std::to_string(t->shape.size()) + "-D: index it as [i,j]");
    e.row = index_of(spec, index.substr(0, comma), rows, "row");
    e.col = index_of(spec, index.substr(comma + 1), cols, "column");
    return e;
}

namespace {

// Every pointer of `w` into a tensor's storage, for remapping an edited tensor.
template <typename F>
void for_each_linear(Weights& w, F f) {
    for (LayerWeights& L : w.layers)
        for (Linear* l : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down}) f(*l);
    f(w.unembed);
}

template <typename F>
void for_each_vector(Weights& w, F f) {
    for (LayerWeights& L : w.layers) {
        for (const float** p : {&L.attn_norm, &L.attn_norm_bias, &L.q_norm, &L.k_norm,
                                &L.post_attn_norm, &L.ffn_norm, &L.ffn_norm_bias, &L.post_ffn_norm})
            f(*p);
        for (Linear* l : {&L.wq, &L.wk, &L.wv, &L.wo, &L.ffn_gate, &L.ffn_up, &L.ffn_down}) f(l->b);
    }
    for (const float** p : {&w.token_embedding, &w.position_embedding, &w.final_norm,
                            &w.final_norm_bias, &w.rope_freq_factors, &w.unembed.b})
        f(*p);
    for_each_linear(w, [&](Linear& l) { f(l.w); });
}

void apply(const WeightEdit& e, const TensorInfo& t, float* values) {
    const auto [rows, cols] = grid(t);
    const bool one_d = t.shape.size() < 2;
    for (int64_t r = 0; r < rows; ++r) {
        if (e.row >= 0 && r != e.row) continue;
        for (int64_t c = 0; c < cols; ++c) {
            if (!one_d && e.col >= 0 && c != e.col) continue;
            float& v = values[r * cols + c];
            v = e.kind == WeightEdit::Kind::Scale ? v * e.value : e.value;
        }
    }
}

}  // namespace

std::shared_ptr<const Model> edit_weights(std::shared_ptr<const Model> base,
                                          const std::vector<WeightEdit>& edits) {
    auto m = std::make_shared<Model>();
    m->path = base->path;
    m->format = base->format;
    m->name = base->name;
    m->config = base->config;
    m->weights = base->weights;
    m->tensors = base->tensors;
    m->tokenizer = base->tokenizer;
    m->warnings = base->warnings;
    m->edited_from = base;
    m->weight_edits = base->weight_edits;
    for (const WeightEdit& e : edits)
        if (e.enabled) m->weight_edits.push_back(e.spec());
    // Each edited tensor once, as an f32 copy: its values, then every edit of it in order.
    std::map<std::string, float*> copies;
    for (const WeightEdit& e : edits) {
        if (!e.enabled) continue;
        TensorInfo* t = nullptr;
        for (TensorInfo& candidate : m->tensors)
            if (candidate.name == e.tensor) t = &candidate;
        if (!t) throw Error(m->path + ": no tensor '" + e.tensor + "' to edit");
        auto found = copies.find(e.tensor);
        if (found == copies.end()) {
            require_memory(m->path, uint64_t(t->count) * 4, "an f32 copy of " + t->name);
            std::vector<float> values(size_t(t->count));
            if (t->data)
                std::copy(t->data, t->data + t->count, values.begin());
            else
                dequantize(t->dtype, t->raw, values.data(), t->count);
            float* copy = const_cast<float*>(m->keep(std::move(values)));
            // Point everything that read the tensor at the copy, at the same value offset.
            if (const float* old = t->data) {
                for_each_vector(m->weights, [&](const float*& p) {
                    if (p && p >= old && p < old + t->count) p = copy + (p - old);
                });
            } else {
                const uint8_t* stored = t->raw;
                for_each_linear(m->weights, [&](Linear& l) {
                    if (!l.raw || l.raw < stored || l.raw >= stored + t->bytes) return;
                    l.w = copy + (l.raw - stored) * t->count / t->bytes;
                    l.raw = nullptr;
                    l.dtype = DType::F32;
                });
                Weights& w = m->weights;
                if (w.token_embedding_raw >= stored && w.token_embedding_raw < stored + t->bytes) {
                    w.token_embedding = copy;
                    w.token_embedding_raw = nullptr;
                    w.token_embedding_dtype = DType::F32;
                }
            }
            t->data = copy;
            t->raw = nullptr;
            found = copies.emplace(e.tensor, copy).first;
        }
        apply(e, *t, found->second);
    }
    m->validate();
    return m;
}

}  // namespace ps
