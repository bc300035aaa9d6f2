#include "views/layers/neurons_view.h"

#include "views/widgets/custom_plot.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QPushButton>
#include <QSpinBox>
#include <QTextStream>
#include <QToolTip>
#include <QVBoxLayout>
#include <algorithm>
#include <cmath>
#include <memory>

#include "app/session/session.h"
#include "views/widgets/grid_text_layer.h"
#include "views/widgets/intervention_menu.h"
#include "views/widgets/plot_export.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

const QColor kBar(0x6b, 0xa3, 0xd6);
const QColor kSelectedBar(0xe8, 0x6a, 0x2c);
const QColor kSelected(0xd9, 0x3f, 0x0b);

QSharedPointer<QCPAxisTickerText> text_ticker() {
    return QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
}

}  // namespace

NeuronsView::NeuronsView(Session* session, QWidget* parent) : QWidget(parent), session_(session) {
    setObjectName("neurons");
    title_ = new QLabel(this);
    title_->setWordWrap(true);  // a long header takes two lines, never cut
    title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // never widens the dock
    title_->setTextFormat(Qt::RichText);
    top_k_ = new QSpinBox(this);
    top_k_->setObjectName("topK");
    top_k_->setRange(1, 200);
    top_k_->setValue(20);
    top_k_->setPrefix(tr("top "));
    top_k_->setToolTip(tr("number of neurons shown"));
    magnitude_ = new QCheckBox(tr("by |activation|"), this);
    magnitude_->setObjectName("byMagnitude");
    magnitude_->setToolTip(
        tr("rank neurons by the size of their activation, so strongly "
           "negative ones (SwiGLU) count too"));
    auto* export_button = new QPushButton(tr("Export…"), this);
    export_button->setToolTip(tr("save the chart (PNG, SVG, PDF) or the activations (CSV)"));

    plot_ = new QCustomPlot(this);
    plot_->setObjectName("neuronsPlot");
    plot_->setMinimumHeight(200);
    plot_->setMouseTracking(true);
    bars_rect_ = plot_->axisRect();
    strip_rect_ = new QCPAxisRect(plot_);
    plot_->plotLayout()->addElement(1, 0, strip_rect_);
    strip_scale_ = new QCPColorScale(plot_);
    plot_->plotLayout()->addElement(1, 1, strip_scale_);
    plot_->plotLayout()->setRowStretchFactor(0, 2.2);
    plot_->plotLayout()->setRowStretchFactor(1, 1);
    plot_->plotLayout()->setColumnStretchFactor(1, 0.01);
    auto* margins = new QCPMarginGroup(plot_);
    bars_rect_->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    auto* strip_margins = new QCPMarginGroup(plot_);
    // Set both groups in one call: a second setMarginGroup for the same side would replace
    // the first, and the strip would no longer line up with the bars.
    strip_rect_->setMarginGroup(QCP::msLeft | QCP::msRight, margins);
    strip_rect_->setMarginGroup(QCP::msTop | QCP::msBottom, strip_margins);
    strip_scale_->setMarginGroup(QCP::msTop | QCP::msBottom, strip_margins);

    QFont mono = font();
    mono.setFamily("DejaVu Sans Mono");
    mono.setStyleHint(QFont::Monospace);
    bar_plot_ = new QCPBars(bars_rect_->axis(QCPAxis::atBottom), bars_rect_->axis(QCPAxis::atLeft));
    selected_bar_ =
        new QCPBars(bars_rect_->axis(QCPAxis::atBottom), bars_rect_->axis(QCPAxis::atLeft));
    for (auto [bars, color] :
         {std::pair{bar_plot_, kBar}, std::pair{selected_bar_, kSelectedBar}}) {
        bars->setWidth(0.7);
        bars->setPen(QPen(color.darker(125), 1.0));
        bars->setBrush(color);
    }
    QCPAxis* bx = bars_rect_->axis(QCPAxis::atBottom);
    bx->setTicker(text_ticker());
    bx->setTickLabelFont(mono);
    bx->grid()->setVisible(false);
    bx->setSubTicks(false);
    bx->setLabel(tr("neuron (click to follow it below)"));
    bars_rect_->axis(QCPAxis::atLeft)->setLabel(tr("activation"));

    strip_map_ =
        new QCPColorMap(strip_rect_->axis(QCPAxis::atBottom), strip_rect_->axis(QCPAxis::atLeft));
    strip_map_->setInterpolate(false);
    strip_map_->setColorScale(strip_scale_);
    strip_scale_->setGradient(diverging_gradient());
    strip_scale_->setBarWidth(10);
    strip_text_ = new GridTextLayer(strip_rect_);
    strip_text_->setFont(mono);
    for (QCPAxis* axis :
         {strip_rect_->axis(QCPAxis::atBottom), strip_rect_->axis(QCPAxis::atLeft)}) {
        axis->setTicker(text_ticker());
        axis->grid()->setVisible(false);
        axis->setSubTicks(false);
        axis->setTickLength(0, 0);
    }
    strip_rect_->axis(QCPAxis::atBottom)->setTickLabels(false);
    strip_rect_->axis(QCPAxis::atLeft)->setRange(-0.5, 1.5);
    strip_rect_->setMinimumSize(0, 70);

    auto* header = new QHBoxLayout;
    header->addWidget(title_, 1);
    header->addWidget(magnitude_);
    header->addWidget(top_k_);
    header->addWidget(export_button);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->addLayout(header);
    layout->addWidget(plot_, 1);

    connect(plot_, &QCustomPlot::mouseMove, this, &NeuronsView::onMouseMove);
    connect(plot_, &QCustomPlot::mousePress, this, &NeuronsView::onMousePress);
    // Right-click a bar: turn that neuron's dial (ablate, scale, restore).
    plot_->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(plot_, &QWidget::customContextMenuRequested, this, [this](const QPoint& at) {
        const int r = barAt(QPointF(at));
        if (r < 0) return;
        std::unique_ptr<QMenu> menu(neuronMenu(bars_[static_cast<size_t>(r)].neuron));
        menu->exec(plot_->mapToGlobal(at));
    });
    connect(top_k_, &QSpinBox::valueChanged, this, &NeuronsView::refresh);
    connect(magnitude_, &QCheckBox::toggled, this, &NeuronsView::refresh);
    connect(export_button, &QPushButton::clicked, this, [this] {
        export_dialog(this, "neurons", plot_,
                      [this](const QString& path) { return exportCsv(path); });
    });
    connect(session_, &Session::analysisReady, this, &NeuronsView::refresh);
    connect(session_, &Session::modelChanged, this, &NeuronsView::refresh);
    connect(session_, &Session::selectionChanged, this, &NeuronsView::refresh);
    refresh();
}

