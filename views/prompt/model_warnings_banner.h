// The note above the window's middle when the opened model loaded with warnings (Model::warnings:
// problems that do not stop loading, such as tensors holding NaN or infinite values, which make
// whatever is computed from them NaN). It lists the first few warnings (all of them in its
// tooltip) and hides when the user dismisses it or opens a model without warnings.
#pragma once

#include <QFrame>
#include <QStringList>

class QLabel;
class QPushButton;

namespace ps {

class Session;

class ModelWarningsBanner : public QFrame {
    Q_OBJECT
  public:
    // Warnings listed one per line; the rest are counted ("and 4 more").
    static constexpr int kMaxListed = 3;

    explicit ModelWarningsBanner(Session* session, QWidget* parent = nullptr);

    // The current model's warnings (empty without a model or warnings).
    const QStringList& warnings() const { return warnings_; }
    // The text shown (plain, one warning per line).
    const QString& message() const { return message_; }
    QPushButton* dismissButton() const { return dismiss_; }

  private:
    void refresh();

    Session* session_;
    QLabel* icon_;
    QLabel* label_;
    QPushButton* dismiss_;
    QStringList warnings_;
    QString message_;
};

// `content` with the model's warnings banner above it, as one widget for the window's middle.
QWidget* with_model_warnings(Session* session, QWidget* content, QWidget* parent);

}  // namespace ps
