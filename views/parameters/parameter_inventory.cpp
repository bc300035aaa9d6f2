#include "views/parameters/parameter_inventory.h"

#include "views/widgets/custom_plot.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLocale>
#include <QTreeWidget>
#include <QVBoxLayout>
#include <functional>
#include <map>
#include <utility>

#include "core/analysis/param_stats.h"
#include "core/model/model.h"
#include "views/parameters/parameter_histogram.h"
#include "views/widgets/theme.h"

namespace ps {

namespace {

constexpr int kTensorRole = Qt::UserRole + 1;  // index into model.tensors, -1 for groups

const char* const kKinds[] = {"embedding", "weight", "bias", "norm"};

QString group_title(const std::string& component) {
    if (component == "embeddings") return QObject::tr("embeddings");
    if (component == "attention") return QObject::tr("attention");
    if (component == "mlp") return QObject::tr("MLP");
    if (component == "norms") return QObject::tr("norms");
    return QObject::tr("unembedding");
}

QString shape_text(const std::vector<int64_t>& shape) {
    QStringList parts;
    for (int64_t n : shape) parts << QString::number(n);
    return "[" + parts.join(", ") + "]";
}

QString grouped(int64_t n) {
    return QLocale(QLocale::English).toString(static_cast<qlonglong>(n));
}

int64_t kind_total(const KindTotals& t, int kind) {
    const int64_t v[] = {t.embedding, t.weight, t.bias, t.norm};
    return v[kind];
}

// A tensor holding NaN or infinite values, and the groups above it, in red: they stand out in
// a collapsed tree too.
void mark_non_finite(QTreeWidgetItem* item, int64_t count) {
    const QString tip = QObject::tr("%1 NaN or infinite values").arg(grouped(count));
    for (QTreeWidgetItem* at = item; at; at = at->parent()) {
        for (int column = 0; column < at->columnCount(); ++column) {
            at->setForeground(column, ParameterHistogram::nonFiniteColor());
            at->setToolTip(column, at == item ? tip
                                              : QObject::tr("holds tensors with NaN or infinite "
                                                            "values"));
        }
    }
}

}  // namespace

ParameterInventory::ParameterInventory(QWidget* parent) : QWidget(parent) {
    tree_ = new QTreeWidget(this);
    tree_->setObjectName("inventoryTree");
    tree_->setColumnCount(6);
    tree_->setHeaderLabels(
        {tr("tensor"), tr("kind"), tr("shape"), tr("dtype"), tr("count"), tr("bytes")});
    tree_->setSelectionMode(QAbstractItemView::ExtendedSelection);
    tree_->setUniformRowHeights(true);
    tree_->setMinimumHeight(80);
    tree_->header()->setSectionResizeMode(QHeaderView::ResizeToContents);

    kind_ = new QComboBox(this);
    kind_->setObjectName("quickKind");
    kind_->addItem(tr("all parameters"), "all");
    kind_->addItem(tr("all embeddings"), "embedding");
    kind_->addItem(tr("all weights"), "weight");
    kind_->addItem(tr("all biases"), "bias");
    kind_->addItem(tr("all norm gains"), "norm");
    layer_ = new QComboBox(this);
    layer_->setObjectName("quickLayer");
    auto* quick = new QHBoxLayout;
    quick->addWidget(new QLabel(tr("select"), this));
    quick->addWidget(kind_);
    quick->addWidget(new QLabel(tr("in"), this));
    quick->addWidget(layer_);
    quick->addStretch();

    totals_ = new QCustomPlot(this);
    totals_->setObjectName("totalsChart");
    keep_height_with_text(totals_, 130, 180);
    formula_ = new QLabel(this);
    formula_->setObjectName("formula");
    formula_->setWordWrap(true);
    formula_->setTextInteractionFlags(Qt::TextSelectableByMouse);

    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addLayout(quick);
    layout->addWidget(tree_, 1);
    layout->addWidget(totals_);
    layout->addWidget(formula_);

    connect(tree_, &QTreeWidget::itemSelectionChanged, this, [this] {
        if (!quiet_) emit selectionChanged();
    });
    connect(kind_, &QComboBox::activated, this, &ParameterInventory::applyQuickSelection);
    connect(layer_, &QComboBox::activated, this, &ParameterInventory::applyQuickSelection);
}

void ParameterInventory::setModel(std::shared_ptr<const Model> model) {
    model_ = std::move(model);
    rebuild();
    showTotals();
}

void ParameterInventory::rebuild() {
    quiet_ = true;
    tree_->clear();
    layer_->clear();
    layer_->addItem(tr("every layer"), -1);
    if (!model_) {
        quiet_ = false;
        return;
    }
    const Config& c = model_->config;
    for (int l = 0; l < c.n_layers; ++l) layer_->addItem(tr("layer %1").arg(l), l);

    // Top level: embeddings, one item per layer, then what follows the blocks.
    std::map<int, QTreeWidgetItem*> layers;
    std::map<std::pair<int, std::string>, QTreeWidgetItem*> groups;
    auto group_of = [&](const TensorInfo& t) {
        const std::string component = tensor_component(t);
        const int layer = t.layer;
        QTreeWidgetItem* parent = nullptr;
        if (layer >= 0) {
            auto& item = layers[layer];
            if (!item) {
                item = new QTreeWidgetItem(tree_, {tr("layer %1").arg(layer)});
                item->setData(0, kTensorRole, -1);
            }
            parent = item;
        }
        auto& g = groups[{layer, component}];
        if (!g) {
            const QString title =
                layer < 0 && component == "norms" ? tr("final norm") : group_title(component);
            g = parent ? new QTreeWidgetItem(parent, {title}) : new QTreeWidgetItem(tree_, {title});
            g->setData(0, kTensorRole, -1);
        }
        return g;
    };
    std::map<QTreeWidgetItem*, std::pair<int64_t, int64_t>> sums;  // count, bytes per group
    for (size_t i = 0; i < model_->tensors.size(); ++i) {
        const TensorInfo& t = model_->tensors[i];
        QTreeWidgetItem* g = group_of(t);
        auto* item = new QTreeWidgetItem(
            g, {QString::fromStdString(t.name), kind_name(t.kind), shape_text(t.shape),
                dtype_name(t.dtype), grouped(t.count), grouped(t.bytes)});
        item->setData(0, kTensorRole, static_cast<int>(i));
        item->setTextAlignment(4, Qt::AlignRight);
        item->setTextAlignment(5, Qt::AlignRight);
        if (t.non_finite > 0) mark_non_finite(item, t.non_finite);
        for (QTreeWidgetItem* p = g; p; p = p->parent()) {
            sums[p].first += t.count;
            sums[p].second += t.bytes;
        }
    }
    for (auto& [item, sum] : sums) {
        item->setText(4, grouped(sum.first));
        item->setText(5, grouped(sum.second));
        item->setTextAlignment(4, Qt::AlignRight);
        item->setTextAlignment(5, Qt::AlignRight);
    }
    // What follows the blocks (final norm, unembedding) goes after the layers.
    for (const auto& [key, item] : groups)
        if (key.first < 0 && (key.second == "norms" || key.second == "unembedding")) {
            tree_->takeTopLevelItem(tree_->indexOfTopLevelItem(item));
            tree_->addTopLevelItem(item);
        }
    tree_->expandToDepth(0);
    quiet_ = false;
    emit selectionChanged();
}

void ParameterInventory::showTotals() {
    totals_->clearPlottables();
    totals_->clearItems();
    shown_totals_.clear();
    if (!model_) {
        formula_->clear();
        totals_->replot();
        return;
    }
    const KindTotals totals = model_->totals();
    const double total = double(std::max<int64_t>(1, totals.total()));
    auto* bars = new QCPBars(totals_->yAxis, totals_->xAxis);  // horizontal bars
    bars->setBrush(QColor(90, 140, 210));
    bars->setPen(Qt::NoPen);
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int k = 0; k < 4; ++k) {
        const int64_t n = kind_total(totals, k);
        shown_totals_[kKinds[k]] = n;
        ticker->addTick(3 - k, kKinds[k]);
        bars->addData(3 - k, double(n) / total * 100.0);
        auto* label = new QCPItemText(totals_);
        label->position->setCoords(double(n) / total * 100.0 + 1.0, 3 - k);
        label->setPositionAlignment(Qt::AlignLeft | Qt::AlignVCenter);
        label->setText(
            QString("%1  (%2%)").arg(grouped(n)).arg(double(n) / total * 100.0, 0, 'f', 1));
        label->setClipToAxisRect(false);
    }
    shown_totals_["all"] = totals.total();
    totals_->yAxis->setTicker(ticker);
    totals_->yAxis->setRange(-0.6, 3.6);
    // Room on the right for the counts; the axis itself ends at 100%.
    totals_->xAxis->setRange(0, 135);
    QSharedPointer<QCPAxisTickerText> percent(new QCPAxisTickerText);
    for (int p = 0; p <= 100; p += 25) percent->addTick(p, QString("%1%").arg(p));
    totals_->xAxis->setTicker(percent);
    totals_->xAxis->setLabel(tr("share of all %1 parameters").arg(grouped(totals.total())));
    totals_->replot();

