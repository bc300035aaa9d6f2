#include "views/attention/attention_lines.h"

#include <QToolTip>
#include <algorithm>
#include <cmath>
#include <map>

#include "views/widgets/theme.h"

namespace ps {

namespace {

const QColor kSelected(0xd9, 0x3f, 0x0b);
const QColor kText(0x20, 0x20, 0x20);
constexpr int kLabelChars = 16;
constexpr int kLegendHeight = 26;
constexpr double kFaded = 0.3;  // opacity factor of lines not from the selected query
constexpr int kLevels = 20;     // steps of line opacity and width

QString elide(const QString& s, int max_chars) {
    return s.size() <= max_chars ? s : s.left(max_chars - 1) + QChar(0x2026);
}

QFont mono_font(const QFont& base) {
    QFont mono = base;
    mono.setFamily("DejaVu Sans Mono");
    mono.setStyleHint(QFont::Monospace);
    return mono;
}

}  // namespace

// Draws the token columns, the lines and the legend in one pass (exported with the plot).
class AttentionLinesLayer : public QCPLayerable {
  public:
    explicit AttentionLinesLayer(AttentionLines* plot)
        : QCPLayerable(plot, QString(), plot->axisRect()), plot_(plot) {}

  protected:
    void applyDefaultAntialiasingHint(QCPPainter* painter) const override {
        applyAntialiasingHint(painter, true, QCP::aeOther);
    }
    void draw(QCPPainter* painter) override;

  private:
    AttentionLines* plot_;
};

void AttentionLinesLayer::draw(QCPPainter* painter) {
    const AttentionLines& p = *plot_;
    const int T = p.tokenCount();
    if (T == 0) return;
    QCPAxis* x = p.xAxis;
    QCPAxis* y = p.yAxis;
    const double left = x->coordToPixel(0), right = x->coordToPixel(1);
    const bool one_head = p.heads_.size() == 1;
    // Weights are rounded to kLevels steps of opacity and width, so lines are drawn in a few
    // batches (one pen each) instead of one by one: ten times faster for thousands of lines.
    // The faded lines first, then the selected query's; weak before strong in each.
    for (const bool focus : {false, true}) {
        std::map<std::pair<int, int>, QVector<QLineF>> batches;  // (level, head) -> lines
        for (const AttentionLine& line : p.lines_) {
            if ((line.query == p.selected_) != focus) continue;
            const int level = std::max(1, static_cast<int>(std::lround(line.weight * kLevels)));
            batches[{level, line.head}].append(
                QLineF(left, y->coordToPixel(line.query), right, y->coordToPixel(line.key)));
        }
        for (const auto& [key, lines] : batches) {
            const double w = double(key.first) / kLevels;
            QColor c = AttentionLines::headColor(key.second);
            c.setAlphaF(std::clamp(w * (focus ? 1.0 : kFaded), 0.02, 1.0));
            painter->setPen(QPen(c, 0.6 + (focus ? 3.0 : 2.0) * w, Qt::SolidLine, Qt::FlatCap));
            painter->drawLines(lines);
        }
    }

    const QColor ink = Appearance::instance().themed(kText);  // readable in the dark theme
    const QFont font = mono_font(p.font());
    QFont bold = font;
    bold.setBold(true);
    const QFontMetricsF fm(font);
    const double row = std::abs(y->coordToPixel(1) - y->coordToPixel(0));
    // Keys are tinted by the selected query's weight on them when one head is shown.
    const MatrixRM* single = one_head && !p.patterns_.empty() ? &p.patterns_[0] : nullptr;
    for (int t = 0; t < T; ++t) {
        const double cy = y->coordToPixel(t);
        const QString text = elide(p.labels_[t], kLabelChars);
        const double w = fm.horizontalAdvance(text) + 8;
        const QRectF query_box(left - 6 - w, cy - row / 2 + 1, w, row - 2);
        const QRectF key_box(right + 6, cy - row / 2 + 1, w, row - 2);
        if (t == p.selected_) {
            painter->setPen(Qt::NoPen);
            painter->setBrush(kSelected);
            painter->drawRoundedRect(query_box, 3, 3);
        }
        if (single && p.selected_ >= 0 && t <= p.selected_) {
            QColor tint = AttentionLines::headColor(0);
            tint.setAlphaF(std::clamp(double((*single)(p.selected_, t)), 0.0, 1.0) * 0.8);
            painter->setPen(Qt::NoPen);
            painter->setBrush(tint);
            painter->drawRoundedRect(key_box, 3, 3);
        }
        painter->setFont(t == p.selected_ ? bold : font);
        painter->setPen(t == p.selected_ ? QColor(Qt::white) : ink);
        painter->drawText(query_box, Qt::AlignCenter, text);
        painter->setFont(font);
        painter->setPen(ink);
        painter->drawText(key_box, Qt::AlignCenter, text);
    }

    if (one_head) return;
    // The legend: one coloured swatch per head, across the top margin.
    double lx = left;
    const double ly = p.axisRect()->top() - kLegendHeight / 2.0;
    painter->setFont(font);
    for (size_t i = 0; i < p.heads_.size(); ++i) {
        const QString name = QObject::tr("h%1").arg(p.heads_[i]);
        painter->setPen(Qt::NoPen);
        painter->setBrush(AttentionLines::headColor(static_cast<int>(i)));
        painter->drawRect(QRectF(lx, ly - 5, 10, 10));
        painter->setPen(ink);
        painter->drawText(QPointF(lx + 13, ly + fm.ascent() / 2 - 1), name);
        lx += 13 + fm.horizontalAdvance(name) + 10;
    }
}

AttentionLines::AttentionLines(QWidget* parent) : QCustomPlot(parent) {
    setObjectName("attentionLines");
    plotLayout()->insertRow(0);
    title_ = new QCPTextElement(this, QString(),
                                QFont(font().family(), font().pointSize(), QFont::Bold));
    plotLayout()->addElement(0, 0, title_);
    for (QCPAxis* axis : {xAxis, yAxis, xAxis2, yAxis2}) axis->setVisible(false);
    axisRect()->setAutoMargins(QCP::msNone);
    xAxis->setRange(0, 1);
    yAxis->setRangeReversed(true);
    layer_ = new AttentionLinesLayer(this);
    message_ = new QCPItemText(this);
    message_->position->setType(QCPItemPosition::ptAxisRectRatio);
    message_->position->setCoords(0.5, 0.45);
    message_->setColor(QColor(0x70, 0x70, 0x70));
    setMouseTracking(true);
    clear(tr("No analysis yet."));
}

QColor AttentionLines::headColor(int index) {
    // Tableau 10, then evenly spread hues for models with more heads.
    static const QColor kPalette[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xff, 0x7f, 0x0e),
                                      QColor(0x2c, 0xa0, 0x2c), QColor(0xd6, 0x27, 0x28),
                                      QColor(0x94, 0x67, 0xbd), QColor(0x8c, 0x56, 0x4b),
                                      QColor(0xe3, 0x77, 0xc2), QColor(0x7f, 0x7f, 0x7f),
                                      QColor(0xbc, 0xbd, 0x22), QColor(0x17, 0xbe, 0xcf)};
    if (index >= 0 && index < 10) return kPalette[index];
    return QColor::fromHsvF(std::fmod(index * 0.618034, 1.0), 0.75, 0.8);
}

