// The app's look for presenting: a theme (the system's, a high-contrast light one, a dark one)
// and a font scale (Ctrl +/−), applied to the whole application — widgets through the
// palette and the application font, every QCustomPlot through a hook run before each replot
// (backgrounds, axes, tick labels, grids, legends and their fonts), so views need no code of
// their own. Colours a view chose itself (a coloured axis, the bars) are kept; its black, white
// and grey ones follow the theme.
#pragma once

#include <QColor>
#include <QFont>
#include <QObject>
#include <QPalette>
#include <QString>

class QCustomPlot;

namespace ps {

enum class Theme { System, HighContrastLight, Dark };

const char* theme_name(Theme t);  // "system", "light", "dark"
bool parse_theme(const QString& name, Theme* out);

class Appearance : public QObject {
    Q_OBJECT
  public:
    static Appearance& instance();

    Theme theme() const { return theme_; }
    void setTheme(Theme theme);
    double fontScale() const { return font_scale_; }
    void setFontScale(double scale);  // clamped to [kMinScale, kMaxScale]
    void zoomIn() { setFontScale(font_scale_ * kStep); }
    void zoomOut() { setFontScale(font_scale_ / kStep); }

    // What a view's own colour becomes under the theme (greys invert in the dark theme).
    QColor themed(const QColor& original) const;
    // Hooks `plot` (once) so every replot applies the theme; done for all plots on a change.
    void watch(QCustomPlot* plot);
    // Hooks every plot that exists and repaints them all.
    void refreshAll();

    // The Classroom display preset, for a projector: the high-contrast theme, text at
    // kClassroomScale and plot lines kClassroomLines times as thick. Leaving it goes back to
    // the system theme at text size 1.
    void setClassroom(bool on);
    bool classroom() const { return line_scale_ > 1; }

    static constexpr double kMinScale = 0.5, kMaxScale = 4.0, kStep = 1.15;
    static constexpr double kClassroomScale = 1.4, kClassroomLines = 2.0;

  signals:
    void changed();

  private:
    Appearance() = default;
    void captureSystem();
    void applyToPlot(QCustomPlot* plot) const;
    void applyToWidgetFonts() const;
    QFont scaled(const QFont& original) const;

    bool captured_ = false;
    QPalette system_palette_;
    QString system_style_;
    QFont system_font_;
    Theme theme_ = Theme::System;
    double font_scale_ = 1.0;
    double line_scale_ = 1.0;  // plot pens' widths (the Classroom preset)
};

// Keeps `widget`'s height between min and max pixels at text size 1, scaled with the text size
// (a plot of four labelled bars needs room for four lines of text, whatever their size).
void keep_height_with_text(QWidget* widget, int min_height, int max_height);

}  // namespace ps
