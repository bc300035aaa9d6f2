#include "views/walk/lesson_steps.h"

#include <QObject>
#include <algorithm>
#include <cmath>
#include <numeric>

#include "app/session/session.h"
#include "core/analysis/attention_stats.h"
#include "core/analysis/layer_analysis.h"
#include "core/model/forward.h"
#include "core/tokenizer/tokenizer.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

QString tr(const char* text) {
    return QObject::tr(text);
}

QString token(const Session& s, int id) {
    return "<b>‘" + token_display(*s.model()->tokenizer, id).toHtmlEscaped() + "’</b>";
}

QString picked_head_text(const Session& s, const Trace& t) {
    const PickedHead h = pick_head(t);
    if (h.layer < 0) return QString();
    const Config& c = s.model()->config;
    return (h.induction
                ? tr("Of all %1 heads, <b>head %2 of layer %3</b> copies most clearly: where a "
                     "token appeared before, it looks at the token that followed it then, with "
                     "<b>%4</b> of its attention on average (its induction score).")
                : tr("Of all %1 heads, <b>head %2 of layer %3</b> does the clearest thing: it "
                     "looks at the token just before, with <b>%4</b> of its attention on "
                     "average (its previous-token score)."))
        .arg(c.n_layers * c.n_heads)
        .arg(h.head)
        .arg(h.layer)
        .arg(QString::number(h.score, 'f', 2));
}

QString picked_neuron_text(const Session& s, const Trace& t, int p) {
    const PickedNeuron n = pick_neuron(t, p);
    if (n.layer < 0) return QString();
    // Where in the prompt the neuron fires most: the tokens a class can name a pattern in.
    const Activation& post = t.layers[size_t(n.layer)].mlp_post;
    std::vector<int> order(static_cast<size_t>(post.rows()));
    std::iota(order.begin(), order.end(), 0);
    const int shown = std::min<int>(4, static_cast<int>(order.size()));
    std::partial_sort(order.begin(), order.begin() + shown, order.end(),
                      [&](int a, int b) { return post(a, n.neuron) > post(b, n.neuron); });
    QStringList fires;
    for (int i = 0; i < shown; ++i)
        fires << tr("%1 %2")
                     .arg(token(s, t.ids[size_t(order[size_t(i)])]))
                     .arg(QString::number(post(order[size_t(i)], n.neuron), 'f', 2));
    return tr("The most active of all neurons at %1 is <b>#%2 of layer %3</b> (activation "
              "<b>%4</b>). In this prompt it fires most on: %5. What do they have in common?")
        .arg(token(s, t.ids[size_t(p)]))
        .arg(n.neuron)
        .arg(n.layer)
        .arg(QString::number(n.activation, 'f', 2))
        .arg(fires.join(", "));
}

QString layers_path_text(const Session& s, const Trace& t, int p) {
    const auto& analysis = s.layerAnalysis();
    const int layers = s.model()->config.n_layers;
    QString text = tr("Every one of the %1 layers does what we just saw: attention heads read "
                      "other tokens, neurons fire, and each adds its result to the vector the "
                      "token carries.")
                       .arg(layers);
    if (!analysis || analysis->ids != t.ids || analysis->lens.positions <= p)
        return text + "<br>" + tr("<i>Reading the layers…</i>");
    QStringList path;
    for (int row = 0; row < analysis->lens.rows; ++row) {
        const LensCell& cell = analysis->lens.at(row, p);
        path << tr("%1 %2 (%3)")
                    .arg(QString::fromStdString(boundary_name(row)))
                    .arg(token(s, cell.top_ids[0]))
                    .arg(QString::number(cell.top_probs[0], 'f', 2));
    }
    return text + "<br>" +
           tr("If the model stopped after each layer it would guess: %1.").arg(path.join(" → "));
}

