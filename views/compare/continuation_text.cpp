#include "views/compare/continuation_text.h"

#include <QHelpEvent>
#include <QPainter>
#include <QToolTip>
#include <algorithm>
#include <cmath>

#include "core/tokenizer/tokenizer.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

constexpr int kPadX = 3, kPadY = 2, kGap = 3, kMargin = 3;
constexpr double kLowest = 1e-3;  // the scale's red end: anything less likely is as red

QFont chip_font(const QWidget* w) {
    QFont f = w->font();
    f.setFamily("DejaVu Sans Mono");
    f.setStyleHint(QFont::Monospace);
    return f;
}

}  // namespace

QColor probability_color(double p) {
    // Position on a log scale from 0.001 to 1, then a hue from red (0) through yellow to green.
    const double t = std::clamp(
        (std::log10(std::max(p, 1e-12)) - std::log10(kLowest)) / -std::log10(kLowest), 0.0, 1.0);
    return QColor::fromHsvF(static_cast<float>(t / 3.0), 0.35f, 1.0f);
}

ContinuationText::ContinuationText(QWidget* parent) : QWidget(parent) {
    setObjectName("continuation");
    setMouseTracking(true);
    setSizePolicy(QSizePolicy::Preferred, QSizePolicy::Preferred);
}

void ContinuationText::setGeneration(const Generation& g, const Tokenizer& tok,
                                     const QString& prompt_tail) {
    generation_ = g;
    tok_ = &tok;
    prompt_tail_ = prompt_tail;
    message_.clear();
    stale_ = false;
    labels_.clear();
    for (const GeneratedStep& s : g.steps) labels_.push_back(token_display(tok, s.token));
    relayout();
    update();
}

void ContinuationText::setMessage(const QString& message) {
    generation_ = Generation{};
    labels_.clear();
    rects_.clear();
    prompt_tail_.clear();
    message_ = message;
    relayout();
    update();
}

void ContinuationText::setStale(bool stale) {
    if (stale_ == stale) return;
    stale_ = stale;
    update();
}

int ContinuationText::layoutChips(int width, std::vector<QRect>* rects, QRect* tail) const {
    const QFontMetrics fm(chip_font(this));
    const int h = fm.height() + 2 * kPadY;
    int x = kMargin, y = kMargin;
    if (rects) rects->clear();
    if (!prompt_tail_.isEmpty()) {
        const int w = std::min(fm.horizontalAdvance(prompt_tail_), width - 2 * kMargin);
        if (tail) *tail = QRect(x, y, w, h);
        x += w + kGap;
    }
    for (const QString& label : labels_) {
        const int w = fm.horizontalAdvance(label) + 2 * kPadX;
        if (x > kMargin && x + w > width - kMargin) {
            x = kMargin;
            y += h + kGap;
        }
        if (rects) rects->push_back(QRect(x, y, w, h));
        x += w + kGap;
    }
    return y + h + kMargin;
}

int ContinuationText::heightForWidth(int width) const {
    if (labels_.empty()) return fontMetrics().height() * 2;
    return layoutChips(width, nullptr, nullptr);
}

QSize ContinuationText::sizeHint() const {
    return QSize(300, heightForWidth(300));
}

// Splitters and scroll areas do not ask for the height at a width, so the minimum height
// follows the current width instead (updated on every resize and new text).
QSize ContinuationText::minimumSizeHint() const {
    return QSize(100, std::max(fontMetrics().height() * 2, needed_height_));
}

void ContinuationText::resizeEvent(QResizeEvent* event) {
    QWidget::resizeEvent(event);
    relayout();
}

void ContinuationText::relayout() {
    const int needed =
        labels_.empty() ? 0 : layoutChips(std::max(width(), 200), &rects_, &tail_rect_);
    if (needed != needed_height_) {
        needed_height_ = needed;
        updateGeometry();
    }
}

