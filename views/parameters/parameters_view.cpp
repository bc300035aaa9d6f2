#include "views/parameters/parameters_view.h"

#include "views/widgets/custom_plot.h"

#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QPushButton>
#include <QScrollArea>
#include <QSlider>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <memory>

#include "app/session/session.h"
#include "core/analysis/layer_analysis.h"
#include "core/analysis/param_stats.h"
#include "core/model/compact_weights.h"
#include "core/model/model.h"
#include "views/parameters/parameter_histogram.h"
#include "views/parameters/parameter_inventory.h"
#include "views/parameters/weight_edit_menu.h"
#include "views/widgets/plot_export.h"
#include "views/widgets/token_text.h"

namespace ps {

ParametersView::ParametersView(Session* session, QWidget* parent)
    : QWidget(parent), session_(session) {
    setObjectName("parameters");
    inventory_ = new ParameterInventory(this);
    histogram_ = new ParameterHistogram(this);

    pin_ = new QPushButton(tr("Compare: pin as B"), this);
    pin_->setObjectName("pin");
    pin_->setToolTip(tr("keep this selection (at this step) as B, then select or scrub A"));
    unpin_ = new QPushButton(tr("Clear B"), this);
    unpin_->setObjectName("unpin");
    auto* export_button = new QPushButton(tr("Export…"), this);
    export_button->setToolTip(tr("save the histogram (PNG, SVG, PDF) or its counts (CSV)"));
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(pin_);
    buttons->addWidget(unpin_);
    buttons->addStretch();
    buttons->addWidget(export_button);

    // Across training: a step slider over the snapshots and the loss curve.
    training_row_ = new QWidget(this);
    step_slider_ = new QSlider(Qt::Horizontal, training_row_);
    step_slider_->setObjectName("step");
    step_label_ = new QLabel(training_row_);
    step_label_->setMinimumWidth(150);
    loss_plot_ = new QCustomPlot(training_row_);
    loss_plot_->setObjectName("lossPlot");
    loss_plot_->setMinimumHeight(120);
    loss_plot_->setMaximumHeight(180);
    auto* step_row = new QHBoxLayout;
    step_row->addWidget(new QLabel(tr("training step"), training_row_));
    step_row->addWidget(step_slider_, 1);
    step_row->addWidget(step_label_);
    auto* training_layout = new QVBoxLayout(training_row_);
    training_layout->setContentsMargins(0, 0, 0, 0);
    training_layout->addLayout(step_row);
    training_layout->addWidget(loss_plot_);
    training_row_->hide();

    auto* histogram_tab = new QWidget(this);
    auto* histogram_layout = new QVBoxLayout(histogram_tab);
    histogram_layout->setContentsMargins(4, 4, 4, 4);
    histogram_layout->addLayout(buttons);
    histogram_layout->addWidget(histogram_, 1);
    histogram_layout->addWidget(training_row_);

    // The token embeddings as parameters.
    auto* embeddings_tab = new QWidget(this);
    token_edit_ = new QLineEdit(embeddings_tab);
    token_edit_->setObjectName("nearestToken");
    token_edit_->setPlaceholderText(tr("a token, e.g. ' cat', or an id like #42"));
    nearest_title_ = new QLabel(embeddings_tab);
    nearest_title_->setWordWrap(true);
    nearest_ = new QTableWidget(0, 3, embeddings_tab);
    nearest_->setObjectName("nearestTable");
    nearest_->setHorizontalHeaderLabels({tr("token"), tr("id"), tr("cosine similarity")});
    nearest_->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    nearest_->setEditTriggers(QAbstractItemView::NoEditTriggers);
    auto* embeddings_layout = new QVBoxLayout(embeddings_tab);
    embeddings_layout->addWidget(new QLabel(
        tr("Each token's embedding is one row of the embedding matrix: parameters learned in "
           "training. Tokens used alike end up with similar rows."),
        embeddings_tab));
    embeddings_layout->itemAt(0)->widget()->setProperty("wordWrap", true);
    embeddings_layout->addWidget(token_edit_);
    embeddings_layout->addWidget(nearest_title_);
    map_ = new QCustomPlot(embeddings_tab);
    map_->setObjectName("embeddingMap");
    map_->setMinimumHeight(160);
    auto* embeddings_split = new QSplitter(Qt::Vertical, embeddings_tab);
    embeddings_split->addWidget(nearest_);
    embeddings_split->addWidget(map_);
    embeddings_split->setStretchFactor(1, 2);
    embeddings_layout->addWidget(embeddings_split, 1);

    tabs_ = new QTabWidget(this);
    tabs_->addTab(histogram_tab, tr("Histogram"));
    tabs_->addTab(embeddings_tab, tr("Token embeddings"));

    auto* split = new QSplitter(Qt::Vertical, this);
    split->addWidget(inventory_);
    split->addWidget(tabs_);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 3);
    // Its charts need more height than a projector's window has at large text: it scrolls then,
    // rather than growing the window past the screen.
    auto* scroll = new QScrollArea(this);
    scroll->setObjectName("parametersScroll");
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    scroll->setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    scroll->setWidget(split);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(scroll);