QString sampling_text(const Session& s) {
    const Distribution* d = s.distribution();
    if (!d) return QString();
    const SamplingSettings& set = s.sampling();
    QStringList dials;
    dials << (set.temperature == 0 ? tr("temperature <b>0</b> (greedy)")
                                   : tr("temperature <b>%1</b>").arg(set.temperature, 0, 'f', 1));
    if (set.top_k > 0) dials << tr("top-k <b>%1</b>").arg(set.top_k);
    if (set.top_p < 1) dials << tr("top-p <b>%1</b>").arg(set.top_p, 0, 'f', 2);
    QStringList top;
    for (int i = 0; i < std::min(3, d->kept); ++i)
        top << tr("%1 %2")
                   .arg(token(s, d->ranked[size_t(i)]))
                   .arg(QString::number(d->p_final[size_t(d->ranked[size_t(i)])], 'f', 2));
    return tr("The step turns the dials by itself: now %1. <b>%2</b> tokens can be drawn; the "
              "likeliest: %3. Press Sample to draw one.")
        .arg(dials.join(", "))
        .arg(d->kept)
        .arg(top.join(", "));
}

}  // namespace

std::vector<WalkStep> lesson_steps(const Config& config) {
    (void)config;  // every model gets the same eight steps; the picks come from the trace
    return {
        {WalkStepKind::Tokens, -1, tr("Text becomes tokens"), "tokens", "", "tokens"},
        {WalkStepKind::Embeddings, -1, tr("A token is a row of numbers"), "parameters", "",
         "embeddings"},
        {WalkStepKind::Attention, -1, tr("A head looks at other tokens"), "attention", "",
         "attention"},
        {WalkStepKind::Mlp, -1, tr("A neuron fires"), "neurons", "", "neurons"},
        {WalkStepKind::LayersPath, -1, tr("The other layers do the same"), "logit-lens", "",
         "layers"},
        {WalkStepKind::Logits, -1, tr("A score for every word"), "distribution",
         "distributionChart", "logits"},
        {WalkStepKind::Sampling, -1, tr("Temperature, top-k, top-p"), "distribution",
         "distributionChart", "temperature"},
        turn_dial_step(),
    };
}

PickedHead pick_head(const Trace& trace) {
    const AttentionStats stats = attention_stats(trace);
    PickedHead best;
    for (int l = 0; l < stats.n_layers; ++l)
        for (int h = 0; h < stats.n_heads; ++h) {
            const HeadScores& s = stats.at(l, h);
            for (const bool induction : {false, true}) {
                const double score = induction ? s.induction : s.previous_token;
                if (std::isfinite(score) && (best.layer < 0 || score > best.score))
                    best = {l, h, score, induction};
            }
        }
    return best;
}

PickedNeuron pick_neuron(const Trace& trace, int position) {
    PickedNeuron best;
    for (int l = 0; l < static_cast<int>(trace.layers.size()); ++l) {
        const Activation& post = trace.layers[size_t(l)].mlp_post;
        if (position < 0 || post.rows() <= position) continue;
        for (int n = 0; n < post.cols(); ++n)
            if (best.layer < 0 || post(position, n) > best.activation)
                best = {l, n, post(position, n)};
    }
    return best;
}

std::vector<SamplingSettings> lesson_sampling_sequence() {
    std::vector<SamplingSettings> out;
    for (double t : {0.0, 0.3, 0.7, 1.0, 1.5, 2.0}) {
        SamplingSettings s;
        s.temperature = static_cast<float>(t);
        out.push_back(s);
    }
    for (int k : {10, 3}) {
        SamplingSettings s;
        s.top_k = k;
        out.push_back(s);
    }
    for (double p : {0.9, 0.5}) {
        SamplingSettings s;
        s.top_p = static_cast<float>(p);
        out.push_back(s);
    }
    return out;
}

QString lesson_numbers(const WalkStep& step, const Session& s) {
    const auto& trace = s.trace();
    if (!s.model() || !trace || trace->ids != s.tokens() || trace->ids.empty()) return QString();
    const int p = s.position();
    switch (step.kind) {
        case WalkStepKind::Attention:
            return step.layer < 0 ? picked_head_text(s, *trace) : QString();
        case WalkStepKind::Mlp:
            return step.layer < 0 ? picked_neuron_text(s, *trace, p) : QString();
        case WalkStepKind::LayersPath:
            return layers_path_text(s, *trace, p);
        case WalkStepKind::Sampling:
            return sampling_text(s);
        default:
            return QString();
    }
}

}  // namespace ps
