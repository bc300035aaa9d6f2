// The prompt: a plain-text editor whose edits go to the Session (which debounces the analysis);
// text the Session appends (Sample, Generate) shows up here.
#pragma once

#include <QPlainTextEdit>

namespace ps {

class Session;

class PromptEditor : public QPlainTextEdit {
    Q_OBJECT
  public:
    explicit PromptEditor(Session* session, QWidget* parent = nullptr);

  private:
    Session* session_;
};

}  // namespace ps
