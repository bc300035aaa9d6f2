// The forward pass, in the style of llama2.c's run.c, but over all T prompt positions at once:
// every projection is one matrix-matrix product on [T, dim] activations. The steps are in
// core/model/ops.cpp, each architecture's block in core/model/blocks.cpp; this file runs them
// layer by layer and keeps the trace.
#include "core/model/forward.h"

#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/model/blocks.h"
#include "core/model/compact_weights.h"
#include "core/model/ops.h"
#include "core/tensor/memory_budget.h"

namespace ps {

namespace {

void check_prompt(const Model& model, const std::vector<int>& ids) {
    const Config& c = model.config;
    if (ids.empty()) throw Error("the prompt is empty: at least one token is needed");
    if (static_cast<int>(ids.size()) > c.context_length)
        throw Error("the prompt has " + std::to_string(ids.size()) +
                    " tokens but the model's context window is " +
                    std::to_string(c.context_length) + " tokens");
    for (size_t i = 0; i < ids.size(); ++i)
        if (ids[i] < 0 || ids[i] >= c.vocab_size)
            throw Error("token id " + std::to_string(ids[i]) + " at position " + std::to_string(i) +
                        " is outside the vocabulary (0.." + std::to_string(c.vocab_size - 1) + ")");
}

// Rows each captured activation has room for (and keys each pattern row): a few more than the
// prompt, so the next appended tokens extend the trace in place.
Eigen::Index trace_capacity(const Config& c, int tokens) {
    return std::min(c.context_length, tokens + std::max(16, tokens / 4));
}

}  // namespace

uint64_t forward_bytes(const Config& c, int tokens, const TraceOptions& o) {
    const uint64_t T = static_cast<uint64_t>(std::max(tokens, 0));
    const uint64_t dim = static_cast<uint64_t>(c.dim), kv = static_cast<uint64_t>(c.kv_dim()),
                   hidden = static_cast<uint64_t>(c.hidden_dim),
                   vocab = static_cast<uint64_t>(c.vocab_size),
                   heads = static_cast<uint64_t>(c.n_heads);
    // Floats per layer of the trace.
    uint64_t layer = 0;
    if (o.residual) layer += 2 * T * dim;  // resid_pre, resid_post
    // [T, heads * K], K a few more keys than T (trace_capacity).
    if (o.attention) layer += heads * T * static_cast<uint64_t>(trace_capacity(c, tokens));
    if (o.keys_values) layer += 2 * T * kv;
    if (o.sublayer_out) layer += 2 * T * dim;  // attn_out, mlp_out
    if (o.neurons) layer += T * hidden;
    uint64_t floats = static_cast<uint64_t>(c.n_layers) * layer;
    if (o.residual) floats += 2 * T * dim;  // embed, pos_embed
    if (o.final_norm) floats += T * dim;
    floats += (o.all_logits ? T : 1) * vocab;
    // Working buffers: x, xb, q/k/v (and a fused qkv), att, sub, gate, up, the keys and values
    // of every position, and one head's scores per thread.
    const uint64_t qd = static_cast<uint64_t>(c.q_dim());
    floats += T * (4 * dim + 2 * qd + 2 * hidden + 5 * kv) + 2 * T * T;
    return 4 * floats;
}

bool TraceOptions::covers(const TraceOptions& w) const {
    return (residual || !w.residual) && (attention || !w.attention) &&
           (sublayer_out || !w.sublayer_out) && (neurons || !w.neurons) &&
           (final_norm || !w.final_norm) && (all_logits || !w.all_logits) &&
           (keys_values || !w.keys_values);
}

int reusable_prefix(const Model& model, const Trace* reuse, const std::vector<int>& ids,
                    const TraceOptions& options, const Interventions& interventions) {
    if (!reuse || !reuse->options.keys_values || !reuse->options.covers(options)) return 0;
    const Config& c = model.config;
    if (static_cast<int>(reuse->layers.size()) != c.n_layers ||
        reuse->layers[0].k.cols() != c.n_kv_heads * c.head_dim() ||
        reuse->weight_edits != model.weight_edits)
        return 0;
    const size_t limit = std::min(reuse->ids.size(), ids.size() - 1);
    size_t p = 0;
    while (p < limit && reuse->ids[p] == ids[p]) ++p;
    return positions_unaffected(reuse->interventions, interventions, static_cast<int>(p));
}

namespace {

// One run of the pass: positions P..T-1 computed, 0..P-1 shared with `prev`.
struct Pass {
    const Model& model;
    const TraceOptions& options;
    const Interventions& interventions;
    const Trace& prev;
    int P, Tn;
    Eigen::Index capacity;
    Trace& trace;

    void capture(Activation& into, const Activation& reused,
                 const Eigen::Ref<const MatrixRM>& fresh) const {
        into = Activation::extend(reused, P, fresh, capacity);
    }

