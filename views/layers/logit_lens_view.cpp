#include "views/layers/logit_lens_view.h"

#include "views/widgets/custom_plot.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QScrollArea>
#include <QTextStream>
#include <QToolTip>
#include <QVBoxLayout>
#include <cmath>

#include "app/session/session.h"
#include "core/analysis/layer_analysis.h"
#include "views/widgets/grid_text_layer.h"
#include "views/widgets/plot_export.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

constexpr int kMinCellWidth = 44;  // pixels: room for a short token
constexpr int kMinCellHeight = 22;
const QColor kHit(0x1b, 0x9e, 0x3e);       // the prediction is the actual next token
const QColor kSelected(0xd9, 0x3f, 0x0b);  // the selected layer and position

QString row_name(int row, int rows) {
    if (row == 0) return QObject::tr("embed");
    const QString name = QObject::tr("L%1").arg(row - 1);
    return row == rows - 1 ? QObject::tr("%1 out").arg(name) : name;
}

}  // namespace

LogitLensView::LogitLensView(Session* session, QWidget* parent)
    : QWidget(parent), session_(session) {
    setObjectName("logitLens");
    title_ = new QLabel(this);
    title_->setWordWrap(true);  // a long header takes two lines, never cut
    title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // never widens the dock
    title_->setTextFormat(Qt::RichText);
    color_by_ = new QComboBox(this);
    color_by_->setObjectName("colorBy");
    color_by_->addItem(tr("colour: p(predicted token)"));
    color_by_->addItem(tr("colour: p(actual next token)"));
    color_by_->setToolTip(
        tr("what the cell colour shows: the probability of the token written "
           "in it, or of the token that really comes next in the prompt"));
    auto* export_button = new QPushButton(tr("Export…"), this);
    export_button->setToolTip(tr("save the grid (PNG, SVG, PDF) or every cell's top 5 (CSV)"));

    plot_ = new QCustomPlot;
    plot_->setObjectName("logitLensPlot");
    map_ = new QCPColorMap(plot_->xAxis, plot_->yAxis);
    map_->setInterpolate(false);
    map_->setTightBoundary(false);
    scale_ = new QCPColorScale(plot_);
    plot_->plotLayout()->addElement(0, 1, scale_);
    scale_->setType(QCPAxis::atRight);
    scale_->setBarWidth(12);
    QCPColorGradient gradient = probability_gradient();
    gradient.setNanHandling(QCPColorGradient::nhNanColor);
    gradient.setNanColor(QColor(0xee, 0xee, 0xee));
    scale_->setGradient(gradient);
    scale_->setDataRange(QCPRange(0, 1));
    scale_->axis()->setLabel(tr("probability"));
    map_->setColorScale(scale_);
    auto* margins = new QCPMarginGroup(plot_);
    plot_->axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale_->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    text_ = new GridTextLayer(plot_->axisRect());
    QFont mono = font();
    mono.setFamily("DejaVu Sans Mono");
    mono.setStyleHint(QFont::Monospace);
    text_->setFont(mono);
    selection_ = new QCPItemRect(plot_);
    selection_->setPen(QPen(kSelected, 3.0));
    selection_->setBrush(Qt::NoBrush);
    selection_->setClipToAxisRect(false);
    for (QCPAxis* axis : {plot_->xAxis, plot_->xAxis2, plot_->yAxis}) {
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTickerText));
        axis->grid()->setVisible(false);
        axis->setSubTicks(false);
        axis->setTickLength(0, 3);
        axis->setTickLabelFont(mono);
    }
    plot_->xAxis2->setVisible(true);
    plot_->xAxis->setLabel(tr("input token at each position"));
    plot_->xAxis2->setLabel(tr("actual next token"));
    plot_->yAxis->setLabel(tr("residual stream after"));
    plot_->setMouseTracking(true);

    scroll_ = new QScrollArea(this);
    scroll_->setWidget(plot_);
    scroll_->setWidgetResizable(true);
    scroll_->setFrameShape(QFrame::NoFrame);

    auto* header = new QHBoxLayout;
    header->addWidget(title_, 1);
    header->addWidget(color_by_);
    header->addWidget(export_button);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->addLayout(header);
    layout->addWidget(scroll_, 1);

    connect(plot_, &QCustomPlot::mouseMove, this, &LogitLensView::onMouseMove);
    connect(plot_, &QCustomPlot::mousePress, this, &LogitLensView::onMousePress);
    connect(color_by_, &QComboBox::currentIndexChanged, this, &LogitLensView::refresh);
    connect(export_button, &QPushButton::clicked, this, [this] {
        export_dialog(this, "logit-lens", plot_,
                      [this](const QString& path) { return exportCsv(path); });
    });
    connect(session_, &Session::analysisReady, this, &LogitLensView::refresh);
    connect(session_, &Session::layerAnalysisReady, this, &LogitLensView::refresh);
    connect(session_, &Session::modelChanged, this, &LogitLensView::refresh);
    connect(session_, &Session::selectionChanged, this, &LogitLensView::updateSelection);
    refresh();
}

