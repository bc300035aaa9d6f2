// Saving what a view shows: any QCustomPlot as PNG, SVG or PDF (chosen by the file's suffix),
// and the view's numbers as CSV, behind one "Export…" dialog that every view uses.
#pragma once

#include <QString>
#include <functional>

class QCustomPlot;
class QTextStream;
class QWidget;

namespace ps {

// Writes PNG (2x scale), SVG or PDF by the file's suffix; width/height 0 = the plot's size.
// False on failure or an unknown suffix.
bool export_plot(QCustomPlot* plot, const QString& path, int width = 0, int height = 0);

// Writes a CSV file through `write` (which streams rows); false if the file cannot be written.
bool export_csv(const QString& path, const std::function<void(QTextStream&)>& write);

// Quotes one CSV field when it needs it (commas, quotes, newlines, leading/trailing spaces).
QString csv_field(const QString& s);

// The "Export…" dialog: asks for a file (PNG, SVG, PDF or CSV) named `default_name` + suffix,
// then saves the plot or calls `write_csv`; warns in a message box when saving fails.
void export_dialog(QWidget* parent, const QString& default_name, QCustomPlot* plot,
                   const std::function<bool(const QString& csv_path)>& write_csv);

}  // namespace ps