    // x [Tn, dim] = the embeddings of the new positions (scaled, for Gemma; plus the learned
    // positions, for GPT-2).
    void embed(MatrixRM& x) {
        const Config& c = model.config;
        const Weights& w = model.weights;
        x.resize(Tn, c.dim);
        for (int t = 0; t < Tn; ++t)
            token_embedding_row(w, c.dim, trace.ids[size_t(P + t)], x.row(t).data());
        if (c.embed_scale != 1.0f) x *= c.embed_scale;
        if (options.residual) capture(trace.embed, prev.embed, x);
        if (c.arch == Arch::Gpt2) {
            Eigen::Map<const MatrixRM> pos(w.position_embedding + static_cast<size_t>(P) * c.dim,
                                           Tn, c.dim);
            if (options.residual) capture(trace.pos_embed, prev.pos_embed, pos);
            x += pos;
        }
    }

    // x through the blocks `from` .. n_layers-1; x is block `from`'s hook_resid_pre as it was
    // recorded, after its interventions, when `resumed`.
    void layers(MatrixRM& x, int from, bool resumed = false) {
        static const LayerTrace kNoLayer;
        const Config& c = model.config;
        const BlockFunction block = block_function(c.arch);
        for (int l = from; l < c.n_layers; ++l) {
            const LayerTrace& old = P > 0 ? prev.layers[static_cast<size_t>(l)] : kNoLayer;
            LayerTrace& lt = trace.layers[static_cast<size_t>(l)];
            if (!(resumed && l == from))
                apply_interventions(interventions, Hook::ResidPre, l, P, x, c);
            if (options.residual) capture(lt.resid_pre, old.resid_pre, x);
            LayerPass pass(c, model.weights, l, P, options, capacity, lt, old, interventions);
            block(pass, x);
            if (options.residual) capture(lt.resid_post, old.resid_post, x);
        }
    }