    const ParameterFormula f = parameter_formula(*model_);
    const bool ok = f.value == totals.total();
    formula_->setText(
        tr("<b>%1</b> = %2 = <b>%3</b> %4%5")
            .arg(QString::fromStdString(f.formula).toHtmlEscaped(),
                 QString::fromStdString(f.substituted), grouped(f.value),
                 ok ? tr("✓ equals the tensors' count")
                    : tr("✗ the tensors hold %1").arg(grouped(totals.total())),
                 model_->config.tied_embeddings
                     ? tr("<br>The unembedding is tied to the token embedding: one matrix, "
                          "counted once.")
                     : QString()));
}

int ParameterInventory::tensorAt(const QTreeWidgetItem* item) {
    return item ? item->data(0, kTensorRole).toInt() : -1;
}

std::vector<int> ParameterInventory::selectedTensors() const {
    std::vector<int> out;
    std::vector<bool> seen(model_ ? model_->tensors.size() : 0, false);
    std::function<void(const QTreeWidgetItem*)> collect = [&](const QTreeWidgetItem* item) {
        const int index = item->data(0, kTensorRole).toInt();
        if (index >= 0 && !seen[static_cast<size_t>(index)]) {
            seen[static_cast<size_t>(index)] = true;
            out.push_back(index);
        }
        for (int i = 0; i < item->childCount(); ++i) collect(item->child(i));
    };
    for (const QTreeWidgetItem* item : tree_->selectedItems()) collect(item);
    std::sort(out.begin(), out.end());
    return out;
}

