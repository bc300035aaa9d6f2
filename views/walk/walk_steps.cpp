#include "views/walk/walk_steps.h"

#include <QLocale>
#include <QObject>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "app/session/session.h"
#include "core/analysis/importance.h"
#include "core/analysis/intervention_effect.h"
#include "core/model/compact_weights.h"
#include "core/model/forward.h"
#include "core/sampling/sampling.h"
#include "core/tokenizer/tokenizer.h"
#include "views/walk/lesson_steps.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

constexpr int kValuesShown = 6;  // leading values of a vector the text lists
constexpr int kTopShown = 5;     // tokens, keys or neurons a step lists

QString tr(const char* text) {
    return QObject::tr(text);
}

QString num(double v, int decimals = 3) {
    return QString::number(v, 'f', decimals);
}

QString count(int64_t n) {
    return QLocale(QLocale::English).toString(static_cast<qlonglong>(n));
}

QString quoted(const Session& s, int id) {
    return "<b>‘" + token_display(*s.model()->tokenizer, id).toHtmlEscaped() + "’</b>";
}

// "0.012, -0.034, ... (96 values)": the first values of a vector of `n`, read with stride.
QString leading_values(const float* v, int n, int stride = 1) {
    QStringList parts;
    for (int i = 0; i < std::min(n, kValuesShown); ++i) parts << num(v[int64_t(i) * stride]);
    QString text = parts.join(", ");
    if (n > kValuesShown) text += tr(", … (%1 values)").arg(n);
    return text;
}

// Indices of the k largest of v[0..n), largest first.
std::vector<int> top_indices(const float* v, int n, int k) {
    std::vector<int> idx(static_cast<size_t>(n));
    std::iota(idx.begin(), idx.end(), 0);
    k = std::min(k, n);
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [v](int a, int b) { return v[a] > v[b] || (v[a] == v[b] && a < b); });
    idx.resize(static_cast<size_t>(k));
    return idx;
}

struct Moments {
    double mean = 0, std = 0, rms = 0;
};
Moments moments(const float* v, int n) {
    Moments m;
    double sum = 0, sq = 0;
    for (int i = 0; i < n; ++i) sum += v[i], sq += double(v[i]) * v[i];
    m.mean = sum / n;
    m.rms = std::sqrt(sq / n);
    m.std = std::sqrt(std::max(0.0, sq / n - m.mean * m.mean));
    return m;
}

int64_t linear_params(const Linear& l) {
    return int64_t(l.in) * l.out + (l.b ? l.out : 0);
}

QString tokens_text(const Session& s, const Trace& t, int p) {
    const int T = static_cast<int>(t.ids.size());
    QStringList chips;
    for (int i = 0; i < std::min(T, 12); ++i)
        chips << quoted(s, t.ids[size_t(i)]) + QString("&nbsp;=&nbsp;%1").arg(t.ids[size_t(i)]);
    QString text = tr("The prompt is <b>%1 tokens</b> from a vocabulary of %2: ")
                       .arg(T)
                       .arg(count(s.model()->config.vocab_size)) +
                   chips.join(", ") + (T > 12 ? ", …" : "") + ".";
    text += "<br>" + tr("The walk follows position <b>%1</b>, %2 (id %3): every step shows what "
                        "the model computes there. Click another token to follow it instead.")
                         .arg(p)
                         .arg(quoted(s, t.ids[size_t(p)]))
                         .arg(t.ids[size_t(p)]);
    return text;
}

QString embeddings_text(const Session& s, const Trace& t, int p) {
    const Config& c = s.model()->config;
    const int id = t.ids[size_t(p)];
    QString text = tr("Token %1 has id <b>%2</b>, so the lookup takes <b>row %2</b> of the token "
                      "embedding table (%3 × %4 = %5 parameters): [%6].")
                       .arg(quoted(s, id))
                       .arg(id)
                       .arg(count(c.vocab_size))
                       .arg(c.dim)
                       .arg(count(int64_t(c.vocab_size) * c.dim))
                       .arg(leading_values(t.embed.row(p).data(), c.dim));
    if (t.pos_embed.rows() > p)
        text += "<br>" + tr("Plus row <b>%1</b> of the position embedding (%2 × %3): [%4].")
                             .arg(p)
                             .arg(c.context_length)
                             .arg(c.dim)
                             .arg(leading_values(t.pos_embed.row(p).data(), c.dim));
    if (!t.layers.empty() && t.layers[0].resid_pre.rows() > p)
        text += "<br>" + tr("The residual stream starts as their sum: [%1], length %2.")
                             .arg(leading_values(t.layers[0].resid_pre.row(p).data(), c.dim))
                             .arg(num(t.layers[0].resid_pre.row(p).norm(), 2));
    return text;
}