    connect(session_, &Session::modelChanged, this, &ParametersView::onModelChanged);
    // Weight edits show in the histograms as soon as the edited model is in use.
    connect(session_, &Session::interventionsChanged, this, [this] {
        if (step_index_ < 0) updateSelection();
    });
    QTreeWidget* tree = inventory_->tree();
    tree->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(tree, &QTreeWidget::customContextMenuRequested, this, [this, tree](const QPoint& at) {
        std::unique_ptr<QMenu> menu(editMenu(inventory_->tensorAt(tree->itemAt(at))));
        if (!menu->isEmpty()) menu->exec(tree->viewport()->mapToGlobal(at));
    });
    connect(inventory_, &ParameterInventory::selectionChanged, this,
            &ParametersView::updateSelection);
    connect(step_slider_, &QSlider::valueChanged, this,
            [this](int v) { showStep(v >= static_cast<int>(history_.steps.size()) ? -1 : v); });
    connect(pin_, &QPushButton::clicked, this, &ParametersView::pinComparison);
    connect(unpin_, &QPushButton::clicked, this, &ParametersView::clearComparison);
    connect(export_button, &QPushButton::clicked, this, &ParametersView::exportDialog);
    connect(token_edit_, &QLineEdit::returnPressed, this,
            [this] { showNearest(token_edit_->text()); });
    if (session_->model()) onModelChanged();
}

void ParametersView::onModelChanged() {
    model_ = session_->model();
    snapshots_.clear();
    step_index_ = -1;
    history_ = {};
    if (model_) {
        try {
            history_ = find_training_history(model_->path);
        } catch (const std::exception& e) {
            step_label_->setText(QString::fromUtf8(e.what()));
        }
    }
    histogram_->setSelection(1, std::nullopt);
    inventory_->setModel(model_);
    const int n = static_cast<int>(history_.steps.size());
    training_row_->setVisible(n > 0);
    step_slider_->blockSignals(true);
    step_slider_->setRange(0, n);  // the last position is the loaded (trained) model
    step_slider_->setValue(n);
    step_slider_->blockSignals(false);
    showStep(-1);
    drawLossCurve();
    if (model_) inventory_->selectKind("weight", -1);
    nearest_->setRowCount(0);
    nearest_title_->clear();
}

std::shared_ptr<const ParametersView::Snapshot> ParametersView::snapshot(int index) {
    auto& slot = snapshots_[index];
    if (!slot) {
        // Snapshots of the models the trainer makes are a few MB of f16: read here, once.
        slot = std::make_shared<const Snapshot>(
            load_snapshot(history_.snapshot_paths[static_cast<size_t>(index)], *model_));
    }
    return slot;
}

void ParametersView::showStep(int index) {
    step_index_ = index >= 0 && index < static_cast<int>(history_.steps.size()) ? index : -1;
    if (step_index_ < 0) {
        step_label_->setText(tr("trained (loaded model)"));
    } else {
        step_label_->setText(step_index_ == 0 ? tr("step 0 (random init)")
                                              : tr("step %1").arg(history_.steps[step_index_]));
    }
    step_slider_->blockSignals(true);
    step_slider_->setValue(step_index_ < 0 ? static_cast<int>(history_.steps.size()) : step_index_);
    step_slider_->blockSignals(false);
    updateSelection();
    drawLossCurve();
}

