// The note above the prompt when it is longer than the model's context window: it says so (N
// tokens, the model reads at most C) and lets the user choose: keep the prompt's last tokens
// (the beginning is cut from the text, visibly), or edit the prompt (the part that does not fit
// is selected). Until one of them makes the prompt fit, nothing is analyzed.
#pragma once

#include <QFrame>

class QLabel;
class QPlainTextEdit;
class QPushButton;

namespace ps {

class Session;

class ContextBanner : public QFrame {
    Q_OBJECT
  public:
    ContextBanner(Session* session, QPlainTextEdit* editor, QWidget* parent = nullptr);

    QPushButton* keepButton() const { return keep_; }
    QPushButton* editButton() const { return edit_; }
    const QString& message() const;

    // Replaces the prompt by its end that fits the context window.
    void keepLastTokens();
    // Focuses the editor with the beginning that does not fit selected.
    void editPrompt();

  private:
    void refresh();
    // The prompt's end that fits (UTF-16 length of what is kept).
    int fittingTailLength() const;

    Session* session_;
    QPlainTextEdit* editor_;
    QLabel* label_;
    QPushButton* keep_;
    QPushButton* edit_;
    QString message_;
};

// The prompt editor with its banner above it, as one widget for the window's middle.
QWidget* with_context_banner(Session* session, QPlainTextEdit* editor, QWidget* parent);

}  // namespace ps