QString attention_text(const Session& s, const Trace& t, int p, int layer) {
    const LayerTrace& lt = t.layers[size_t(layer)];
    const LayerWeights& w = s.model()->weights.layers[size_t(layer)];
    const int64_t params =
        linear_params(w.wq) + linear_params(w.wk) + linear_params(w.wv) + linear_params(w.wo);
    QString text = tr("Layer %1's attention: %2 heads, %3 parameters (query, key, value and "
                      "output weights%4).")
                       .arg(layer)
                       .arg(s.model()->config.n_heads)
                       .arg(count(params))
                       .arg(w.wq.b ? tr(" and biases") : QString());
    if (lt.pattern.rows() == 0) return text + "<br>" + tr("(No attention pattern was traced.)");
    const int h = s.head();
    std::vector<float> row(size_t(p) + 1);
    for (int k = 0; k <= p; ++k) row[size_t(k)] = lt.head_pattern(h)(p, k);
    QStringList keys;
    for (int k : top_indices(row.data(), p + 1, 3))
        keys << tr("%1 on %2 (position %3)")
                    .arg(num(row[size_t(k)]))
                    .arg(quoted(s, t.ids[size_t(k)]))
                    .arg(k);
    text += "<br>" + tr("Head <b>%1</b>, looking from %2 at position %3, puts weight %4.")
                         .arg(h)
                         .arg(quoted(s, t.ids[size_t(p)]))
                         .arg(p)
                         .arg(keys.join(", "));
    if (lt.attn_out.rows() > p)
        text += "<br>" + tr("All heads together add a vector of length <b>%1</b> to the residual "
                            "stream (whose length was %2).")
                             .arg(num(lt.attn_out.row(p).norm(), 2))
                             .arg(num(lt.resid_pre.row(p).norm(), 2));
    return text;
}

QString mlp_text(const Session& s, const Trace& t, int p, int layer) {
    const Config& c = s.model()->config;
    const LayerTrace& lt = t.layers[size_t(layer)];
    const LayerWeights& w = s.model()->weights.layers[size_t(layer)];
    const int64_t params = linear_params(w.ffn_up) + linear_params(w.ffn_down) +
                           (w.ffn_gate.w || w.ffn_gate.raw ? linear_params(w.ffn_gate) : 0);
    QString text = tr("Layer %1's MLP: %2 → <b>%3 neurons</b> → %2, %4 parameters.")
                       .arg(layer)
                       .arg(c.dim)
                       .arg(c.hidden_dim)
                       .arg(count(params));
    if (lt.mlp_post.rows() <= p) return text + "<br>" + tr("(No neuron activations were traced.)");
    const float* acts = lt.mlp_post.row(p).data();
    QStringList top;
    for (int n : top_indices(acts, c.hidden_dim, kTopShown))
        top << QString("#%1&nbsp;=&nbsp;%2").arg(n).arg(num(acts[n]));
    text +=
        "<br>" +
        tr("Largest activations at %1: %2.").arg(quoted(s, t.ids[size_t(p)])).arg(top.join(", "));
    const int n = s.neuron();
    std::vector<float> in(static_cast<size_t>(c.dim));
    for (int i = 0; i < c.dim; ++i) in[size_t(i)] = linear_weight(w.ffn_up, n, i);
    double out_norm = 0;
    for (int j = 0; j < c.dim; ++j) out_norm += std::pow(linear_weight(w.ffn_down, j, n), 2);
    text += "<br>" + tr("Neuron <b>#%1</b>: input weights [%2]; bias <b>%3</b>; activation "
                        "<b>%4</b>; its output weights have length %5.")
                         .arg(n)
                         .arg(leading_values(in.data(), c.dim))
                         .arg(w.ffn_up.b ? num(w.ffn_up.b[n]) : tr("none"))
                         .arg(num(acts[n]))
                         .arg(num(std::sqrt(out_norm)));
    if (lt.mlp_out.rows() > p)
        text += "<br>" + tr("The MLP adds a vector of length <b>%1</b> to the residual stream.")
                             .arg(num(lt.mlp_out.row(p).norm(), 2));
    return text;
}

