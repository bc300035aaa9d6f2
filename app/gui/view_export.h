// Exporting from the File menu: File > Export View > (any view) as PNG (chosen size and DPI),
// SVG, PDF or its data as CSV, and File > Export Trace… writing the current analysis as the
// same safetensors file `paramscope trace` writes (TransformerLens hook names).
#pragma once

#include <QString>
#include <functional>

class QMenu;
class QWidget;

namespace ps {

class MainWindow;
class Session;

// What a view exports: the widget drawn as its picture (its main plot when it has one) and
// the writer of its CSV.
struct ViewExport {
    QWidget* picture = nullptr;
    std::function<bool(const QString& path)> csv;
};
ViewExport view_export(MainWindow* window, Session* session, const QString& name);

// Saves view `name` to `path` by suffix (png, svg, pdf, csv); false on failure.
bool export_view(MainWindow* window, Session* session, const QString& name, const QString& path,
                 int width = 0, int height = 0, int dpi = 0);

// The prompt's tokens: position,id,token,piece. False without tokens.
bool export_tokens_csv(const Session& session, const QString& path);

// Writes the session's trace (if it matches the prompt) as safetensors; false with `error`.
bool export_trace(const Session& session, const QString& path, QString* error);

// Adds "Export View" and "Export Trace…" to the File menu.
void add_export_menu(QMenu* file, MainWindow* window, Session* session);

}  // namespace ps
