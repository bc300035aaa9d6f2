// Saving what a view shows: any QCustomPlot (or, for views that are not plots, the widget as
// drawn) as PNG, SVG or PDF (chosen by the file's suffix), and the view's numbers as CSV,
// behind one "Export…" dialog that every view uses. A PNG gets the size and DPI the user asks
// for.
#pragma once

#include <QSize>
#include <QString>
#include <functional>

class QCustomPlot;
class QTextStream;
class QWidget;

namespace ps {

// Writes PNG, SVG or PDF by the file's suffix; width/height 0 = the plot's size. A PNG without
// `dpi` is drawn at 2x scale; with `dpi` it is exactly width × height pixels, laid out as the
// plot would be at that resolution (text the size it has on a 96 DPI screen, times dpi / 96)
// and the DPI is stored in the file. False on failure or an unknown suffix.
bool export_plot(QCustomPlot* plot, const QString& path, int width = 0, int height = 0,
                 int dpi = 0);

// The same for a widget that is not a plot (the prompt, the tokens, the walk): PNG scaled to
// fit width × height, SVG and PDF at the widget's size.
bool export_widget(QWidget* widget, const QString& path, int width = 0, int height = 0,
                   int dpi = 0);

// Writes a CSV file through `write` (which streams rows); false if the file cannot be written.
bool export_csv(const QString& path, const std::function<void(QTextStream&)>& write);

// Quotes one CSV field when it needs it (commas, quotes, newlines, leading/trailing spaces).
QString csv_field(const QString& s);

struct PngSize {
    int width = 0, height = 0, dpi = 192;
};
// Asks for a PNG's size in pixels and its DPI, starting from twice `on_screen` at 192 DPI.
// False when cancelled.
bool ask_png_size(QWidget* parent, QSize on_screen, PngSize* out);

// The "Export…" dialog: asks for a file (PNG, SVG, PDF or CSV) named `default_name` + suffix,
// for a PNG its size and DPI, then saves the plot (or `widget`, when it is not a plot) or calls
// `write_csv`; warns in a message box when saving fails.
void export_dialog(QWidget* parent, const QString& default_name, QCustomPlot* plot,
                   const std::function<bool(const QString& csv_path)>& write_csv);
void export_widget_dialog(QWidget* parent, const QString& default_name, QWidget* widget,
                          const std::function<bool(const QString& csv_path)>& write_csv);

}  // namespace ps
