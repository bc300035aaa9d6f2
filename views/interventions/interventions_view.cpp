// The Interventions dock (views/interventions/interventions_view.h).
#include "views/interventions/interventions_view.h"

#include "views/widgets/custom_plot.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QListWidget>
#include <QMenu>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalBlocker>
#include <QVBoxLayout>
#include <memory>

#include "app/session/session.h"
#include "views/interventions/importance_chart.h"
#include "views/widgets/intervention_menu.h"
#include "views/widgets/theme.h"
#include "views/widgets/token_text.h"

namespace ps {

InterventionsView::InterventionsView(Session* session, QWidget* parent)
    : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    auto* hint =
        new QLabel(tr("Right-click a head (Attention), a neuron (Neurons) or a tensor "
                      "(Parameters) to ablate, scale or edit it; untick to compare."));
    hint->setWordWrap(true);
    layout->addWidget(hint);
    list_ = new QListWidget;
    list_->setMaximumHeight(90);
    layout->addWidget(list_);
    auto* buttons = new QHBoxLayout;
    remove_ = new QPushButton(tr("Remove"));
    clear_ = new QPushButton(tr("Clear all"));
    buttons->addWidget(remove_);
    buttons->addWidget(clear_);
    buttons->addStretch();
    layout->addLayout(buttons);

    effect_label_ = new QLabel;
    effect_label_->setWordWrap(true);
    effect_label_->setTextFormat(Qt::RichText);
    layout->addWidget(effect_label_);
    effect_plot_ = new QCustomPlot;
    before_bars_ = new QCPBars(effect_plot_->xAxis, effect_plot_->yAxis);
    before_bars_->setName(tr("before (plain run)"));
    before_bars_->setPen(QPen(QColor(120, 120, 120), 1.5, Qt::DashLine));
    before_bars_->setBrush(QColor(160, 160, 160, 60));
    before_bars_->setWidth(0.8);
    after_bars_ = new QCPBars(effect_plot_->xAxis, effect_plot_->yAxis);
    after_bars_->setName(tr("after (intervened)"));
    after_bars_->setPen(Qt::NoPen);
    after_bars_->setBrush(QColor(214, 96, 77, 200));
    after_bars_->setWidth(0.45);
    effect_plot_->xAxis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTickerText));
    effect_plot_->yAxis->setLabel(tr("probability"));
    effect_plot_->legend->setVisible(true);
    effect_plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    Appearance::instance().watch(effect_plot_);
    keep_height_with_text(effect_plot_, 130, 320);
    layout->addWidget(effect_plot_, 1);

    auto* sweep_row = new QHBoxLayout;
    sweep_ = new QPushButton(tr("Which heads matter?"));
    sweep_->setToolTip(
        tr("Ablate every head in turn and measure the drop in the probability "
           "of the model's top next token"));
    cancel_ = new QPushButton(tr("Cancel"));
    progress_ = new QProgressBar;
    sweep_row->addWidget(sweep_);
    sweep_row->addWidget(progress_, 1);
    sweep_row->addWidget(cancel_);
    layout->addLayout(sweep_row);
    importance_ = new ImportanceChart;
    keep_height_with_text(importance_, 150, 400);
    layout->addWidget(importance_, 1);

    // Rows: the interventions, then the weight edits.
    connect(list_, &QListWidget::itemChanged, this, [this](QListWidgetItem* item) {
        const int row = list_->row(item);
        const int n = static_cast<int>(session_->interventions().size());
        const bool on = item->checkState() == Qt::Checked;
        if (row < n)
            session_->setInterventionEnabled(row, on);
        else
            session_->setWeightEditEnabled(row - n, on);
    });
    connect(remove_, &QPushButton::clicked, this, [this] {
        const int row = list_->currentRow();
        const int n = static_cast<int>(session_->interventions().size());
        if (row < 0) return;
        if (row < n)
            session_->removeIntervention(row);
        else
            session_->removeWeightEdit(row - n);
    });
    connect(clear_, &QPushButton::clicked, session_, &Session::clearInterventions);
    connect(sweep_, &QPushButton::clicked, this, [this] {
        session_->computeImportance();
        refreshImportance();
    });
    connect(cancel_, &QPushButton::clicked, session_, &Session::cancelImportance);
    connect(importance_, &ImportanceChart::headClicked, session_, &Session::selectHead);
    connect(importance_, &ImportanceChart::headMenuRequested, this,
            [this](int layer, int head, const QPoint& global) {
                std::unique_ptr<QMenu> menu(headMenu(layer, head));
                menu->exec(global);
            });
    connect(session_, &Session::interventionsChanged, this, &InterventionsView::refreshList);
    connect(session_, &Session::analysisReady, this, &InterventionsView::refreshEffect);
    connect(session_, &Session::selectionChanged, this, &InterventionsView::refreshEffect);
    connect(session_, &Session::modelChanged, this, &InterventionsView::refreshEffect);
    connect(session_, &Session::importanceReady, this, &InterventionsView::refreshImportance);
    connect(session_, &Session::importanceProgress, this, [this](int done, int total) {
        progress_->setRange(0, total);
        progress_->setValue(done);
    });
    refreshList();
    refreshEffect();
    refreshImportance();
}