QString ParameterInventory::selectionName() const {
    const auto items = tree_->selectedItems();
    if (items.isEmpty()) return tr("nothing selected");
    if (items.size() == 1) {
        const QTreeWidgetItem* item = items.front();
        return item->parent() && item->data(0, kTensorRole).toInt() < 0
                   ? item->parent()->text(0) + " " + item->text(0)
                   : item->text(0);
    }
    if (!last_quick_.isEmpty()) return last_quick_;
    return tr("%1 tensors").arg(selectedTensors().size());
}

void ParameterInventory::selectTensors(const std::vector<int>& indices) {
    const bool was_quiet = std::exchange(quiet_, true);
    last_quick_.clear();
    tree_->clearSelection();
    std::vector<bool> wanted(model_ ? model_->tensors.size() : 0, false);
    for (int i : indices)
        if (i >= 0 && i < static_cast<int>(wanted.size())) wanted[static_cast<size_t>(i)] = true;
    QTreeWidgetItemIterator it(tree_);
    for (; *it; ++it) {
        const int index = (*it)->data(0, kTensorRole).toInt();
        if (index >= 0 && wanted[static_cast<size_t>(index)]) (*it)->setSelected(true);
    }
    quiet_ = was_quiet;
    if (!quiet_) emit selectionChanged();
}

void ParameterInventory::selectKind(const QString& kind, int layer) {
    if (!model_) return;
    std::vector<int> indices;
    for (size_t i = 0; i < model_->tensors.size(); ++i) {
        const TensorInfo& t = model_->tensors[i];
        if (kind != "all" && kind != kind_name(t.kind)) continue;
        if (layer >= 0 && t.layer != layer) continue;
        indices.push_back(static_cast<int>(i));
    }
    kind_->setCurrentIndex(std::max(0, kind_->findData(kind)));
    layer_->setCurrentIndex(std::max(0, layer_->findData(layer)));
    const bool was_quiet = std::exchange(quiet_, true);
    selectTensors(indices);
    quiet_ = was_quiet;
    last_quick_ = kind_->itemText(std::max(0, kind_->findData(kind))) +
                  (layer >= 0 ? tr(" of layer %1").arg(layer) : QString());
    if (!quiet_) emit selectionChanged();
}

void ParameterInventory::applyQuickSelection() {
    selectKind(kind_->currentData().toString(), layer_->currentData().toInt());
}

int64_t ParameterInventory::shownTotal(const QString& kind) const {
    return shown_totals_.value(kind, -1);
}

QString ParameterInventory::formulaText() const {
    return formula_->text();
}

}  // namespace ps