QString final_norm_text(const Session& s, const Trace& t, int p) {
    const Config& c = s.model()->config;
    if (t.layers.empty() || t.layers.back().resid_post.rows() <= p || t.ln_final.rows() <= p)
        return tr("(The residual stream was not traced.)");
    const Moments before = moments(t.layers.back().resid_post.row(p).data(), c.dim);
    const Moments after = moments(t.ln_final.row(p).data(), c.dim);
    const bool rms = !c.layer_norm();
    QString text = tr("After the last layer the vector at position %1 has mean %2, standard "
                      "deviation %3 and length %4.")
                       .arg(p)
                       .arg(num(before.mean))
                       .arg(num(before.std))
                       .arg(num(before.rms * std::sqrt(double(c.dim)), 2));
    text +=
        "<br>" + (rms ? tr("RMSNorm divides it by its root mean square (%1)").arg(num(before.rms))
                      : tr("LayerNorm subtracts the mean and divides by the standard deviation"));
    text += tr(", then multiplies by the learned gain [%1]")
                .arg(leading_values(s.model()->weights.final_norm, c.dim));
    if (s.model()->weights.final_norm_bias) text += tr(" and adds a learned bias");
    text += ".<br>" + tr("Result: mean %1, standard deviation %2, length <b>%3</b>.")
                          .arg(num(after.mean))
                          .arg(num(after.std))
                          .arg(num(after.rms * std::sqrt(double(c.dim)), 2));
    return text;
}

QString logits_text(const Session& s, int p) {
    const Config& c = s.model()->config;
    const float* logits = s.logitsAt(p);
    const Distribution* d = s.distribution();
    if (!logits || !d) return tr("(No logits at this position.)");
    QStringList top;
    for (int i = 0; i < std::min(kTopShown, c.vocab_size); ++i) {
        const int id = d->ranked[size_t(i)];
        top << tr("%1 logit %2 → p %3")
                   .arg(quoted(s, id))
                   .arg(num(logits[id], 2))
                   .arg(num(d->p_raw[size_t(id)]));
    }
    return tr("The unembedding (%1 × %2%3) gives one logit per vocabulary token: %4 numbers. "
              "The highest, with their softmax probabilities:")
               .arg(count(c.vocab_size))
               .arg(c.dim)
               .arg(c.tied_embeddings ? tr(", the token embedding table reused") : QString())
               .arg(count(c.vocab_size)) +
           "<br>" + top.join("<br>");
}

// Softmax of logits / T in double (the distribution the filters see in the HF order).
std::vector<double> tempered(const float* logits, int n, double T) {
    std::vector<double> p(static_cast<size_t>(n));
    const double mx = *std::max_element(logits, logits + n);
    double sum = 0;
    for (int i = 0; i < n; ++i) sum += p[size_t(i)] = std::exp((logits[i] - mx) / T);
    for (double& v : p) v /= sum;
    return p;
}

int removed_count(const Distribution& d, RemovedBy by) {
    return static_cast<int>(std::count(d.removed_by.begin(), d.removed_by.end(), by));
}