void NeuronsView::setTopK(int k) {
    top_k_->setValue(k);
}

void NeuronsView::setByMagnitude(bool on) {
    magnitude_->setChecked(on);
}

bool NeuronsView::ready() const {
    const auto& trace = session_->trace();
    return session_->model() && trace && !trace->layers.empty() &&
           trace->layers[static_cast<size_t>(session_->layer())].mlp_post.size() > 0 &&
           session_->position() >= 0;
}

void NeuronsView::refresh() {
    bars_.clear();
    strip_.clear();
    if (!ready()) {
        title_->setText(tr("<b>MLP neurons</b> &nbsp;·&nbsp; %1")
                            .arg(!session_->model()      ? tr("open a model")
                                 : session_->analyzing() ? tr("analyzing…")
                                                         : tr("type a prompt")));
        bar_plot_->data()->clear();
        selected_bar_->data()->clear();
        strip_map_->data()->clear();
        strip_text_->setCells({});
        plot_->replot();
        return;
    }
    const Trace& trace = *session_->trace();
    const Tokenizer& tok = *session_->model()->tokenizer;
    const int layer = session_->layer(), position = session_->position(),
              neuron = session_->neuron();
    const int T = static_cast<int>(trace.ids.size());
    const bool magnitude = magnitude_->isChecked();
    bars_ = top_neurons(trace, layer, position, top_k_->value(), magnitude);
    strip_ = neuron_activations(trace, layer, neuron);
    title_->setText(
        tr("<b>MLP neurons</b> of layer %1 at position %2 <code>%3</code> "
           "&nbsp;·&nbsp; %4 neurons")
            .arg(layer)
            .arg(position)
            .arg(token_display(tok, trace.ids[static_cast<size_t>(position)]).toHtmlEscaped())
            .arg(trace.layers[static_cast<size_t>(layer)].mlp_post.cols()));

    // Bars, the selected neuron's in its own colour.
    QVector<double> keys, values, sel_keys, sel_values;
    auto ticker = text_ticker();
    double lo = 0, hi = 0;
    for (int r = 0; r < static_cast<int>(bars_.size()); r++) {
        const NeuronActivation& n = bars_[static_cast<size_t>(r)];
        (n.neuron == neuron ? sel_keys : keys) << r;
        (n.neuron == neuron ? sel_values : values) << n.activation;
        ticker->addTick(r, QString::number(n.neuron));
        lo = std::min(lo, double(n.activation));
        hi = std::max(hi, double(n.activation));
    }
    bar_plot_->setData(keys, values, true);
    selected_bar_->setData(sel_keys, sel_values, true);
    QCPAxis* bx = bars_rect_->axis(QCPAxis::atBottom);
    bx->setTicker(ticker);
    bx->setRange(-0.6, static_cast<double>(bars_.size()) - 0.4);
    // Neuron numbers stay horizontal while they fit beside each other.
    const QFontMetrics fm(bx->tickLabelFont());
    const double slot = std::max(bars_rect_->width(), plot_->width() - 120) /
                        std::max<double>(1, static_cast<double>(bars_.size()));
    const int widest = fm.horizontalAdvance(QString::number(trace.layers[0].mlp_post.cols()));
    bx->setTickLabelRotation(widest + 8 < slot ? 0 : 60);
    const double pad = 0.08 * std::max(hi - lo, 1e-6);
    bars_rect_->axis(QCPAxis::atLeft)->setRange(lo < 0 ? lo - pad : 0, hi + pad);

    // The strip: row 1 the tokens, row 0 the values, both coloured by the activation.
    float extent = 1e-6f;
    for (float a : strip_) extent = std::max(extent, std::abs(a));
    const QCPRange range(-extent, extent);
    // Two significant digits of the largest value, so short numbers fit narrow chips.
    const int decimals = std::clamp(1 - static_cast<int>(std::floor(std::log10(extent))), 0, 4);
    strip_map_->data()->setSize(T, 2);
    strip_map_->data()->setRange(T == 1 ? QCPRange(-0.5, 0.5) : QCPRange(0, T - 1), QCPRange(0, 1));
    std::vector<GridCellText> cells;
    QCPColorGradient gradient = strip_scale_->gradient();
    for (int t = 0; t < T; t++) {
        const float a = strip_[static_cast<size_t>(t)];
        strip_map_->data()->setCell(t, 0, a);
        strip_map_->data()->setCell(t, 1, a);
        const QColor bg = QColor(gradient.color(a, range));
        GridCellText token{double(t),
                           1,
                           token_display(tok, trace.ids[static_cast<size_t>(t)]),
                           bg,
                           t == position,
                           t == position ? kSelected : QColor()};
        GridCellText value{double(t),
                           0,
                           QString::number(a, 'f', decimals),
                           bg,
                           t == position,
                           t == position ? kSelected : QColor()};
        cells.push_back(token);
        cells.push_back(value);
    }
    strip_text_->setCells(std::move(cells));
    strip_map_->setDataRange(range);
    strip_scale_->setDataRange(range);
    strip_rect_->axis(QCPAxis::atBottom)->setRange(-0.5, T - 0.5);
    strip_rect_->axis(QCPAxis::atBottom)
        ->setLabel(tr("neuron %1 of layer %2 at every position (rank at the selected position: %3)")
                       .arg(neuron)
                       .arg(layer)
                       .arg(neuron_rank(trace, layer, position, neuron, magnitude)));
    plot_->replot();
}

