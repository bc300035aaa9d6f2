#include "views/prompt/token_strip.h"

#include <QContextMenuEvent>
#include <QHelpEvent>
#include <QInputDialog>
#include <QKeyEvent>
#include <QMenu>
#include <QMouseEvent>
#include <QPainter>
#include <QToolTip>
#include <memory>

#include "app/session/session.h"
#include "views/widgets/token_text.h"

namespace ps {

// The painted area inside the scroll area: lays chips out in lines, wrapping at its width.
class TokenStripCanvas : public QWidget {
  public:
    TokenStripCanvas(Session* session, QWidget* parent) : QWidget(parent), session_(session) {
        setFocusPolicy(Qt::StrongFocus);
        setMouseTracking(true);
        connect(session, &Session::promptChanged, this, &TokenStripCanvas::refresh);
        connect(session, &Session::modelChanged, this, &TokenStripCanvas::refresh);
        connect(session, &Session::analysisReady, this, qOverload<>(&QWidget::update));
        connect(session, &Session::selectionChanged, this, qOverload<>(&QWidget::update));
    }

    std::vector<QRect> rects;

    void refresh() {
        texts_.clear();
        if (const auto& model = session_->model())
            for (int id : session_->tokens())
                texts_.push_back(token_display(*model->tokenizer, id));
        relayout();
        update();
    }

  protected:
    void resizeEvent(QResizeEvent*) override { relayout(); }

    void paintEvent(QPaintEvent*) override {
        QPainter p(this);
        p.setRenderHint(QPainter::Antialiasing);
        p.fillRect(rect(), palette().base());
        if (texts_.empty()) {
            p.setPen(palette().color(QPalette::PlaceholderText));
            p.drawText(rect().adjusted(kGap, kGap, 0, 0), Qt::AlignLeft | Qt::AlignTop,
                       session_->model() ? tr("Type a prompt to see its tokens.")
                                         : tr("Open a model (File > Open) to see tokens."));
            return;
        }
        const int selected = session_->position();
        const QColor fills[2] = {QColor(0xdc, 0xe9, 0xf7), QColor(0xfb, 0xe5, 0xc8)};
        const QColor edges[2] = {QColor(0x9b, 0xb8, 0xdc), QColor(0xe5, 0xb9, 0x7d)};
        for (size_t i = 0; i < rects.size(); i++) {
            const QRectF r = QRectF(rects[i]).adjusted(0.5, 0.5, -0.5, -0.5);
            const bool sel = static_cast<int>(i) == selected;
            p.setPen(sel ? QPen(QColor(0x1f, 0x3a, 0x93), 2.0) : QPen(edges[i % 2], 1.0));
            p.setBrush(fills[i % 2]);
            p.drawRoundedRect(r, 4, 4);
            p.setPen(QColor(0x20, 0x20, 0x20));
            QFont f = font();
            f.setBold(sel);
            p.setFont(f);
            p.drawText(rects[i], Qt::AlignCenter, texts_[i]);
        }
    }

    void mousePressEvent(QMouseEvent* e) override {
        const int i = chipAt(e->position().toPoint());
        if (i >= 0) session_->selectPosition(i);
        setFocus();
    }

    void mouseReleaseEvent(QMouseEvent* e) override { e->accept(); }

    void contextMenuEvent(QContextMenuEvent* e) override {
        const int i = chipAt(e->pos());
        if (i < 0) return;
        session_->selectPosition(i);
        std::unique_ptr<QMenu> menu(chipMenu(i));
        if (!menu->isEmpty()) menu->exec(e->globalPos());
    }

