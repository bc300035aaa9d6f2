#include "views/prompt/prompt_editor.h"

#include "app/session/session.h"

namespace ps {

PromptEditor::PromptEditor(Session* session, QWidget* parent)
    : QPlainTextEdit(parent), session_(session) {
    setObjectName("prompt");
    setPlaceholderText(tr("Type a prompt…"));
    setTabChangesFocus(true);
    QFont f = font();
    f.setPointSizeF(f.pointSizeF() * 1.15);
    setFont(f);
    setPlainText(session->prompt());
    connect(this, &QPlainTextEdit::textChanged, this,
            [this] { session_->setPrompt(toPlainText()); });
    // Text changed by the session (appended tokens): show it, cursor at the end.
    connect(session, &Session::promptChanged, this, [this] {
        if (toPlainText() == session_->prompt()) return;
        const QSignalBlocker block(this);
        setPlainText(session_->prompt());
        moveCursor(QTextCursor::End);
    });
}

}  // namespace ps
