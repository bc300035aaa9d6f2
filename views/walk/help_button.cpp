#include "views/walk/help_button.h"

#include <QAbstractScrollArea>
#include <QDialog>
#include <QDockWidget>
#include <QEvent>
#include <QHBoxLayout>
#include <QLabel>
#include <QPainter>
#include <QScreen>
#include <QTextBrowser>
#include <QToolButton>
#include <QVBoxLayout>
#include <algorithm>

#include "views/walk/explanations.h"

namespace ps {

namespace {

// Keeps a corner button in the top-right corner of the widget it watches.
class CornerKeeper : public QObject {
  public:
    CornerKeeper(QWidget* view, QWidget* button) : QObject(button), view_(view), button_(button) {
        view->installEventFilter(this);
        // Scroll bars coming and going resize the viewport, not the view.
        if (auto* scroll = qobject_cast<QAbstractScrollArea*>(view))
            scroll->viewport()->installEventFilter(this);
        place();
    }
    bool eventFilter(QObject*, QEvent* event) override {
        if (event->type() == QEvent::Resize || event->type() == QEvent::Show) place();
        return false;
    }

  private:
    // Bottom right, inside the scroll bars of a scroll area: where short text never reaches.
    void place() {
        button_->adjustSize();
        QRect area = view_->rect();
        if (auto* scroll = qobject_cast<QAbstractScrollArea*>(view_))
            area = scroll->viewport()->geometry();
        button_->move(area.right() - button_->width() - 3, area.bottom() - button_->height() - 3);
        button_->raise();
    }
    QWidget* view_;
    QWidget* button_;
};

// Glyphs rather than style icons: they take the palette's text colour in every theme.
QToolButton* small_button(QWidget* parent, const QString& glyph, const QString& tip) {
    auto* b = new QToolButton(parent);
    b->setText(glyph);
    b->setToolTip(tip);
    b->setAutoRaise(true);
    return b;
}

}  // namespace

QString demote_heading(const QString& markdown) {
    return markdown.startsWith("# ") ? "### " + markdown.mid(2) : markdown;
}

QWidget* show_explanation(QWidget* anchor, const QString& topic) {
    const QString markdown = explanation_markdown(topic);
    if (markdown.isEmpty()) return nullptr;
    QWidget* top = anchor->window();
    const QString name = "explanation-" + topic;
    auto* dialog = top->findChild<QDialog*>(name, Qt::FindDirectChildrenOnly);
    if (!dialog) {
        dialog = new QDialog(top);
        dialog->setObjectName(name);
        dialog->setWindowTitle(explanation_title(topic));
        dialog->setAttribute(Qt::WA_DeleteOnClose);
        auto* text = new QTextBrowser(dialog);
        text->setObjectName("explanationText");
        text->setOpenExternalLinks(true);
        text->setMarkdown(demote_heading(markdown));
        auto* layout = new QVBoxLayout(dialog);
        layout->addWidget(text);
        dialog->resize(480, 380);
        const QPoint corner = anchor->mapToGlobal(QPoint(anchor->width(), 0));
        // On the screen, whatever the anchor's place (a view behind a tab has none).
        const QRect screen = top->screen()->availableGeometry();
        const QPoint wanted = corner - QPoint(dialog->width(), 0);
        // (max after min: a dialog larger than the screen keeps its top-left corner on it)
        dialog->move(
            std::max(screen.left(), std::min(wanted.x(), screen.right() - dialog->width())),
            std::max(screen.top(), std::min(wanted.y(), screen.bottom() - dialog->height())));
    }
    dialog->show();
    dialog->raise();
    return dialog;
}

QToolButton* make_help_button(const QString& topic, QWidget* parent) {
    auto* b = new QToolButton(parent);
    b->setObjectName("helpButton");
    b->setProperty("topic", topic);
    b->setText("?");
    b->setToolTip(QObject::tr("What is this? (%1)").arg(explanation_title(topic)));
    b->setAutoRaise(true);
    QFont bold = b->font();
    bold.setBold(true);
    b->setFont(bold);
    QObject::connect(b, &QToolButton::clicked, b, [b, topic] { show_explanation(b, topic); });
    return b;
}

QToolButton* add_corner_help(QWidget* view, const QString& topic) {
    if (explanation_markdown(topic).isEmpty()) return nullptr;
    QToolButton* b = make_help_button(topic, view);
    b->setAutoRaise(false);
    new CornerKeeper(view, b);
    return b;
}

DockTitleBar::DockTitleBar(QDockWidget* dock, const QString& topic, std::function<void()> present)
    : QWidget(dock) {
    setObjectName("dockTitleBar");
    title_ = new QLabel(dock->windowTitle(), this);
    QFont bold = title_->font();
    bold.setBold(true);
    title_->setFont(bold);
    connect(dock, &QDockWidget::windowTitleChanged, title_, &QLabel::setText);
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(6, 1, 2, 1);
    layout->setSpacing(0);
    layout->addWidget(title_);
    layout->addStretch(1);
    if (!explanation_markdown(topic).isEmpty()) {
        help_ = make_help_button(topic, this);
        layout->addWidget(help_);
    }
    if (present) {
        present_ =
            small_button(this, QString::fromUtf8("⤢"), tr("Present this view full screen (F5)"));
        present_->setObjectName("presentButton");
        connect(present_, &QToolButton::clicked, this, [present] { present(); });
        layout->addWidget(present_);
    }
    QToolButton* float_button = small_button(this, QString::fromUtf8("❐"), tr("Float / dock"));
    connect(float_button, &QToolButton::clicked, dock,
            [dock] { dock->setFloating(!dock->isFloating()); });
    layout->addWidget(float_button);
    QToolButton* close = small_button(this, QString::fromUtf8("✕"), tr("Close"));
    connect(close, &QToolButton::clicked, dock, &QDockWidget::close);
    layout->addWidget(close);
}

void DockTitleBar::paintEvent(QPaintEvent*) {
    QPainter p(this);
    p.fillRect(rect(), palette().window().color().darker(108));
}

}  // namespace ps
