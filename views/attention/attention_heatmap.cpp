#include "views/attention/attention_heatmap.h"

#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "views/widgets/grid_text_layer.h"

namespace ps {

namespace {

const QColor kMaskFill(0xe2, 0xe2, 0xe2);
const QColor kMaskHatch(0xb0, 0xb0, 0xb0);
const QColor kSelected(0xd9, 0x3f, 0x0b);
constexpr int kLabelChars = 12;

QString elide(const QString& s, int max_chars) {
    return s.size() <= max_chars ? s : s.left(max_chars - 1) + QChar(0x2026);
}

// A weight as short as a cell allows: "1", ".43", ".07".
QString short_weight(double w) {
    if (w >= 0.995) return "1";
    return QString::number(w, 'f', 2).mid(1);
}

}  // namespace

// The causal mask drawn over the colour map: the staircase of cells right of the diagonal
// (key > query), filled light grey and hatched, so "weight 0 because masked" never looks like
// "weight 0 because the head ignores that token". In a sliding-window layer (Mistral, Gemma 3)
// the keys a query no longer sees, `window` or more positions back, are hatched the same way.
class CausalMaskLayer : public QCPLayerable {
  public:
    explicit CausalMaskLayer(QCPAxisRect* rect)
        : QCPLayerable(rect->parentPlot(), QString(), rect), rect_(rect) {}
    void setTokenCount(int n) { n_ = n; }
    void setWindow(int window) { window_ = window; }

  protected:
    void applyDefaultAntialiasingHint(QCPPainter* painter) const override {
        applyAntialiasingHint(painter, false, QCP::aeOther);
    }
    QRect clipRect() const override { return rect_->rect(); }
    void draw(QCPPainter* painter) override {
        if (n_ < 2) return;
        QCPAxis* x = rect_->axis(QCPAxis::atBottom);
        QCPAxis* y = rect_->axis(QCPAxis::atLeft);
        auto px = [&](double key, double query) {
            return QPointF(x->coordToPixel(key), y->coordToPixel(-query));
        };
        QPolygonF staircase;
        staircase << px(n_ - 0.5, -0.5);
        for (int q = 0; q + 1 < n_; ++q) staircase << px(q + 0.5, q - 0.5) << px(q + 0.5, q + 0.5);
        staircase << px(n_ - 0.5, n_ - 1.5);
        painter->setPen(Qt::NoPen);
        painter->setBrush(kMaskFill);
        painter->drawPolygon(staircase);
        painter->setBrush(QBrush(kMaskHatch, Qt::BDiagPattern));
        painter->drawPolygon(staircase);
        if (window_ <= 0) return;
        for (int q = window_; q < n_; ++q) {  // keys 0 .. q - window are out of the window
            const QRectF row(px(-0.5, q - 0.5), px(q - window_ + 0.5, q + 0.5));
            painter->setBrush(kMaskFill);
            painter->drawRect(row.normalized());
            painter->setBrush(QBrush(kMaskHatch, Qt::FDiagPattern));
            painter->drawRect(row.normalized());
        }
    }