  public:
    // Activation patching at this position: the residual stream entering a layer, copied from
    // the same position of a source prompt the user types (Session::addPatch runs it).
    QMenu* chipMenu(int position) {
        auto* menu = new QMenu(this);
        const auto& model = session_->model();
        if (!model) return menu;
        QMenu* patch = menu->addMenu(tr("Patch from another prompt here"));
        patch->setObjectName("patch");
        for (int layer = 0; layer < model->config.n_layers; ++layer) {
            QAction* a = patch->addAction(tr("the stream entering layer %1").arg(layer));
            a->setObjectName(QString("patch-layer-%1").arg(layer));
            connect(a, &QAction::triggered, this, [this, layer, position] {
                bool ok = false;
                const QString source = QInputDialog::getText(
                    this, tr("Patch from another prompt"),
                    tr("The source prompt: its blocks.%1.hook_resid_pre at position %2 replaces "
                       "this prompt's")
                        .arg(layer)
                        .arg(position),
                    QLineEdit::Normal, session_->prompt(), &ok);
                if (!ok) return;
                Intervention iv;
                iv.action = Intervention::Action::Patch;
                iv.hook = Hook::ResidPre;
                iv.layer = layer;
                iv.position = position;
                session_->addPatch(iv, source);
            });
        }
        return menu;
    }

  protected:
    void keyPressEvent(QKeyEvent* e) override {
        const int n = static_cast<int>(texts_.size());
        const int cur = session_->position();
        if (e->key() == Qt::Key_Left && cur > 0)
            session_->selectPosition(cur - 1);
        else if (e->key() == Qt::Key_Right && cur >= 0 && cur + 1 < n)
            session_->selectPosition(cur + 1);
        else if (e->key() == Qt::Key_End)
            session_->selectPosition(-1);
        else
            QWidget::keyPressEvent(e);
    }

    bool event(QEvent* e) override {
        if (e->type() == QEvent::ToolTip) {
            auto* help = static_cast<QHelpEvent*>(e);
            const int i = chipAt(help->pos());
            const auto& model = session_->model();
            if (i >= 0 && model) {
                const int id = session_->tokens()[static_cast<size_t>(i)];
                QToolTip::showText(
                    help->globalPos(),
                    tr("position %1<br>").arg(i) + token_details(*model->tokenizer, id), this,
                    rects[static_cast<size_t>(i)]);
            } else {
                QToolTip::hideText();
            }
            return true;
        }
        return QWidget::event(e);
    }

  private:
    static constexpr int kGap = 4, kPadX = 5, kPadY = 3;

    int chipAt(QPoint pt) const {
        for (size_t i = 0; i < rects.size(); i++)
            if (rects[i].contains(pt)) return static_cast<int>(i);
        return -1;
    }

    // Flow layout: chips left to right, wrapping at the width; sets the height it needs.
    void relayout() {
        rects.clear();
        const QFontMetrics fm(font());
        QFont bold = font();
        bold.setBold(true);
        const QFontMetrics fmb(bold);
        const int h = fm.height() + 2 * kPadY;
        int x = kGap, y = kGap;
        for (const QString& t : texts_) {
            const int w = std::max(fmb.horizontalAdvance(t), 6) + 2 * kPadX;
            if (x > kGap && x + w > width() - kGap) {
                x = kGap;
                y += h + kGap;
            }
            rects.emplace_back(x, y, w, h);
            x += w + kGap;
        }
        setMinimumHeight(y + h + kGap);
    }

    Session* session_;
    std::vector<QString> texts_;
};

TokenStrip::TokenStrip(Session* session, QWidget* parent)
    : QScrollArea(parent), canvas_(new TokenStripCanvas(session, this)) {
    setObjectName("tokens");
    setWidgetResizable(true);
    setHorizontalScrollBarPolicy(Qt::ScrollBarAlwaysOff);
    setFrameShape(QFrame::NoFrame);
    setWidget(canvas_);
    canvas_->refresh();
}

QMenu* TokenStrip::chipMenu(int position) {
    return canvas_->chipMenu(position);
}

const std::vector<QRect>& TokenStrip::chipRects() const {
    return canvas_->rects;
}
QWidget* TokenStrip::canvas() const {
    return canvas_;
}

}  // namespace ps