int ParametersView::shownStep() const {
    return step_index_ < 0 ? -1 : history_.steps[static_cast<size_t>(step_index_)];
}

void ParametersView::updateSelection() {
    if (!model_) {
        histogram_->setSelection(0, std::nullopt);
        return;
    }
    ParameterHistogram::Selection s;
    const std::vector<int> indices = inventory_->selectedTensors();
    s.name = inventory_->selectionName();
    if (step_index_ < 0) {
        // The values every run uses: the file's, with the enabled weight edits.
        std::shared_ptr<const Model> shown = session_->runModel();
        if (!shown || shown->tensors.size() != model_->tensors.size()) shown = model_;
        s.values = tensor_values(*shown, indices);
        s.owner = shown;
    } else {
        try {
            auto snap = snapshot(step_index_);
            for (int i : indices) {
                const auto& v = snap->at(model_->tensors[static_cast<size_t>(i)].name);
                s.values.emplace_back(std::span<const float>(v.data(), v.size()));
            }
            s.owner = snap;
            s.name += tr(" @ step %1").arg(shownStep());
        } catch (const std::exception& e) {
            step_label_->setText(QString::fromUtf8(e.what()));
            return;
        }
    }
    histogram_->setSelection(0, std::move(s));
}

QMenu* ParametersView::editMenu(int tensor) {
    auto* menu = new QMenu(this);
    if (model_) add_weight_edit_actions(menu, session_, *model_, tensor, this);
    return menu;
}

void ParametersView::pinComparison() {
    if (auto a = histogram_->selection(0)) {
        if (step_index_ < 0 && !history_.empty()) a->name += tr(" (trained)");
        histogram_->setSelection(1, std::move(a));
    }
}

void ParametersView::clearComparison() {
    histogram_->setSelection(1, std::nullopt);
}

void ParametersView::drawLossCurve() {
    loss_plot_->clearGraphs();
    loss_plot_->clearItems();
    if (history_.log.empty()) {
        loss_plot_->replot();
        return;
    }
    QVector<double> steps, train, vsteps, val;
    for (const TrainingLogRow& r : history_.log) {
        if (!std::isnan(r.train_loss)) {
            steps << r.step;
            train << r.train_loss;
        }
        if (!std::isnan(r.val_loss)) {
            vsteps << r.step;
            val << r.val_loss;
        }
    }
    auto* g = loss_plot_->addGraph();
    g->setName(tr("train loss"));
    g->setPen(QPen(QColor(50, 110, 200)));
    g->setData(steps, train, true);
    auto* v = loss_plot_->addGraph();
    v->setName(tr("validation loss"));
    v->setPen(QPen(QColor(230, 110, 30), 2));
    v->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 4));
    v->setData(vsteps, val, true);
    const int step = shownStep() < 0 ? history_.log.back().step : shownStep();
    auto* marker = new QCPItemStraightLine(loss_plot_);
    marker->point1->setCoords(step, 0);
    marker->point2->setCoords(step, 1);
    marker->setPen(QPen(Qt::darkGray, 1, Qt::DashLine));
    loss_plot_->xAxis->setLabel(tr("step"));
    loss_plot_->yAxis->setLabel(tr("loss (nats)"));
    // Log scale: the first steps fall from ln(vocab) and the rest would be a flat line.
    loss_plot_->yAxis->setScaleType(QCPAxis::stLogarithmic);
    loss_plot_->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>(new QCPAxisTickerLog));
    loss_plot_->legend->setVisible(true);
    loss_plot_->rescaleAxes();
    loss_plot_->replot();
}

