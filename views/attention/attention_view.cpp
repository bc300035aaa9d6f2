#include "views/attention/attention_view.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QScrollArea>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTextStream>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>
#include <memory>

#include "app/session/session.h"
#include "views/attention/attention_heatmap.h"
#include "views/attention/attention_lines.h"
#include "views/attention/head_grid.h"
#include "views/widgets/intervention_menu.h"
#include "views/widgets/plot_export.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

struct MetricInfo {
    HeadMetric metric;
    const char* label;
};
const MetricInfo kMetrics[] = {
    {HeadMetric::PreviousToken, QT_TRANSLATE_NOOP("AttentionView", "previous token")},
    {HeadMetric::FirstToken, QT_TRANSLATE_NOOP("AttentionView", "first token (BOS)")},
    {HeadMetric::Self, QT_TRANSLATE_NOOP("AttentionView", "self (own token)")},
    {HeadMetric::Entropy, QT_TRANSLATE_NOOP("AttentionView", "entropy (bits)")},
    {HeadMetric::Induction, QT_TRANSLATE_NOOP("AttentionView", "induction")},
};

QString number_or_dash(double v, int decimals) {
    return std::isnan(v) ? QString(QChar(0x2013)) : QString::number(v, 'f', decimals);
}

QString csv_number(double v) {
    return std::isnan(v) ? QString() : QString::number(v, 'g', 9);
}

QString join_heads(const std::vector<int>& heads) {
    QStringList names;
    for (int h : heads) names << QString::number(h);
    return names.join(", ");
}

}  // namespace

