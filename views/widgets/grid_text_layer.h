// Text written into the cells of a grid drawn on a QCustomPlot axis rect (a logit-lens cell's
// predicted token, a neuron strip's token): one layerable that paints every cell in one pass,
// so it is exported to PNG/SVG/PDF with the plot. Cells are one axis unit wide and tall,
// centred on (key, value); text is elided to the cell's width, black or white against the
// cell's colour, and dropped when the cell is too narrow to hold a character.
// Also the colour scales the layer views share.
#pragma once

#include "views/widgets/custom_plot.h"

#include <QColor>
#include <QString>
#include <vector>

namespace ps {

struct GridCellText {
    double key = 0;
    double value = 0;
    QString text;
    QColor background;  // for the text's contrast
    bool bold = false;
    QColor frame;  // a box around the cell when valid
};

class GridTextLayer : public QCPLayerable {
    Q_OBJECT
  public:
    explicit GridTextLayer(QCPAxisRect* rect);

    void setCells(std::vector<GridCellText> cells) { cells_ = std::move(cells); }
    const std::vector<GridCellText>& cells() const { return cells_; }
    void setFont(const QFont& font) { font_ = font; }
    // Below this many pixels per cell no text is drawn at all (frames still are).
    void setMinCellWidth(int pixels) { min_width_ = pixels; }

  protected:
    void applyDefaultAntialiasingHint(QCPPainter* painter) const override;
    void draw(QCPPainter* painter) override;
    QRect clipRect() const override;

  private:
    QCPAxisRect* rect_;
    std::vector<GridCellText> cells_;
    QFont font_;
    int min_width_ = 10;
};

// Black or white, whichever reads better on `background`.
QColor contrasting_text(const QColor& background);

// Light to dark blue, for probabilities in [0, 1] (ColorBrewer "Blues").
QCPColorGradient probability_gradient();
// Blue through white to red, for signed values on a range symmetric around 0 ("RdBu").
QCPColorGradient diverging_gradient();

}  // namespace ps