void ParametersView::showNearest(const QString& text) {
    nearest_->setRowCount(0);
    if (!model_ || !model_->tokenizer) return;
    const Tokenizer& tok = *model_->tokenizer;
    int id = -1;
    if (text.startsWith('#')) {
        bool ok = false;
        id = text.mid(1).toInt(&ok);
        if (!ok) id = -1;
    } else {
        const std::string utf8 = text.toStdString();
        const std::vector<int> ids = tok.encode(utf8);
        for (int candidate : ids)
            if (tok.token_bytes(candidate).size() > 0) {
                id = candidate;
                break;
            }
    }
    if (id < 0 || id >= model_->config.vocab_size) {
        nearest_title_->setText(tr("No token for '%1'.").arg(text));
        return;
    }
    const auto nearest = nearest_tokens(*model_, id, 20);
    nearest_title_->setText(tr("Nearest to %1 (id %2) among all %3 token embeddings:")
                                .arg(token_display(tok, id))
                                .arg(id)
                                .arg(model_->config.vocab_size));
    nearest_->setRowCount(static_cast<int>(nearest.size()));
    for (int r = 0; r < static_cast<int>(nearest.size()); ++r) {
        const auto [other, cosine] = nearest[static_cast<size_t>(r)];
        nearest_->setItem(r, 0, new QTableWidgetItem(token_display(tok, other)));
        nearest_->setItem(r, 1, new QTableWidgetItem(QString::number(other)));
        nearest_->setItem(r, 2, new QTableWidgetItem(QString::number(cosine, 'f', 4)));
    }
    drawEmbeddingMap(id, nearest);
}

// A 2-D PCA map of some token embeddings: the token, its nearest tokens (labelled) and a sample
// spread evenly over the vocabulary (grey) for context. PCA is fit on these rows only, so the
// map stays instant on a 50,257-token vocabulary.
void ParametersView::drawEmbeddingMap(int token,
                                      const std::vector<std::pair<int, float>>& nearest) {
    map_->clearPlottables();
    map_->clearItems();
    const Config& c = model_->config;
    std::vector<int> ids = {token};
    for (const auto& [id, cosine] : nearest) ids.push_back(id);
    const int labelled = static_cast<int>(ids.size());
    const int spread = std::min(200, c.vocab_size);
    for (int i = 0; i < spread; ++i) {
        const int id = static_cast<int>(int64_t(i) * c.vocab_size / spread);
        if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
    }
    MatrixRM rows(static_cast<Eigen::Index>(ids.size()), c.dim);
    for (size_t r = 0; r < ids.size(); ++r)
        token_embedding_row(model_->weights, c.dim, ids[r],
                            rows.row(static_cast<Eigen::Index>(r)).data());
    const Pca2 pca = principal_components_2d(rows);
    const Tokenizer& tok = *model_->tokenizer;
    auto* context = new QCPGraph(map_->xAxis, map_->yAxis);
    context->setLineStyle(QCPGraph::lsNone);
    context->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(170, 170, 170), 4));
    auto* near = new QCPGraph(map_->xAxis, map_->yAxis);
    near->setLineStyle(QCPGraph::lsNone);
    near->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(50, 110, 200), 7));
    auto* chosen = new QCPGraph(map_->xAxis, map_->yAxis);
    chosen->setLineStyle(QCPGraph::lsNone);
    chosen->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssDisc, QColor(210, 50, 40), 10));
    for (int r = 0; r < static_cast<int>(ids.size()); ++r) {
        const double x = pca.coords(r, 0), y = pca.coords(r, 1);
        (r == 0 ? chosen : r < labelled ? near : context)->addData(x, y);
        if (r < labelled) {
            auto* label = new QCPItemText(map_);
            label->position->setCoords(x, y);
            label->setPositionAlignment(Qt::AlignLeft | Qt::AlignBottom);
            label->setText(token_display(tok, ids[static_cast<size_t>(r)]));
            label->setColor(r == 0 ? QColor(210, 50, 40) : QColor(40, 70, 130));
        }
    }
    map_points_ = static_cast<int>(ids.size());
    map_->xAxis->setLabel(tr("PC1 (%1% of variance)").arg(pca.explained[0] * 100, 0, 'f', 1));
    map_->yAxis->setLabel(tr("PC2 (%1% of variance)").arg(pca.explained[1] * 100, 0, 'f', 1));
    map_->rescaleAxes();
    map_->xAxis->scaleRange(1.15);
    map_->yAxis->scaleRange(1.15);
    map_->replot();
}

void ParametersView::exportDialog() {
    export_dialog(this, "parameters", histogram_->plot(),
                  [this](const QString& path) { return histogram_->exportCsv(path); });
}

}  // namespace ps
