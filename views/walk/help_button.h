// The "?" every view has: a button that opens the view's explanation (views/walk/explanations.h) in
// a small non-modal window. Docked views get it in their title bar (DockTitleBar, which also
// has a "present" button for presentation mode); the central views get it in a corner.
#pragma once

#include <QWidget>
#include <functional>

class QDockWidget;
class QLabel;
class QToolButton;

namespace ps {

// The text with its title as a small heading (a panel already says what it is about).
QString demote_heading(const QString& markdown);

// Opens (or raises) the window showing `topic`'s text, beside `anchor`. Returns that window,
// null when the topic has no text.
QWidget* show_explanation(QWidget* anchor, const QString& topic);

// A "?" tool button (objectName "helpButton", property "topic") that shows `topic`.
QToolButton* make_help_button(const QString& topic, QWidget* parent);

// Puts a "?" button in the top-right corner of `view`, kept there when it resizes.
QToolButton* add_corner_help(QWidget* view, const QString& topic);

// A dock title bar: the dock's title, "?" (when `topic` has a text), present (when `present`
// is set), float and close.
class DockTitleBar : public QWidget {
    Q_OBJECT
  public:
    DockTitleBar(QDockWidget* dock, const QString& topic, std::function<void()> present);
    QToolButton* helpButton() const { return help_; }
    QToolButton* presentButton() const { return present_; }

  protected:
    void paintEvent(QPaintEvent* event) override;

  private:
    QLabel* title_;
    QToolButton* help_ = nullptr;
    QToolButton* present_ = nullptr;
};

}  // namespace ps