void ContinuationText::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.setRenderHint(QPainter::Antialiasing);
    if (labels_.empty()) {
        p.setPen(QColor(0x70, 0x70, 0x70));
        p.drawText(rect().adjusted(kMargin, kMargin, -kMargin, -kMargin),
                   Qt::AlignLeft | Qt::AlignTop | Qt::TextWordWrap, message_);
        return;
    }
    p.setFont(chip_font(this));
    if (stale_) p.setOpacity(0.45);
    if (!prompt_tail_.isEmpty()) {
        p.setPen(QColor(0x80, 0x80, 0x80));
        p.drawText(
            tail_rect_, Qt::AlignVCenter | Qt::AlignRight,
            QFontMetrics(p.font()).elidedText(prompt_tail_, Qt::ElideLeft, tail_rect_.width()));
    }
    for (size_t i = 0; i < rects_.size() && i < labels_.size(); i++) {
        const GeneratedStep& s = generation_.steps[i];
        const QColor fill = probability_color(s.p_final);
        p.setPen(QPen(fill.darker(140), 1.0));
        p.setBrush(fill);
        p.drawRoundedRect(QRectF(rects_[i]).adjusted(0.5, 0.5, -0.5, -0.5), 3, 3);
        p.setPen(QColor(0x20, 0x20, 0x20));
        p.drawText(rects_[i], Qt::AlignCenter, labels_[i]);
    }
}

int ContinuationText::stepAt(const QPoint& pos) const {
    for (size_t i = 0; i < rects_.size(); i++)
        if (rects_[i].contains(pos)) return static_cast<int>(i);
    return -1;
}

QString ContinuationText::stepDetails(int step) const {
    if (!tok_ || step < 0 || step >= static_cast<int>(generation_.steps.size())) return {};
    const GeneratedStep& s = generation_.steps[size_t(step)];
    QString html =
        tr("<b>step %1</b>: drew <code>%2</code> with p %3 (rank %4)<br>entropy %5 bits, %6 "
           "tokens kept<table cellspacing=0 cellpadding=1><tr><th align=left>token</th><th "
           "align=right>final p</th><th align=right>raw p</th></tr>")
            .arg(step + 1)
            .arg(token_display(*tok_, s.token).toHtmlEscaped())
            .arg(s.p_final, 0, 'g', 4)
            .arg(s.rank + 1)
            .arg(s.entropy_final_bits, 0, 'f', 3)
            .arg(s.kept);
    for (const TokenProbability& t : s.top) {
        const bool drawn = t.id == s.token;
        html += QString(
                    "<tr%1><td><code>%2</code></td><td align=right>%3</td><td "
                    "align=right>%4</td></tr>")
                    .arg(drawn ? " style='font-weight:bold;background:#fff3b0'" : "")
                    .arg(token_display(*tok_, t.id).toHtmlEscaped())
                    .arg(t.p_final, 0, 'f', 4)
                    .arg(t.p_raw, 0, 'f', 4);
    }
    html += "</table>";
    if (s.rank >= static_cast<int>(s.top.size()))
        html += tr("<i>the drawn token is below the top %1</i>").arg(s.top.size());
    return html;
}

bool ContinuationText::event(QEvent* event) {
    if (event->type() == QEvent::ToolTip) {
        auto* help = static_cast<QHelpEvent*>(event);
        const int step = stepAt(help->pos());
        if (step >= 0)
            QToolTip::showText(help->globalPos(), stepDetails(step), this, rects_[size_t(step)]);
        else
            QToolTip::hideText();
        return true;
    }
    return QWidget::event(event);
}

// ---------------------------------------------------------------------------------------------

ProbabilityScale::ProbabilityScale(QWidget* parent) : QWidget(parent) {
    setObjectName("probabilityScale");
    setToolTip(tr("fill of a generated token: the probability it had when it was drawn"));
    setSizePolicy(QSizePolicy::Fixed, QSizePolicy::Fixed);
}

QSize ProbabilityScale::sizeHint() const {
    const QFontMetrics fm(font());
    return QSize(fm.horizontalAdvance("p when drawn  0.001") + 140 + fm.horizontalAdvance(" 1"),
                 fm.height() + 4);
}

void ProbabilityScale::paintEvent(QPaintEvent*) {
    QPainter p(this);
    const QFontMetrics fm(font());
    const QString left = tr("p when drawn  0.001"), right = " 1";
    p.setPen(palette().color(QPalette::WindowText));
    const int bar_x = fm.horizontalAdvance(left) + 4, bar_w = 132;
    p.drawText(QRect(0, 0, bar_x, height()), Qt::AlignVCenter | Qt::AlignLeft, left);
    for (int x = 0; x < bar_w; x++) {
        const double t = double(x) / (bar_w - 1);
        p.fillRect(bar_x + x, 3, 1, height() - 6, probability_color(std::pow(10.0, -3 + 3 * t)));
    }
    p.drawText(QRect(bar_x + bar_w, 0, width() - bar_x - bar_w, height()),
               Qt::AlignVCenter | Qt::AlignLeft, right);
}

}  // namespace ps