AttentionView::AttentionView(Session* session, QWidget* parent)
    : QWidget(parent), session_(session) {
    setObjectName("attention");
    title_ = new QLabel(this);
    title_->setWordWrap(true);  // a long header takes two lines, never cut
    title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // never widens the dock
    title_->setTextFormat(Qt::RichText);
    // The long title may be cut rather than widen the dock (and with it the whole window).
    title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    title_->setMinimumWidth(120);
    layer_spin_ = new QSpinBox(this);
    layer_spin_->setObjectName("layer");
    layer_spin_->setPrefix(tr("layer "));
    layer_spin_->setToolTip(tr("the layer shown (shared with the other layer views)"));
    head_spin_ = new QSpinBox(this);
    head_spin_->setObjectName("head");
    head_spin_->setPrefix(tr("head "));
    head_spin_->setToolTip(tr("the query head shown"));
    kv_label_ = new QLabel(this);
    kv_label_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    kv_label_->setObjectName("kvHeads");
    kv_label_->setToolTip(
        tr("grouped-query attention: query heads in a group read the same "
           "keys and values"));
    auto* export_button = new QToolButton(this);
    export_button->setText(tr("Export…"));
    export_button->setToolTip(tr("save a chart (PNG, SVG, PDF) or its numbers (CSV)"));
    export_button->setPopupMode(QToolButton::InstantPopup);
    auto* export_menu = new QMenu(export_button);
    export_button->setMenu(export_menu);

    heatmap_ = new AttentionHeatmap(this);
    lines_ = new AttentionLines;
    auto* lines_scroll = new QScrollArea(this);
    lines_scroll->setWidget(lines_);
    lines_scroll->setWidgetResizable(true);
    lines_scroll->setFrameShape(QFrame::NoFrame);
    lines_mode_ = new QComboBox(this);
    lines_mode_->setObjectName("linesMode");
    lines_mode_->addItem(tr("selected head"));
    lines_mode_->addItem(tr("all heads of the layer"));
    auto* lines_page = new QWidget(this);
    auto* lines_header = new QHBoxLayout;
    lines_header->addWidget(new QLabel(tr("lines for"), lines_page));
    lines_header->addWidget(lines_mode_);
    lines_header->addStretch(1);
    auto* lines_layout = new QVBoxLayout(lines_page);
    lines_layout->setContentsMargins(0, 4, 0, 0);
    lines_layout->addLayout(lines_header);
    lines_layout->addWidget(lines_scroll, 1);
    tabs_ = new QTabWidget(this);
    tabs_->addTab(heatmap_, tr("Pattern"));
    tabs_->addTab(lines_page, tr("Lines"));

    thumbnails_ = new HeadGrid(this);
    thumbnails_->setObjectName("attentionThumbnails");
    metric_ = new QComboBox(this);
    metric_->setObjectName("metric");
    for (const MetricInfo& m : kMetrics) metric_->addItem(tr(m.label));
    metric_->setToolTip(
        tr("per-head score, averaged over the queries after the first: the weight on the "
           "previous token, on the first token, on the query's own token, the entropy of "
           "the row, or the weight on the token after an earlier occurrence of the query's "
           "token (induction; – where no token repeats)"));
    summary_ = new HeadGrid(this);
    summary_->setObjectName("attentionSummary");
    auto* overview = new QWidget(this);
    // Label over box: the box gets the column's width for its longest name at any text size.
    auto* metric_row = new QVBoxLayout;
    metric_row->setSpacing(2);
    metric_row->addWidget(new QLabel(tr("score per head:"), overview));
    metric_row->addWidget(metric_);
    auto* overview_layout = new QVBoxLayout(overview);
    overview_layout->setContentsMargins(0, 0, 0, 0);
    overview_layout->addWidget(thumbnails_, 3);
    overview_layout->addLayout(metric_row);
    overview_layout->addWidget(summary_, 2);

    auto* splitter = new QSplitter(Qt::Horizontal, this);
    splitter->addWidget(tabs_);
    splitter->addWidget(overview);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);
    splitter->setChildrenCollapsible(false);

    auto* header = new QHBoxLayout;
    header->addWidget(title_, 1);
    header->addWidget(kv_label_);
    header->addWidget(layer_spin_);
    header->addWidget(head_spin_);
    header->addWidget(export_button);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->addLayout(header);
    layout->addWidget(splitter, 1);

    auto name = [this] { return tr("attention-L%1-H%2").arg(shown_layer_).arg(shown_head_); };
    export_menu->addAction(tr("Pattern heatmap…"), this, [this, name] {
        export_dialog(this, name(), heatmap_,
                      [this](const QString& path) { return exportPatternCsv(path); });
    });
    export_menu->addAction(tr("Lines…"), this, [this, name] {
        export_dialog(this, name() + "-lines", lines_, [this](const QString& path) {
            return exportPatternCsv(path, shown_all_heads_);
        });
    });
    export_menu->addAction(tr("All heads (thumbnails)…"), this, [this] {
        export_dialog(this, "attention-heads", thumbnails_,
                      [this](const QString& path) { return exportSummaryCsv(path); });
    });
    export_menu->addAction(tr("Per-head scores…"), this, [this] {
        export_dialog(this, "attention-scores", summary_,
                      [this](const QString& path) { return exportSummaryCsv(path); });
    });

    auto select_from_pickers = [this] {
        session_->selectHead(layer_spin_->value(), head_spin_->value());
    };
    connect(layer_spin_, &QSpinBox::valueChanged, this, select_from_pickers);
    connect(head_spin_, &QSpinBox::valueChanged, this, select_from_pickers);
    connect(thumbnails_, &HeadGrid::headClicked, session_, &Session::selectHead);
    connect(summary_, &HeadGrid::headClicked, session_, &Session::selectHead);
    // Right-click a head: turn that dial (ablate, scale, restore).
    for (HeadGrid* grid : {thumbnails_, summary_})
        connect(grid, &HeadGrid::headMenuRequested, this,
                [this](int layer, int head, const QPoint& global) {
                    std::unique_ptr<QMenu> menu(headMenu(layer, head));
                    menu->exec(global);
                });
    heatmap_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(heatmap_, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        if (shown_layer_ < 0) return;
        std::unique_ptr<QMenu> menu(headMenu(shown_layer_, shown_head_));
        menu->exec(heatmap_->mapToGlobal(at));
    });
    connect(heatmap_, &AttentionHeatmap::queryClicked, session_, &Session::selectPosition);
    connect(lines_, &AttentionLines::queryClicked, session_, &Session::selectPosition);
    connect(metric_, &QComboBox::currentIndexChanged, this, &AttentionView::refreshSummary);
    connect(lines_mode_, &QComboBox::currentIndexChanged, this, &AttentionView::showHead);
    connect(session_, &Session::analysisReady, this, &AttentionView::refresh);
    connect(session_, &Session::modelChanged, this, &AttentionView::refresh);
    connect(session_, &Session::selectionChanged, this, &AttentionView::followSelection);
    refresh();
}

const Trace* AttentionView::trace() const {
    const auto& model = session_->model();
    const auto& trace = session_->trace();
    if (!model || !trace || trace->ids.empty() || trace->layers.empty()) return nullptr;
    const Config& c = model->config;
    const auto T = static_cast<Eigen::Index>(trace->ids.size());
    // A trace of the previous model can outlive a model change until the new analysis lands.
    if (static_cast<int>(trace->layers.size()) != c.n_layers) return nullptr;
    for (const LayerTrace& layer : trace->layers)
        if (layer.heads != c.n_heads || layer.pattern.rows() != T) return nullptr;
    return trace.get();
}