QMenu* InterventionsView::headMenu(int layer, int head) {
    auto* menu = new QMenu(this);
    add_intervention_actions(menu, session_, Hook::AttnZ, layer, head);
    return menu;
}

void InterventionsView::refreshList() {
    const QSignalBlocker block(list_);
    const int current = list_->currentRow();
    list_->clear();
    for (const Intervention& iv : session_->interventions()) {
        auto* item = new QListWidgetItem(QString::fromStdString(iv.describe()));
        item->setToolTip(QString::fromStdString(iv.spec()));
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(iv.enabled ? Qt::Checked : Qt::Unchecked);
        list_->addItem(item);
    }
    for (const WeightEdit& e : session_->weightEdits()) {
        const QString spec = QString::fromStdString(e.spec());
        auto* item = new QListWidgetItem(tr("weight %1").arg(spec.mid(7)));  // after "weight:"
        item->setToolTip(tr("%1 — the file is not changed").arg(spec));
        item->setFlags(item->flags() | Qt::ItemIsUserCheckable);
        item->setCheckState(e.enabled ? Qt::Checked : Qt::Unchecked);
        list_->addItem(item);
    }
    list_->setCurrentRow(std::min(current, list_->count() - 1));
    remove_->setEnabled(list_->count() > 0);
    clear_->setEnabled(list_->count() > 0);
    refreshEffect();
}

std::vector<double> InterventionsView::barValues(bool after) const {
    std::vector<double> out;
    if (!effect_) return out;
    for (const TokenChange& t : effect_->top) out.push_back(after ? t.p_after : t.p_before);
    return out;
}

void InterventionsView::refreshEffect() {
    effect_.reset();
    const int position = session_->position();
    const float* before = session_->baselineLogitsAt(position);
    const float* after = session_->logitsAt(position);
    auto ticker = effect_plot_->xAxis->ticker().dynamicCast<QCPAxisTickerText>();
    ticker->clear();
    if (!session_->model() || !before || !after) {
        before_bars_->data()->clear();
        after_bars_->data()->clear();
        effect_label_->setText(session_->intervened()
                                   ? tr("Computing the intervened run…")
                                   : tr("No intervention is on: the model runs as trained."));
        effect_plot_->setVisible(false);
        return;
    }
    effect_plot_->setVisible(true);
    const Tokenizer& tok = *session_->model()->tokenizer;
    effect_ = intervention_effect(before, after, session_->model()->config.vocab_size, 8);
    QVector<double> keys, b, a;
    for (size_t i = 0; i < effect_->top.size(); ++i) {
        keys.push_back(double(i));
        b.push_back(effect_->top[i].p_before);
        a.push_back(effect_->top[i].p_after);
        ticker->addTick(double(i), token_display(tok, effect_->top[i].id));
    }
    before_bars_->setData(keys, b, true);
    after_bars_->setData(keys, a, true);
    effect_plot_->xAxis->setRange(-0.6, double(keys.size()) - 0.4);
    effect_plot_->yAxis->setRange(
        0, std::max(*std::max_element(a.begin(), a.end()), *std::max_element(b.begin(), b.end())) *
               1.15);
    const QString from = token_display(tok, effect_->argmax_before).toHtmlEscaped();
    const QString to = token_display(tok, effect_->argmax_after).toHtmlEscaped();
    const QString change = effect_->argmax_before == effect_->argmax_after
                               ? tr("the top token stays <b>%1</b>").arg(from)
                               : tr("the top token changes: <b>%1</b> → <b>%2</b>").arg(from, to);
    effect_label_->setText(tr("At position %1: KL divergence %2 nats; %3.")
                               .arg(position)
                               .arg(effect_->kl_divergence, 0, 'g', 4)
                               .arg(change));
    effect_plot_->replot();
}

void InterventionsView::refreshImportance() {
    const bool running = session_->importanceRunning();
    sweep_->setEnabled(session_->model() && !running);
    cancel_->setEnabled(running);
    progress_->setVisible(running);
    if (running) progress_->setValue(0);
    const auto& result = session_->importance();
    if (!result) {
        importance_->clear(running ? tr("Ablating every head…")
                                   : tr("Press “Which heads matter?” to ablate each head"));
        return;
    }
    const Tokenizer& tok = *session_->model()->tokenizer;
    importance_->showImportance(*result, tr("Drop in p(%1) = %2 when each head is silenced")
                                             .arg(token_display(tok, result->target_id))
                                             .arg(result->baseline_p, 0, 'f', 3));
}

}  // namespace ps
