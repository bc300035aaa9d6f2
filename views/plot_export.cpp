#include "views/plot_export.h"

#include <qcustomplot.h>

#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QMessageBox>
#include <QSvgGenerator>
#include <QTextStream>

namespace ps {

bool export_plot(QCustomPlot* plot, const QString& path, int width, int height) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == "png") return plot->savePng(path, width, height, 2.0);
    if (suffix == "pdf") return plot->savePdf(path, width, height);
    if (suffix != "svg") return false;
    const int w = width > 0 ? width : plot->width();
    const int h = height > 0 ? height : plot->height();
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(QSize(w, h));
    svg.setViewBox(QRect(0, 0, w, h));
    QCPPainter painter;
    if (!painter.begin(&svg)) return false;
    plot->toPainter(&painter, w, h);
    painter.end();
    return QFileInfo(path).size() > 0;
}

bool export_csv(const QString& path, const std::function<void(QTextStream&)>& write) {
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
    QTextStream out(&file);
    write(out);
    out.flush();
    return out.status() == QTextStream::Ok && file.error() == QFileDevice::NoError;
}

QString csv_field(const QString& s) {
    const bool needs_quotes = s.contains(',') || s.contains('"') || s.contains('\n') ||
                              s.contains('\r') || s.startsWith(' ') || s.endsWith(' ');
    if (!needs_quotes) return s;
    QString quoted = s;
    quoted.replace('"', "\"\"");
    return '"' + quoted + '"';
}

void export_dialog(QWidget* parent, const QString& default_name, QCustomPlot* plot,
                   const std::function<bool(const QString& csv_path)>& write_csv) {
    const QString path = QFileDialog::getSaveFileName(
        parent, QObject::tr("Export"), default_name + ".png",
        QObject::tr(
            "PNG image (*.png);;SVG image (*.svg);;PDF document (*.pdf);;CSV data (*.csv)"));
    if (path.isEmpty()) return;
    const bool ok =
        path.endsWith(".csv", Qt::CaseInsensitive) ? write_csv(path) : export_plot(plot, path);
    if (!ok)
        QMessageBox::warning(parent, QObject::tr("Export failed"),
                             QObject::tr("Could not write %1").arg(path));
}

}  // namespace ps