QString sampling_text(const WalkStep& step, const Session& s, int p) {
    const Config& c = s.model()->config;
    const float* logits = s.logitsAt(p);
    const Distribution* d = s.distribution();
    if (!logits || !d) return tr("(No distribution at this position.)");
    const SamplingSettings& set = s.sampling();
    const bool greedy = set.temperature == 0;
    const QString kept =
        tr("<b>%1</b> of %2 tokens are left to draw from.").arg(d->kept).arg(count(c.vocab_size));
    switch (step.kind) {
        case WalkStepKind::Temperature: {
            if (greedy)
                return tr("Temperature is <b>0</b>: greedy, all probability on %1.")
                    .arg(quoted(s, d->ranked[0]));
            const std::vector<double> pt = tempered(logits, c.vocab_size, set.temperature);
            QStringList rows;
            for (int i = 0; i < std::min(3, c.vocab_size); ++i) {
                const int id = d->ranked[size_t(i)];
                rows << tr("%1: logit %2 ÷ %3 = %4, p %5 → <b>%6</b>")
                            .arg(quoted(s, id))
                            .arg(num(logits[id], 2))
                            .arg(num(set.temperature, 2))
                            .arg(num(logits[id] / set.temperature, 2))
                            .arg(num(d->p_raw[size_t(id)]))
                            .arg(num(pt[size_t(id)]));
            }
            return tr("Temperature <b>%1</b>:").arg(num(set.temperature, 2)) + "<br>" +
                   rows.join("<br>");
        }
        case WalkStepKind::TopK:
            if (set.top_k == 0)
                return tr("top-k is <b>off</b> (0): it removes nothing. Set it to 5 in the "
                          "sampling controls to keep only the 5 most likely tokens.") +
                       "<br>" + kept;
            return tr("top-k = <b>%1</b> removed %2 tokens.")
                       .arg(set.top_k)
                       .arg(count(removed_count(*d, RemovedBy::TopK))) +
                   "<br>" + kept;
        case WalkStepKind::TopP: {
            double mass = 0;  // the raw probability of the tokens still in play
            for (int i = 0; i < d->kept; ++i) mass += d->p_raw[size_t(d->ranked[size_t(i)])];
            const QString off = set.top_p >= 1 ? tr(" — off; try 0.9") : QString();
            return tr("top-p = <b>%1</b>%2: it removed %3 tokens.")
                       .arg(num(set.top_p, 3))
                       .arg(off)
                       .arg(count(removed_count(*d, RemovedBy::TopP))) +
                   "<br>" + kept + " " +
                   tr("Together they had %1 of the raw probability.").arg(num(mass));
        }
        case WalkStepKind::MinP: {
            // The probability min-p compares with: tempered in the HF order, raw in llama.cpp's.
            const bool hf = set.order == SamplingOrder::HuggingFace && !greedy;
            const double p_top =
                hf ? tempered(logits, c.vocab_size, set.temperature)[size_t(d->ranked[0])]
                   : d->p_raw[size_t(d->ranked[0])];
            if (set.min_p <= 0)
                return tr("min-p is <b>off</b> (0). With min-p = 0.1 it would remove every token "
                          "under 0.1 × %1 = %2.")
                           .arg(num(p_top))
                           .arg(num(0.1 * p_top, 4)) +
                       "<br>" + kept;
            return tr("min-p = <b>%1</b>: the top token has p %2, so tokens under %3 go; it "
                      "removed %4.")
                       .arg(num(set.min_p, 3))
                       .arg(num(p_top))
                       .arg(num(set.min_p * p_top, 4))
                       .arg(count(removed_count(*d, RemovedBy::MinP))) +
                   "<br>" + kept;
        }
        case WalkStepKind::Chosen: {
            const int top = d->ranked[0];
            QString text = tr("Most likely choice: %1 with p <b>%2</b>. Entropy %3 bits before "
                              "sampling settings, %4 after.")
                               .arg(quoted(s, top))
                               .arg(num(d->p_final[size_t(top)]))
                               .arg(num(d->entropy_raw_bits, 2))
                               .arg(num(d->entropy_final_bits, 2));
            const auto& ids = s.trace()->ids;
            if (p + 1 < static_cast<int>(ids.size())) {
                const int next = ids[size_t(p) + 1];
                text += "<br>" + tr("The prompt actually continues with %1, which had p %2.")
                                     .arg(quoted(s, next))
                                     .arg(num(d->p_final[size_t(next)]));
            } else {
                text += "<br>" + tr("<b>Sample</b> draws one of the %1 kept tokens and appends it.")
                                     .arg(d->kept);
            }
            return text;
        }
        default:
            return QString();
    }
}

}  // namespace

WalkStep turn_dial_step() {
    return {WalkStepKind::TurnDial, -1, tr("Turn a dial: silence a head"),
            "interventions",        "", "dials"};
}

QString turn_dial_text(const Session& s) {
    const int p = s.position();
    const float* before = s.baselineLogitsAt(p);
    const float* after = s.logitsAt(p);
    const Intervention* silenced = nullptr;
    for (const Intervention& iv : s.interventions())
        if (iv.enabled && iv.hook == Hook::AttnZ && iv.action == Intervention::Action::Scale &&
            iv.factor == 0.0f)
            silenced = &iv;
    if (!silenced || !before || !after)
        return tr("Silencing every head in turn to find the one this prediction needs most…");
    const Tokenizer& tok = *s.model()->tokenizer;
    const InterventionEffect e =
        intervention_effect(before, after, s.model()->config.vocab_size, 1);
    auto piece = [&](int id) { return "<b>‘" + token_display(tok, id).toHtmlEscaped() + "’</b>"; };
    const double p_before = probability_of(before, s.model()->config.vocab_size, e.argmax_before);
    const double p_after = probability_of(after, s.model()->config.vocab_size, e.argmax_before);
    QString text = tr("Head <b>%1.%2</b> is the one this prediction needs most. Silenced (its "
                      "output set to zero), %3 falls from %4 to %5")
                       .arg(silenced->layer)
                       .arg(silenced->unit)
                       .arg(piece(e.argmax_before))
                       .arg(p_before, 0, 'f', 3)
                       .arg(p_after, 0, 'f', 3);
    text += e.argmax_before == e.argmax_after
                ? tr(" and stays the top guess")
                : tr(" and the top guess becomes %1").arg(piece(e.argmax_after));
    return text + tr("; KL divergence %1 nats. Untick it in the list to compare.")
                      .arg(e.kl_divergence, 0, 'g', 4);
}