HeadMetric AttentionView::headMetric() const {
    return kMetrics[std::max(0, metric_->currentIndex())].metric;
}

void AttentionView::setMetric(HeadMetric metric) {
    for (int i = 0; i < kHeadMetricCount; ++i)
        if (kMetrics[i].metric == metric) metric_->setCurrentIndex(i);
}

void AttentionView::setLinesAllHeads(bool all) {
    lines_mode_->setCurrentIndex(all ? 1 : 0);
}

QStringList AttentionView::tokenLabels() const {
    QStringList labels;
    const Tokenizer& tok = *session_->model()->tokenizer;
    for (int id : session_->trace()->ids) labels << token_display(tok, id);
    return labels;
}

void AttentionView::refresh() {
    const Trace* t = trace();
    shown_layer_ = shown_head_ = -1;
    if (!t) {
        stats_ = AttentionStats();
        const QString why = !session_->model()      ? tr("Open a model to see its attention.")
                            : session_->analyzing() ? tr("Analyzing…")
                                                    : tr("Type a prompt.");
        title_->setText(tr("<b>Attention</b>"));
        kv_label_->clear();
        heatmap_->clear(why);
        lines_->clear(why);
        thumbnails_->clear(why);
        summary_->clear(why);
        return;
    }
    const Config& c = session_->model()->config;
    stats_ = attention_stats(*t);
    labels_ = tokenLabels();
    {
        const QSignalBlocker block_layer(layer_spin_), block_head(head_spin_);
        layer_spin_->setRange(0, c.n_layers - 1);
        head_spin_->setRange(0, c.n_heads - 1);
    }
    thumbnails_->showThumbnails(*t, c, tr("Every head (click one)"));
    std::vector<QString> tips;
    for (int l = 0; l < c.n_layers; ++l)
        for (int h = 0; h < c.n_heads; ++h) tips.push_back(headTooltip(l, h));
    thumbnails_->setHeadTooltips(tips);
    summary_->setHeadTooltips(std::move(tips));
    refreshSummary();
    showHead();
    followPosition();
}

void AttentionView::refreshSummary() {
    if (!trace()) return;
    const HeadMetric m = headMetric();
    const int T = static_cast<int>(session_->trace()->ids.size());
    // Entropy is at most log2(T) bits (a uniform row over every token); the rest are fractions.
    const QCPRange range = m == HeadMetric::Entropy
                               ? QCPRange(0, std::max(1.0, std::log2(double(T))))
                               : QCPRange(0, 1);
    summary_->showScores(stats_, session_->model()->config, m, range,
                         tr("Score: %1").arg(metric_->currentText()));
    summary_->setSelectedHead(shown_layer_, shown_head_);
}

QString AttentionView::headTooltip(int layer, int head) const {
    const Config& c = session_->model()->config;
    const HeadScores& s = stats_.at(layer, head);
    QString tip = tr("<b>layer %1, head %2</b>").arg(layer).arg(head);
    if (c.n_kv_heads < c.n_heads) tip += tr(" (kv head %1)").arg(kv_head_of(c, head));
    tip += tr("<table><tr><td>previous token</td><td align=right>%1</td></tr>"
              "<tr><td>first token</td><td align=right>%2</td></tr>"
              "<tr><td>self</td><td align=right>%3</td></tr>"
              "<tr><td>entropy</td><td align=right>%4 bits</td></tr>"
              "<tr><td>induction</td><td align=right>%5</td></tr></table>")
               .arg(number_or_dash(s.previous_token, 3))
               .arg(number_or_dash(s.first_token, 3))
               .arg(number_or_dash(s.self, 3))
               .arg(number_or_dash(s.entropy_bits, 2))
               .arg(number_or_dash(s.induction, 3));
    return tip;
}