const LayerAnalysis* LogitLensView::analysis() const {
    const auto& a = session_->layerAnalysis();
    const auto& trace = session_->trace();
    if (!session_->model() || !a || !trace || a->ids != trace->ids) return nullptr;
    return a.get();
}

void LogitLensView::refresh() {
    const LayerAnalysis* a = analysis();
    if (!a) {
        title_->setText(tr("<b>Logit lens</b> &nbsp;·&nbsp; %1")
                            .arg(!session_->model()      ? tr("open a model")
                                 : session_->analyzing() ? tr("analyzing…")
                                                         : tr("type a prompt")));
        map_->data()->clear();
        text_->setCells({});
        selection_->setVisible(false);
        plot_->replot();
        return;
    }
    const Tokenizer& tok = *session_->model()->tokenizer;
    const LogitLensGrid& g = a->lens;
    const bool by_next = color_by_->currentIndex() == 1;
    const int T = g.positions, R = g.rows;
    title_->setText(tr("<b>Logit lens</b> &nbsp;·&nbsp; what the model would predict if it "
                       "stopped after each layer &nbsp;·&nbsp; %1 layers × %2 positions")
                        .arg(R - 1)
                        .arg(T));

    map_->data()->setSize(T, R);
    map_->data()->setRange(QCPRange(0, std::max(T - 1, 1)), QCPRange(0, std::max(R - 1, 1)));
    // A single row or column still needs a non-empty range; its size is then 1 cell anyway.
    if (T == 1) map_->data()->setKeyRange(QCPRange(-0.5, 0.5));
    if (R == 1) map_->data()->setValueRange(QCPRange(-0.5, 0.5));
    std::vector<GridCellText> cells;
    cells.reserve(static_cast<size_t>(T) * static_cast<size_t>(R));
    QCPColorGradient gradient = scale_->gradient();
    for (int r = 0; r < R; r++) {
        for (int t = 0; t < T; t++) {
            const LensCell& c = g.at(r, t);
            const double value =
                by_next ? (c.next_id >= 0 ? c.next_prob : std::nan("")) : c.top_probs[0];
            map_->data()->setCell(t, r, value);
            GridCellText cell;
            cell.key = t;
            cell.value = r;
            cell.text = token_display(tok, c.top_ids[0]);
            cell.background = std::isnan(value) ? QColor(0xee, 0xee, 0xee)
                                                : QColor(gradient.color(value, QCPRange(0, 1)));
            cell.bold = c.next_id >= 0 && c.top_ids[0] == c.next_id;
            if (cell.bold) cell.frame = kHit;
            cells.push_back(std::move(cell));
        }
    }
    text_->setCells(std::move(cells));
    map_->setDataRange(QCPRange(0, 1));

    auto bottom = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    auto top = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    auto left = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    const auto& ids = a->ids;
    int widest = 0;
    const QFontMetrics fm(plot_->xAxis->tickLabelFont());
    for (int t = 0; t < T; t++) {
        const QString in = token_display(tok, ids[static_cast<size_t>(t)]);
        bottom->addTick(t, in);
        widest = std::max(widest, fm.horizontalAdvance(in));
        if (t + 1 < T) {
            const QString next = token_display(tok, ids[static_cast<size_t>(t + 1)]);
            top->addTick(t, next);
            widest = std::max(widest, fm.horizontalAdvance(next));
        }
    }
    for (int r = 0; r < R; r++) left->addTick(r, row_name(r, R));
    plot_->xAxis->setTicker(bottom);
    plot_->xAxis2->setTicker(top);
    plot_->yAxis->setTicker(left);
    plot_->xAxis->setRange(-0.5, T - 0.5);
    plot_->xAxis2->setRange(-0.5, T - 0.5);
    plot_->yAxis->setRange(-0.5, R - 0.5);
    // Wide enough for a short token per cell; the scroll area takes the rest.
    plot_->setMinimumSize(170 + T * kMinCellWidth, 150 + R * kMinCellHeight);
    const double slot = std::max(plot_->axisRect()->width(), plot_->width() - 170) / double(T);
    const int rotation = widest + 6 < slot ? 0 : 60;
    plot_->xAxis->setTickLabelRotation(rotation);
    plot_->xAxis2->setTickLabelRotation(-rotation);
    updateSelection();
}

void LogitLensView::updateSelection() {
    const LayerAnalysis* a = analysis();
    if (!a) return;
    const int position = session_->position();
    const int row = std::min(session_->layer() + 1, a->lens.rows - 1);
    selection_->setVisible(position >= 0);
    selection_->topLeft->setCoords(position - 0.5, row + 0.5);
    selection_->bottomRight->setCoords(position + 0.5, row - 0.5);
    plot_->replot();
}