std::vector<WalkStep> walk_steps(const Config& config) {
    std::vector<WalkStep> steps;
    auto add = [&](WalkStepKind kind, const QString& title, const char* view, const char* topic,
                   int layer = -1, const char* target = "") {
        steps.push_back({kind, layer, title, view, target, topic});
    };
    add(WalkStepKind::Tokens, tr("Tokens"), "tokens", "tokens");
    add(WalkStepKind::Embeddings, tr("Embeddings: a lookup"), "parameters", "embeddings");
    for (int l = 0; l < config.n_layers; ++l) {
        add(WalkStepKind::Attention, tr("Layer %1 · attention").arg(l), "attention", "attention",
            l);
        add(WalkStepKind::Mlp, tr("Layer %1 · MLP neurons").arg(l), "neurons", "neurons", l);
    }
    add(WalkStepKind::FinalNorm, tr("Final norm"), "embeddings", "final-norm");
    add(WalkStepKind::Logits, tr("Logits"), "logit-lens", "logits");
    add(WalkStepKind::Temperature, tr("Temperature"), "distribution", "temperature", -1,
        "temperature");
    add(WalkStepKind::TopK, tr("Top-k"), "distribution", "top-k", -1, "topK");
    add(WalkStepKind::TopP, tr("Top-p"), "distribution", "top-p", -1, "topP");
    add(WalkStepKind::MinP, tr("Min-p"), "distribution", "min-p", -1, "minP");
    add(WalkStepKind::Chosen, tr("The chosen token"), "distribution", "sampling", -1,
        "distributionChart");
    steps.push_back(turn_dial_step());
    return steps;
}

void select_for_step(const WalkStep& step, Session& session) {
    // The final norm reads the last layer's output: the layer views show that one.
    if (step.kind == WalkStepKind::FinalNorm && session.model())
        session.selectHead(session.model()->config.n_layers - 1, session.head());
    // The lesson's head and neuron steps pick theirs from the trace.
    const auto& picked_from = session.trace();
    if (step.layer < 0 && picked_from && picked_from->ids == session.tokens()) {
        if (step.kind == WalkStepKind::Attention) {
            const PickedHead h = pick_head(*picked_from);
            if (h.layer >= 0) session.selectHead(h.layer, h.head);
        } else if (step.kind == WalkStepKind::Mlp) {
            const PickedNeuron n = pick_neuron(*picked_from, session.position());
            if (n.layer >= 0) session.selectNeuron(n.layer, n.neuron);
        }
    }
    if (step.layer < 0) return;
    if (step.kind == WalkStepKind::Mlp) {
        const auto& trace = session.trace();
        const int p = session.position();
        const Config& c = session.model()->config;
        if (trace && p >= 0 && size_t(step.layer) < trace->layers.size() &&
            trace->layers[size_t(step.layer)].mlp_post.rows() > p) {
            const float* acts = trace->layers[size_t(step.layer)].mlp_post.row(p).data();
            session.selectNeuron(step.layer, top_indices(acts, c.hidden_dim, 1)[0]);
            return;
        }
    }
    session.selectHead(step.layer, session.head());
}

QString step_numbers(const WalkStep& step, const Session& s) {
    const auto& trace = s.trace();
    if (!s.model() || !trace || trace->ids != s.tokens() || trace->ids.empty()) return QString();
    const int p = s.position();
    if (step.layer >= static_cast<int>(trace->layers.size())) return QString();
    // The lesson's picked head or neuron: why it was picked, then what it computed.
    const QString picked = lesson_numbers(step, s);
    const int layer = step.layer >= 0 ? step.layer : s.layer();
    switch (step.kind) {
        case WalkStepKind::Tokens:
            return tokens_text(s, *trace, p);
        case WalkStepKind::Embeddings:
            return embeddings_text(s, *trace, p);
        case WalkStepKind::Attention:
            return (picked.isEmpty() ? "" : picked + "<br>") + attention_text(s, *trace, p, layer);
        case WalkStepKind::Mlp:
            return (picked.isEmpty() ? "" : picked + "<br>") + mlp_text(s, *trace, p, layer);
        case WalkStepKind::LayersPath:
        case WalkStepKind::Sampling:
            return picked;
        case WalkStepKind::FinalNorm:
            return final_norm_text(s, *trace, p);
        case WalkStepKind::Logits:
            return logits_text(s, p);
        case WalkStepKind::TurnDial:
            return turn_dial_text(s);
        default:
            return sampling_text(step, s, p);
    }
}

}  // namespace ps