// Draws the session's layer and head in the heatmap and the lines, if not already shown.
void AttentionView::showHead() {
    const Trace* t = trace();
    if (!t) return;
    const Config& c = session_->model()->config;
    const int layer = session_->layer(), head = session_->head();
    const bool all_heads = lines_mode_->currentIndex() == 1;
    if (layer == shown_layer_ && head == shown_head_ && all_heads == shown_all_heads_) return;
    const bool head_changed = layer != shown_layer_ || head != shown_head_;
    shown_layer_ = layer;
    shown_head_ = head;
    shown_all_heads_ = all_heads;
    {
        const QSignalBlocker block_layer(layer_spin_), block_head(head_spin_);
        layer_spin_->setValue(layer);
        head_spin_->setValue(head);
    }
    const LayerTrace& lt = t->layers[static_cast<size_t>(layer)];
    const HeadScores& s = stats_.at(layer, head);
    const int T = static_cast<int>(t->ids.size());
    title_->setText(tr("<b>Attention</b> &nbsp;·&nbsp; layer %1, head %2 &nbsp;·&nbsp; %3 tokens "
                       "&nbsp;·&nbsp; previous token %4, first token %5")
                        .arg(layer)
                        .arg(head)
                        .arg(T)
                        .arg(number_or_dash(s.previous_token, 2))
                        .arg(number_or_dash(s.first_token, 2)));
    if (c.n_kv_heads < c.n_heads) {
        const int kv = kv_head_of(c, head);
        kv_label_->setText(tr("kv head %1 · shared by query heads %2")
                               .arg(kv)
                               .arg(join_heads(heads_sharing_kv(c, kv))));
    } else {
        kv_label_->clear();
    }
    const int window = c.window(layer);
    if (head_changed)
        heatmap_->setPattern(
            lt.head_pattern(head), labels_,
            window > 0 ? tr("Layer %1, head %2: query → key weights (sliding window of %3)")
                             .arg(layer)
                             .arg(head)
                             .arg(window)
                       : tr("Layer %1, head %2: query → key weights").arg(layer).arg(head),
            window);
    std::vector<int> heads;
    if (all_heads)
        for (int h = 0; h < c.n_heads; ++h) heads.push_back(h);
    else
        heads.push_back(head);
    lines_->setPatterns(lt, heads, labels_,
                        all_heads ? tr("Layer %1, all heads").arg(layer)
                                  : tr("Layer %1, head %2").arg(layer).arg(head));
    thumbnails_->setSelectedHead(layer, head);
    summary_->setSelectedHead(layer, head);
}

void AttentionView::followSelection() {
    if (!trace()) return;
    showHead();
    followPosition();
}

void AttentionView::followPosition() {
    const int position = session_->position();
    heatmap_->setSelectedQuery(position);
    lines_->setSelectedQuery(position);
}

double AttentionView::cellValue(int query, int key) const {
    return shown_layer_ < 0 ? std::nan("") : heatmap_->cellValue(query, key);
}

bool AttentionView::exportPatternCsv(const QString& path, bool all_heads) const {
    const Trace* t = trace();
    if (!t || shown_layer_ < 0) return false;
    const Config& c = session_->model()->config;
    const int T = static_cast<int>(t->ids.size());
    const LayerTrace& lt = t->layers[static_cast<size_t>(shown_layer_)];
    return export_csv(path, [&](QTextStream& out) {
        out << "layer,head,kv_head,query,query_token,key,key_token,weight\n";
        for (int h = 0; h < c.n_heads; ++h) {
            if (!all_heads && h != shown_head_) continue;
            const auto p = lt.head_pattern(h);
            for (int q = 0; q < T; ++q)
                for (int k = 0; k <= q; ++k)
                    out << shown_layer_ << ',' << h << ',' << kv_head_of(c, h) << ',' << q << ','
                        << csv_field(labels_[q]) << ',' << k << ',' << csv_field(labels_[k]) << ','
                        << QString::number(p(q, k), 'g', 9) << '\n';
        }
    });
}

bool AttentionView::exportSummaryCsv(const QString& path) const {
    if (!trace() || stats_.n_layers == 0) return false;
    const Config& c = session_->model()->config;
    return export_csv(path, [&](QTextStream& out) {
        out << "layer,head,kv_head";
        for (int m = 0; m < kHeadMetricCount; ++m)
            out << ',' << head_metric_name(static_cast<HeadMetric>(m));
        out << '\n';
        for (int l = 0; l < stats_.n_layers; ++l) {
            for (int h = 0; h < stats_.n_heads; ++h) {
                out << l << ',' << h << ',' << kv_head_of(c, h);
                for (int m = 0; m < kHeadMetricCount; ++m)
                    out << ',' << csv_number(stats_.at(l, h).get(static_cast<HeadMetric>(m)));
                out << '\n';
            }
        }
    });
}

QMenu* AttentionView::headMenu(int layer, int head) {
    auto* menu = new QMenu(this);
    add_intervention_actions(menu, session_, Hook::AttnZ, layer, head);
    return menu;
}

}  // namespace ps
