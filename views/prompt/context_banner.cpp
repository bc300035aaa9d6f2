#include "views/prompt/context_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QTextCursor>
#include <QVBoxLayout>

#include "app/session/session.h"
#include "core/sampling/prompt_tail.h"
#include "core/tokenizer/tokenizer.h"

namespace ps {

ContextBanner::ContextBanner(Session* session, QPlainTextEdit* editor, QWidget* parent)
    : QFrame(parent), session_(session), editor_(editor) {
    setObjectName("contextBanner");
    setFrameShape(QFrame::StyledPanel);
    // Tooltip colors: a note that stands out in both the light and the dark theme.
    setBackgroundRole(QPalette::ToolTipBase);
    setForegroundRole(QPalette::ToolTipText);
    setAutoFillBackground(true);
    label_ = new QLabel(this);
    label_->setWordWrap(true);
    label_->setForegroundRole(QPalette::ToolTipText);
    keep_ = new QPushButton(this);
    keep_->setObjectName("keepLastTokens");
    edit_ = new QPushButton(tr("Edit the prompt"), this);
    edit_->setObjectName("editPrompt");
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 4);
    layout->addWidget(label_, 1);
    layout->addWidget(keep_);
    layout->addWidget(edit_);
    connect(keep_, &QPushButton::clicked, this, &ContextBanner::keepLastTokens);
    connect(edit_, &QPushButton::clicked, this, &ContextBanner::editPrompt);
    connect(session_, &Session::promptChanged, this, &ContextBanner::refresh);
    connect(session_, &Session::modelChanged, this, &ContextBanner::refresh);
    refresh();
}

const QString& ContextBanner::message() const {
    return message_;
}

void ContextBanner::refresh() {
    const bool too_long = session_->promptTooLong();
    setVisible(too_long);
    if (!too_long) {
        message_.clear();
        return;
    }
    const int n = static_cast<int>(session_->tokens().size());
    const int context = session_->contextLength();
    message_ = tr("The prompt is %1 tokens; this model reads at most %2 (its context window). "
                  "Nothing is analyzed until it fits.")
                   .arg(n)
                   .arg(context);
    label_->setText(message_);
    keep_->setText(tr("Keep the last %1 tokens").arg(context));
}

int ContextBanner::fittingTailLength() const {
    const auto& model = session_->model();
    if (!model) return static_cast<int>(session_->prompt().size());
    try {
        const PromptTail tail = keep_last_tokens(
            *model->tokenizer, session_->prompt().toStdString(), session_->contextLength());
        return static_cast<int>(QString::fromStdString(tail.text).size());
    } catch (...) {
        return 0;  // a text the tokenizer refuses: nothing of it fits
    }
}

void ContextBanner::keepLastTokens() {
    if (!session_->promptTooLong()) return;
    const QString prompt = session_->prompt();
    session_->setPrompt(prompt.right(fittingTailLength()));
    session_->analyzeNow();
}

void ContextBanner::editPrompt() {
    const int cut = static_cast<int>(session_->prompt().size()) - fittingTailLength();
    QTextCursor cursor = editor_->textCursor();
    cursor.setPosition(0);
    cursor.setPosition(std::max(0, cut), QTextCursor::KeepAnchor);
    editor_->setTextCursor(cursor);
    editor_->setFocus();
}

QWidget* with_context_banner(Session* session, QPlainTextEdit* editor, QWidget* parent) {
    auto* box = new QWidget(parent);
    box->setObjectName("promptArea");
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(new ContextBanner(session, editor, box));
    layout->addWidget(editor, 1);
    return box;
}

}  // namespace ps
