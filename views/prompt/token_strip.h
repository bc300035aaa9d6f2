// The prompt's tokens as chips, wrapped like text: piece text with visible whitespace, colors
// alternating so token boundaries are obvious, id and raw bytes on hover. Clicking a chip (or
// the arrow keys) selects that position for every view; right-clicking one offers to patch the
// residual stream there from another prompt.
#pragma once

#include <QRect>
#include <QScrollArea>
#include <QString>
#include <vector>

class QMenu;

namespace ps {

class Session;

class TokenStripCanvas;

class TokenStrip : public QScrollArea {
    Q_OBJECT
  public:
    explicit TokenStrip(Session* session, QWidget* parent = nullptr);
    // Chip rectangles in canvas coordinates, one per token (for tests).
    const std::vector<QRect>& chipRects() const;
    QWidget* canvas() const;
    // The chip's context menu at `position` (the caller owns it).
    QMenu* chipMenu(int position);

  private:
    TokenStripCanvas* canvas_;
};

}  // namespace ps