    // The final norm and the unembedding (soft-capped, where the model says so).
    void unembed(const MatrixRM& x) {
        const Config& c = model.config;
        const Weights& w = model.weights;
        MatrixRM xb;
        norm(xb, x, c, w.final_norm, w.final_norm_bias);
        if (options.final_norm) capture(trace.ln_final, prev.ln_final, xb);
        if (options.all_logits) {  // the biggest activation: computed straight into the trace
            float* rows = nullptr;
            trace.logits = Activation::extend(prev.logits, P, Tn, c.vocab_size, capacity, &rows);
            linear_into(rows, xb, w.unembed);
            softcap(Eigen::Map<MatrixRM>(rows, Tn, c.vocab_size), c.final_softcap);
        } else {
            MatrixRM logits, last = xb.bottomRows(1);
            linear(logits, last, w.unembed);
            softcap(logits, c.final_softcap);
            trace.logits = Activation(logits);
        }
    }
};

Trace new_trace(const Model& model, const std::vector<int>& ids, const TraceOptions& options,
                const Interventions& interventions) {
    Trace trace;
    trace.ids = ids;
    trace.options = options;
    trace.head_dim = model.config.head_dim();
    trace.rotary = model.config.rotary();
    trace.interventions = interventions;
    trace.weight_edits = model.weight_edits;
    trace.layers.resize(static_cast<size_t>(model.config.n_layers));
    return trace;
}

}  // namespace

Trace forward(const Model& model, const std::vector<int>& ids, const TraceOptions& options,
              const Trace* reuse, const Interventions& interventions) {
    check_prompt(model, ids);
    const Config& c = model.config;
    const int T = static_cast<int>(ids.size());
    require_memory(model.path, forward_bytes(c, T, options),
                   "the forward pass over " + std::to_string(T) + " tokens with its trace");
    // Positions 0..P-1 come from `reuse`; the Tn positions P..T-1 are computed. Each captured
    // activation holds the reused rows, shared with `reuse`, then the new ones, with room for a
    // few more rows so that the next appended tokens extend it in place too.
    const int P = reusable_prefix(model, reuse, ids, options, interventions);
    static const Trace kNoTrace;
    Trace trace = new_trace(model, ids, options, interventions);
    Pass pass{model, options, interventions,        P > 0 ? *reuse : kNoTrace,
              P,     T - P,   trace_capacity(c, T), trace};
    MatrixRM x;
    pass.embed(x);
    pass.layers(x, 0);
    pass.unembed(x);
    return trace;
}

Trace forward_from(const Model& model, const Trace& base, int layer,
                   const Interventions& interventions, const TraceOptions& options) {
    const Config& c = model.config;
    if (layer < 0 || layer >= c.n_layers || base.layers.size() != size_t(c.n_layers) ||
        base.layers[size_t(layer)].resid_pre.rows() != Eigen::Index(base.ids.size()))
        throw Error("forward_from: the base trace has no hook_resid_pre at layer " +
                    std::to_string(layer));
    const int T = static_cast<int>(base.ids.size());
    require_memory(model.path, forward_bytes(c, T, options),
                   "the forward pass over " + std::to_string(T) + " tokens with its trace");
    static const Trace kNoTrace;
    Trace trace = new_trace(model, base.ids, options, interventions);
    trace.embed = base.embed;
    trace.pos_embed = base.pos_embed;
    for (int l = 0; l < layer; ++l) trace.layers[size_t(l)] = base.layers[size_t(l)];
    Pass pass{model, options, interventions, kNoTrace, 0, T, trace_capacity(c, T), trace};
    MatrixRM x = base.layers[size_t(layer)].resid_pre;
    pass.layers(x, layer, true);
    pass.unembed(x);
    return trace;
}

std::vector<float> logit_lens(const Model& model, const float* residual) {
    const Config& c = model.config;
    MatrixRM x = Eigen::Map<const MatrixRM>(residual, 1, c.dim);
    MatrixRM xb, logits;
    norm(xb, x, c, model.weights.final_norm, model.weights.final_norm_bias);
    linear(logits, xb, model.weights.unembed);
    softcap(logits, c.final_softcap);
    return std::vector<float>(logits.data(), logits.data() + logits.size());
}

MatrixRM logit_lens(const Model& model, const Eigen::Ref<const MatrixRM>& residuals) {
    MatrixRM xb, logits;
    norm(xb, residuals, model.config, model.weights.final_norm, model.weights.final_norm_bias);
    linear(logits, xb, model.weights.unembed);
    softcap(logits, model.config.final_softcap);
    return logits;
}

std::vector<NamedActivation> named_activations(const Trace& trace) {
    std::vector<NamedActivation> out;
    auto add = [&](const std::string& name, const Activation& m) {
        if (m.size() > 0) out.push_back({name, {m.rows(), m.cols()}, m.data()});
    };
    const int64_t T = static_cast<int64_t>(trace.ids.size());
    add("hook_embed", trace.embed);
    add("hook_pos_embed", trace.pos_embed);
    for (size_t l = 0; l < trace.layers.size(); ++l) {
        const LayerTrace& lt = trace.layers[l];
        const std::string p = "blocks." + std::to_string(l) + ".";
        add(p + "hook_resid_pre", lt.resid_pre);
        if (lt.k.size() > 0 && trace.head_dim > 0) {
            // TransformerLens: keys after the rotary embedding are hook_rot_k.
            const int64_t heads = lt.k.cols() / trace.head_dim;
            out.push_back({p + (trace.rotary ? "attn.hook_rot_k" : "attn.hook_k"),
                           {T, heads, trace.head_dim},
                           lt.k.data()});
            out.push_back({p + "attn.hook_v", {T, heads, trace.head_dim}, lt.v.data()});
        }
        if (lt.pattern.size() > 0) {  // TransformerLens's [heads, T, T]
            auto values = std::make_shared<std::vector<float>>(size_t(lt.heads * T * T));
            for (int h = 0; h < lt.heads; ++h)
                Eigen::Map<MatrixRM>(values->data() + h * T * T, T, T) = lt.head_pattern(h);
            out.push_back({p + "attn.hook_pattern", {lt.heads, T, T}, values->data(), values});
        }
        add(p + "hook_attn_out", lt.attn_out);
        add(p + "mlp.hook_post", lt.mlp_post);
        add(p + "hook_mlp_out", lt.mlp_out);
        add(p + "hook_resid_post", lt.resid_post);
    }
    add("ln_final.hook_normalized", trace.ln_final);
    add("logits", trace.logits);
    return out;
}

double forward_flops(const Config& c, int tokens, bool all_logits, int cached) {
    const double T = tokens, seen = cached + tokens;
    const double mlp_in = (c.gated_mlp() ? 2.0 : 1.0) * c.dim * c.hidden_dim;
    const double per_layer = T * (double(c.dim) * (c.q_dim() + 2.0 * c.kv_dim()) +  // q, k, v
                                  double(c.q_dim()) * c.dim +                       // output
                                  mlp_in + double(c.hidden_dim) * c.dim) +          // MLP
                             2.0 * T * seen * c.head_dim() * c.n_heads;  // scores, weighted sum
    const double unembed = (all_logits ? T : 1.0) * c.dim * double(c.vocab_size);
    return 2.0 * (c.n_layers * per_layer + unembed);
}

extern std::atomic<int> g_engine_threads;  // core/model/ops.cpp

void set_threads(int n) {
    g_engine_threads = n > 0 ? n : 0;
}

}  // namespace ps