bool LogitLensView::cellAt(const QPointF& pixel, int* row, int* position) const {
    const LayerAnalysis* a = analysis();
    if (!a || !plot_->axisRect()->rect().contains(pixel.toPoint())) return false;
    *position = static_cast<int>(std::lround(plot_->xAxis->pixelToCoord(pixel.x())));
    *row = static_cast<int>(std::lround(plot_->yAxis->pixelToCoord(pixel.y())));
    return *position >= 0 && *position < a->lens.positions && *row >= 0 && *row < a->lens.rows;
}

QString LogitLensView::cellText(int row, int position) const {
    const LayerAnalysis* a = analysis();
    if (!a) return {};
    return text_->cells()[static_cast<size_t>(row * a->lens.positions + position)].text;
}

bool LogitLensView::cellMarked(int row, int position) const {
    const LayerAnalysis* a = analysis();
    if (!a) return false;
    return text_->cells()[static_cast<size_t>(row * a->lens.positions + position)].bold;
}

QPoint LogitLensView::cellCenter(int row, int position) const {
    return QPoint(static_cast<int>(plot_->xAxis->coordToPixel(position)),
                  static_cast<int>(plot_->yAxis->coordToPixel(row)));
}

QString LogitLensView::cellTooltip(int row, int position) const {
    const LayerAnalysis* a = analysis();
    if (!a) return {};
    const Tokenizer& tok = *session_->model()->tokenizer;
    const LensCell& c = a->lens.at(row, position);
    const QString where = row == 0 ? tr("the input embeddings")
                                   : tr("after layer %1%2")
                                         .arg(row - 1)
                                         .arg(row == a->lens.rows - 1 ? tr(" (output)") : "");
    QString tip =
        tr("<b>%1</b>, position %2 <code>%3</code><table>")
            .arg(where)
            .arg(position)
            .arg(token_display(tok, a->ids[static_cast<size_t>(position)]).toHtmlEscaped());
    for (int k = 0; k < kLensTop && c.top_ids[static_cast<size_t>(k)] >= 0; k++) {
        const int id = c.top_ids[static_cast<size_t>(k)];
        const bool hit = id == c.next_id;
        tip += tr("<tr><td>%1.</td><td><code>%2%3%4</code></td><td align=right>%5</td></tr>")
                   .arg(k + 1)
                   .arg(hit ? "<b>" : "")
                   .arg(token_display(tok, id).toHtmlEscaped())
                   .arg(hit ? "</b>" : "")
                   .arg(c.top_probs[static_cast<size_t>(k)], 0, 'f', 4);
    }
    tip += "</table>";
    if (c.next_id >= 0)
        tip += tr("actual next <code>%1</code>: rank %2, p %3")
                   .arg(token_display(tok, c.next_id).toHtmlEscaped())
                   .arg(c.next_rank)
                   .arg(c.next_prob, 0, 'g', 4);
    return tip;
}

void LogitLensView::onMouseMove(QMouseEvent* event) {
    int row, position;
    if (cellAt(event->position(), &row, &position))
        QToolTip::showText(event->globalPosition().toPoint(), cellTooltip(row, position), plot_);
    else
        QToolTip::hideText();
}

void LogitLensView::onMousePress(QMouseEvent* event) {
    int row, position;
    if (!cellAt(event->position(), &row, &position)) return;
    // Row 0 is the input of layer 0, row l+1 the output of layer l.
    session_->selectLayer(std::max(0, row - 1));
    session_->selectPosition(position);
}

bool LogitLensView::exportCsv(const QString& path) const {
    const LayerAnalysis* a = analysis();
    if (!a) return false;
    const Tokenizer& tok = *session_->model()->tokenizer;
    return export_csv(path, [&](QTextStream& out) {
        out << "boundary,after,position,input_id,input_token";
        for (int k = 1; k <= kLensTop; k++)
            out << ",top" << k << "_id,top" << k << "_token,top" << k << "_p";
        out << ",next_id,next_token,next_rank,next_p\n";
        for (int r = 0; r < a->lens.rows; r++) {
            for (int t = 0; t < a->lens.positions; t++) {
                const LensCell& c = a->lens.at(r, t);
                const int in = a->ids[static_cast<size_t>(t)];
                out << r << ',' << QString::fromStdString(boundary_name(r)) << ',' << t << ',' << in
                    << ',' << csv_field(token_display(tok, in));
                for (int k = 0; k < kLensTop; k++) {
                    const int id = c.top_ids[static_cast<size_t>(k)];
                    out << ',' << id << ',' << (id >= 0 ? csv_field(token_display(tok, id)) : "")
                        << ',' << QString::number(c.top_probs[static_cast<size_t>(k)], 'g', 7);
                }
                if (c.next_id >= 0)
                    out << ',' << c.next_id << ',' << csv_field(token_display(tok, c.next_id))
                        << ',' << c.next_rank << ',' << QString::number(c.next_prob, 'g', 7);
                else
                    out << ",,,,";
                out << '\n';
            }
        }
    });
}

}  // namespace ps