void AttentionLines::clear(const QString& message) {
    patterns_.clear();
    heads_.clear();
    labels_.clear();
    lines_.clear();
    title_->setText(QString());
    message_->setText(message);
    message_->setVisible(true);
    setMinimumHeight(200);
    axisRect()->setMargins(QMargins(20, 8, 20, 8));
    yAxis->setRange(-0.5, 9.5);
    replot();
}

void AttentionLines::setPatterns(const LayerTrace& layer, const std::vector<int>& heads,
                                 const QStringList& labels, const QString& title) {
    const int T = static_cast<int>(labels.size());
    patterns_.clear();
    for (int h : heads) patterns_.emplace_back(layer.head_pattern(h));
    heads_ = heads;
    labels_ = labels;
    title_->setText(title);
    message_->setVisible(false);
    yAxis->setRange(-0.5, T - 0.5);
    fitMargins();
    setMinimumHeight(T * kRowPixels + 40 + (heads.size() > 1 ? kLegendHeight : 8));
    rebuildLines();
}

void AttentionLines::fitMargins() {
    const QFontMetrics fm(mono_font(font()));
    int widest = 0;
    for (const QString& label : labels_)
        widest = std::max(widest, fm.horizontalAdvance(elide(label, kLabelChars)));
    const int side = widest + 24;
    axisRect()->setMargins(QMargins(side, heads_.size() > 1 ? kLegendHeight : 8, side, 8));
}

void AttentionLines::setSelectedQuery(int query) {
    if (query == selected_) return;
    selected_ = query;
    rebuildLines();
}

void AttentionLines::rebuildLines() {
    lines_.clear();
    const int T = tokenCount();
    const bool all_queries = T <= kMaxAllQueries;
    for (size_t i = 0; i < patterns_.size(); ++i) {
        const MatrixRM& p = patterns_[i];
        for (int q = 0; q < T; ++q) {
            if (!all_queries && q != selected_) continue;
            // Faded lines need more weight to be seen at all: skip the invisible ones.
            const float min_weight = q == selected_ ? kMinWeight : kMinFadedWeight;
            for (int k = 0; k <= q; ++k)
                if (p(q, k) >= min_weight) lines_.push_back({q, k, p(q, k), static_cast<int>(i)});
        }
    }
    // Strong lines over weak ones, and the selected query's over everything.
    std::sort(lines_.begin(), lines_.end(), [this](const AttentionLine& a, const AttentionLine& b) {
        const bool fa = a.query == selected_, fb = b.query == selected_;
        if (fa != fb) return fb;
        return a.weight < b.weight;
    });
    replot(rpQueuedReplot);
}

QPoint AttentionLines::queryCenter(int t) const {
    return QPoint(static_cast<int>(std::lround(xAxis->coordToPixel(0))) - 10,
                  static_cast<int>(std::lround(yAxis->coordToPixel(t))));
}

int AttentionLines::queryAt(const QPointF& pixel) const {
    if (tokenCount() == 0 || pixel.x() > xAxis->coordToPixel(0.5)) return -1;
    const int t = static_cast<int>(std::lround(yAxis->pixelToCoord(pixel.y())));
    return t >= 0 && t < tokenCount() ? t : -1;
}

void AttentionLines::mouseMoveEvent(QMouseEvent* event) {
    QCustomPlot::mouseMoveEvent(event);
    const int t = queryAt(event->position());
    if (t >= 0)
        QToolTip::showText(event->globalPosition().toPoint(),
                           tr("query %1 \"%2\": click to follow its lines").arg(t).arg(labels_[t]),
                           this);
    else
        QToolTip::hideText();
}

void AttentionLines::mousePressEvent(QMouseEvent* event) {
    QCustomPlot::mousePressEvent(event);
    const int t = queryAt(event->position());
    if (t >= 0) emit queryClicked(t);
}

}  // namespace ps