int NeuronsView::barAt(const QPointF& pixel) const {
    if (!bars_rect_->rect().contains(pixel.toPoint())) return -1;
    const int r =
        static_cast<int>(std::lround(bars_rect_->axis(QCPAxis::atBottom)->pixelToCoord(pixel.x())));
    return r >= 0 && r < static_cast<int>(bars_.size()) ? r : -1;
}

int NeuronsView::stripAt(const QPointF& pixel) const {
    if (!strip_rect_->rect().contains(pixel.toPoint())) return -1;
    const int t = static_cast<int>(
        std::lround(strip_rect_->axis(QCPAxis::atBottom)->pixelToCoord(pixel.x())));
    return t >= 0 && t < static_cast<int>(strip_.size()) ? t : -1;
}

QPoint NeuronsView::barCenter(int rank) const {
    QCPAxis* y = bars_rect_->axis(QCPAxis::atLeft);
    const double value = bars_[static_cast<size_t>(rank)].activation;
    return QPoint(static_cast<int>(bars_rect_->axis(QCPAxis::atBottom)->coordToPixel(rank)),
                  static_cast<int>((y->coordToPixel(value) + y->coordToPixel(0)) / 2));
}

QPoint NeuronsView::stripCenter(int position) const {
    return QPoint(static_cast<int>(strip_rect_->axis(QCPAxis::atBottom)->coordToPixel(position)),
                  static_cast<int>(strip_rect_->axis(QCPAxis::atLeft)->coordToPixel(1)));
}