  private:
    QCPAxisRect* rect_;
    int n_ = 0;
    int window_ = 0;
};

AttentionHeatmap::AttentionHeatmap(QWidget* parent) : QCustomPlot(parent) {
    setObjectName("attentionHeatmap");
    setMinimumSize(220, 180);
    plotLayout()->insertRow(0);
    title_ = new QCPTextElement(this, QString(),
                                QFont(font().family(), font().pointSize(), QFont::Bold));
    plotLayout()->addElement(0, 0, title_);
    // A title wider than its column (large text, a narrow dock) breaks after its colon.
    connect(this, &QCustomPlot::beforeReplot, this, [this] {
        const int room = title_->outerRect().width();
        const bool fits =
            room <= 0 || QFontMetrics(title_->font()).horizontalAdvance(title_text_) <= room - 8;
        const QString text = fits ? title_text_ : QString(title_text_).replace(": ", ":\n");
        if (title_->text() != text) title_->setText(text);
    });

    map_ = new QCPColorMap(xAxis, yAxis);
    map_->setInterpolate(false);
    map_->setTightBoundary(false);
    scale_ = new QCPColorScale(this);
    plotLayout()->addElement(1, 1, scale_);
    scale_->setType(QCPAxis::atRight);
    scale_->setBarWidth(12);
    scale_->setGradient(probability_gradient());
    scale_->setDataRange(QCPRange(0, 1));
    scale_->axis()->setLabel(tr("attention weight"));
    map_->setColorScale(scale_);
    map_->setDataRange(QCPRange(0, 1));
    auto* margins = new QCPMarginGroup(this);
    axisRect()->setMarginGroup(QCP::msBottom | QCP::msTop, margins);
    scale_->setMarginGroup(QCP::msBottom | QCP::msTop, margins);

    mask_ = new CausalMaskLayer(axisRect());
    text_ = new GridTextLayer(axisRect());
    text_->setMinCellWidth(28);
    selected_row_ = new QCPItemRect(this);
    selected_row_->setPen(QPen(kSelected, 2.0));
    selected_row_->setBrush(Qt::NoBrush);
    selected_row_->setVisible(false);
    message_ = new QCPItemText(this);
    message_->position->setType(QCPItemPosition::ptAxisRectRatio);
    message_->position->setCoords(0.5, 0.45);
    message_->setColor(QColor(0x70, 0x70, 0x70));

    QFont mono = font();
    mono.setFamily("DejaVu Sans Mono");
    mono.setStyleHint(QFont::Monospace);
    for (QCPAxis* axis : {xAxis, yAxis}) {
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTickerText));
        axis->grid()->setVisible(false);
        axis->setSubTicks(false);
        axis->setTickLength(0, 3);
        axis->setTickLabelFont(mono);
    }
    // Query q sits at y = -q: the first query at the top, as the prompt reads.
    xAxis->setLabel(tr("key (attended to)"));
    yAxis->setLabel(tr("query (attending)"));
    setMouseTracking(true);
    clear(tr("No analysis yet."));
}

void AttentionHeatmap::clear(const QString& message) {
    labels_.clear();
    map_->data()->clear();
    mask_->setTokenCount(0);
    text_->setCells({});
    selected_row_->setVisible(false);
    selected_query_ = -1;
    title_->setText(QString());
    message_->setText(message);
    message_->setVisible(true);
    for (QCPAxis* axis : {xAxis, yAxis}) {
        axis->setTicker(QSharedPointer<QCPAxisTicker>(new QCPAxisTickerText));
        axis->setRange(-0.5, 9.5);
    }
    replot();
}

void AttentionHeatmap::setPattern(const Eigen::Ref<const MatrixRM>& pattern,
                                  const QStringList& labels, const QString& title, int window) {
    const int T = static_cast<int>(pattern.rows());
    window_ = window;
    mask_->setWindow(window);
    labels_ = labels;
    title_text_ = title;
    title_->setText(title);
    message_->setVisible(false);
    map_->data()->setSize(T, T);
    // One token still needs a non-empty range; it is one cell either way.
    map_->data()->setRange(T > 1 ? QCPRange(0, T - 1) : QCPRange(-0.5, 0.5),
                           T > 1 ? QCPRange(-(T - 1), 0) : QCPRange(-0.5, 0.5));
    // Map row 0 is the bottom one, the last query.
    for (int q = 0; q < T; ++q)
        for (int k = 0; k < T; ++k) map_->data()->setCell(k, T - 1 - q, pattern(q, k));
    mask_->setTokenCount(T);
    updateCellText();
    xAxis->setRange(-0.5, T - 0.5);
    yAxis->setRange(-(T - 0.5), 0.5);
    fitLabels();
    replot(rpQueuedReplot);
}

void AttentionHeatmap::updateCellText() {
    const int T = tokenCount();
    QCPColorGradient gradient = scale_->gradient();  // color() is not const
    std::vector<GridCellText> cells;
    // Only short prompts have room for numbers; skip the work for long ones.
    if (T <= 40) {
        for (int q = 0; q < T; ++q) {
            for (int k = 0; k <= q; ++k) {
                const double w = map_->data()->cell(k, T - 1 - q);
                if (w < 0.005) continue;
                GridCellText cell;
                cell.key = k;
                cell.value = -q;
                cell.text = short_weight(w);
                cell.background = QColor(gradient.color(w, QCPRange(0, 1)));
                cells.push_back(std::move(cell));
            }
        }
    }
    QFont small = xAxis->tickLabelFont();
    small.setPointSizeF(small.pointSizeF() * 0.85);
    text_->setFont(small);
    text_->setCells(std::move(cells));
}

