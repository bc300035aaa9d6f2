// The chat switch above the prompt, shown for models that have a chat template: "Chat" wraps
// the prompt as a user message in the template (Session::setChatMode), a line says where the
// template comes from, what the model answered so far or why the template failed, and
// "Template…" opens the template itself, read-only, beside the exact text the model reads.
#pragma once

#include <QFrame>

class QCheckBox;
class QLabel;
class QPushButton;

namespace ps {

class Session;

class ChatBar : public QFrame {
    Q_OBJECT
  public:
    explicit ChatBar(Session* session, QWidget* parent = nullptr);

    QCheckBox* chatSwitch() const { return switch_; }
    QLabel* statusLabel() const { return status_; }
    // The read-only template window (created on first use).
    QWidget* showTemplate();

  private:
    void refresh();

    Session* session_;
    QCheckBox* switch_;
    QLabel* status_;
    QPushButton* show_;
    QWidget* dialog_ = nullptr;
};

}  // namespace ps