void NeuronsView::onMouseMove(QMouseEvent* event) {
    const QPoint global = event->globalPosition().toPoint();
    if (const int r = barAt(event->position()); r >= 0) {
        const NeuronActivation& n = bars_[static_cast<size_t>(r)];
        QToolTip::showText(global,
                           tr("neuron <b>%1</b> of layer %2<br>activation %3<br>rank %4")
                               .arg(n.neuron)
                               .arg(session_->layer())
                               .arg(n.activation, 0, 'g', 5)
                               .arg(r + 1),
                           plot_);
    } else if (const int t = stripAt(event->position()); t >= 0) {
        const Tokenizer& tok = *session_->model()->tokenizer;
        QToolTip::showText(
            global,
            tr("position %1 <code>%2</code><br>neuron %3 of layer %4: <b>%5</b>")
                .arg(t)
                .arg(token_display(tok, session_->trace()->ids[static_cast<size_t>(t)])
                         .toHtmlEscaped())
                .arg(session_->neuron())
                .arg(session_->layer())
                .arg(strip_[static_cast<size_t>(t)], 0, 'g', 5),
            plot_);
    } else {
        QToolTip::hideText();
    }
}

void NeuronsView::onMousePress(QMouseEvent* event) {
    if (const int r = barAt(event->position()); r >= 0)
        session_->selectNeuron(session_->layer(), bars_[static_cast<size_t>(r)].neuron);
    else if (const int t = stripAt(event->position()); t >= 0)
        session_->selectPosition(t);
}

bool NeuronsView::exportCsv(const QString& path) const {
    if (!ready() || bars_.empty()) return false;
    const Trace& trace = *session_->trace();
    const Tokenizer& tok = *session_->model()->tokenizer;
    const int layer = session_->layer(), position = session_->position();
    const bool magnitude = magnitude_->isChecked();
    auto token = [&](int t) {
        return csv_field(token_display(tok, trace.ids[static_cast<size_t>(t)]));
    };
    return export_csv(path, [&](QTextStream& out) {
        out << "kind,layer,position,token,neuron,rank,activation\n";
        for (size_t r = 0; r < bars_.size(); r++)
            out << "top," << layer << ',' << position << ',' << token(position) << ','
                << bars_[r].neuron << ',' << r + 1 << ','
                << QString::number(bars_[r].activation, 'g', 9) << '\n';
        const int neuron = session_->neuron();
        for (int t = 0; t < static_cast<int>(strip_.size()); t++)
            out << "strip," << layer << ',' << t << ',' << token(t) << ',' << neuron << ','
                << neuron_rank(trace, layer, t, neuron, magnitude) << ','
                << QString::number(strip_[static_cast<size_t>(t)], 'g', 9) << '\n';
    });
}

QMenu* NeuronsView::neuronMenu(int neuron) {
    auto* menu = new QMenu(this);
    add_intervention_actions(menu, session_, Hook::MlpPost, session_->layer(), neuron);
    return menu;
}

}  // namespace ps