// Token labels on both axes: every one when the cells are tall/wide enough for a line of text,
// else every n-th. Key labels turn vertical when they do not fit across a cell.
void AttentionHeatmap::fitLabels() {
    const int T = tokenCount();
    if (T == 0) return;
    const QFontMetrics fm(xAxis->tickLabelFont());
    // Before the first layout the axis rect has no size yet: estimate it from the widget.
    const double w = std::max(axisRect()->width(), width() - 200) / double(T);
    const double h = std::max(axisRect()->height(), height() - 160) / double(T);
    int widest = 0;
    for (const QString& label : labels_)
        widest = std::max(widest, fm.horizontalAdvance(elide(label, kLabelChars)));
    rotated_ = widest + 6 > w;
    const int line = fm.height() + 1;
    label_step_ = std::max(1, static_cast<int>(std::ceil(line / std::max(h, 1.0))));
    const int key_step =
        rotated_ ? std::max(1, static_cast<int>(std::ceil(line / std::max(w, 1.0)))) : 1;
    auto keys = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    auto queries = QSharedPointer<QCPAxisTickerText>(new QCPAxisTickerText);
    for (int t = 0; t < T; ++t) {
        const QString label = elide(labels_[t], kLabelChars);
        if (t % key_step == 0) keys->addTick(t, label);
        if (t % label_step_ == 0) queries->addTick(-t, label);
    }
    xAxis->setTicker(keys);
    yAxis->setTicker(queries);
    xAxis->setTickLabelRotation(rotated_ ? 90 : 0);
}

void AttentionHeatmap::resizeEvent(QResizeEvent* event) {
    QCustomPlot::resizeEvent(event);
    fitLabels();
    replot(rpQueuedReplot);
}

void AttentionHeatmap::setSelectedQuery(int query) {
    const int T = tokenCount();
    selected_query_ = query >= 0 && query < T ? query : -1;
    selected_row_->setVisible(selected_query_ >= 0);
    selected_row_->topLeft->setCoords(-0.5, -query + 0.5);
    selected_row_->bottomRight->setCoords(T - 0.5, -query - 0.5);
    replot(rpQueuedReplot);
}

double AttentionHeatmap::cellValue(int query, int key) const {
    const int T = tokenCount();
    if (query < 0 || key < 0 || query >= T || key >= T) return std::nan("");
    return map_->data()->cell(key, T - 1 - query);
}

QPoint AttentionHeatmap::cellCenter(int query, int key) const {
    return QPoint(static_cast<int>(std::lround(xAxis->coordToPixel(key))),
                  static_cast<int>(std::lround(yAxis->coordToPixel(-query))));
}

QString AttentionHeatmap::keyLabel(int key) const {
    auto ticker = xAxis->ticker().dynamicCast<QCPAxisTickerText>();
    return ticker ? ticker->ticks().value(key) : QString();
}

QString AttentionHeatmap::cellTooltip(int query, int key) const {
    const int T = tokenCount();
    if (query < 0 || key < 0 || query >= T || key >= T) return {};
    const QString head = tr("query %1 \"%2\" → key %3 \"%4\"")
                             .arg(query)
                             .arg(labels_[query])
                             .arg(key)
                             .arg(labels_[key]);
    if (key > query) return head + tr(": masked (a query cannot see later tokens)");
    if (window_ > 0 && query - key >= window_)
        return head +
               tr(": masked (outside this layer's sliding window of %1 tokens)").arg(window_);
    return head + tr(": %1").arg(cellValue(query, key), 0, 'f', 4);
}

bool AttentionHeatmap::cellAt(const QPointF& pixel, int* query, int* key) const {
    if (tokenCount() == 0 || !axisRect()->rect().contains(pixel.toPoint())) return false;
    *key = static_cast<int>(std::lround(xAxis->pixelToCoord(pixel.x())));
    *query = -static_cast<int>(std::lround(yAxis->pixelToCoord(pixel.y())));
    return *key >= 0 && *query >= 0 && *key < tokenCount() && *query < tokenCount();
}

void AttentionHeatmap::mouseMoveEvent(QMouseEvent* event) {
    QCustomPlot::mouseMoveEvent(event);
    int query, key;
    if (cellAt(event->position(), &query, &key))
        QToolTip::showText(event->globalPosition().toPoint(), cellTooltip(query, key), this);
    else
        QToolTip::hideText();
}

void AttentionHeatmap::mousePressEvent(QMouseEvent* event) {
    QCustomPlot::mousePressEvent(event);
    int query, key;
    if (cellAt(event->position(), &query, &key)) emit queryClicked(query);
}

}  // namespace ps
