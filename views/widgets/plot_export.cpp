#include "views/widgets/plot_export.h"

#include "views/widgets/custom_plot.h"

#include <QDialog>
#include <QDialogButtonBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QMessageBox>
#include <QPdfWriter>
#include <QSpinBox>
#include <QSvgGenerator>
#include <QTextStream>
#include <cmath>

namespace ps {

namespace {

constexpr double kScreenDpi = 96.0;

QImage png_canvas(int width, int height, int dpi) {
    QImage image(width, height, QImage::Format_ARGB32_Premultiplied);
    image.fill(Qt::transparent);
    const int dots_per_meter = static_cast<int>(std::lround(dpi / 0.0254));
    image.setDotsPerMeterX(dots_per_meter);
    image.setDotsPerMeterY(dots_per_meter);
    return image;
}

bool svg_of(QWidget* widget, const QString& path, const std::function<void(QPainter&)>& draw) {
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(widget->size());
    svg.setViewBox(QRect(QPoint(0, 0), widget->size()));
    QPainter painter;
    if (!painter.begin(&svg)) return false;
    draw(painter);
    painter.end();
    return QFileInfo(path).size() > 0;
}

}  // namespace

bool export_plot(QCustomPlot* plot, const QString& path, int width, int height, int dpi) {
    const QString suffix = QFileInfo(path).suffix().toLower();
    if (suffix == "png" && dpi <= 0) return plot->savePng(path, width, height, 2.0);
    if (suffix == "png") {
        const int w = width > 0 ? width : plot->width();
        const int h = height > 0 ? height : plot->height();
        const double scale = dpi / kScreenDpi;
        QImage image = png_canvas(w, h, dpi);
        QCPPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        painter.setMode(QCPPainter::pmNonCosmetic, true);
        painter.scale(scale, scale);
        plot->toPainter(&painter, static_cast<int>(std::ceil(w / scale)),
                        static_cast<int>(std::ceil(h / scale)));
        painter.end();
        return image.save(path, "PNG");
    }
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

bool export_widget(QWidget* widget, const QString& path, int width, int height, int dpi) {
    if (auto* plot = qobject_cast<QCustomPlot*>(widget))
        return export_plot(plot, path, width, height, dpi);
    const QString suffix = QFileInfo(path).suffix().toLower();
    const QSize size = widget->size();
    if (size.isEmpty()) return false;
    if (suffix == "png") {
        const int w = width > 0 ? width : size.width() * 2;
        const int h = height > 0 ? height : size.height() * 2;
        QImage image = png_canvas(w, h, dpi > 0 ? dpi : 192);
        image.fill(widget->palette().window().color());
        QPainter painter(&image);
        painter.setRenderHint(QPainter::Antialiasing);
        // The widget keeps its on-screen layout, scaled to fit and centred.
        const double scale = std::min(double(w) / size.width(), double(h) / size.height());
        painter.translate((w - size.width() * scale) / 2, (h - size.height() * scale) / 2);
        painter.scale(scale, scale);
        widget->render(&painter, QPoint(), QRegion(),
                       QWidget::DrawWindowBackground | QWidget::DrawChildren);
        painter.end();
        return image.save(path, "PNG");
    }
    if (suffix == "svg") return svg_of(widget, path, [widget](QPainter& p) { widget->render(&p); });
    if (suffix != "pdf") return false;
    QPdfWriter pdf(path);
    pdf.setResolution(static_cast<int>(kScreenDpi));
    pdf.setPageSize(
        QPageSize(QSizeF(size.width() * 72.0 / kScreenDpi, size.height() * 72.0 / kScreenDpi),
                  QPageSize::Point));
    pdf.setPageMargins(QMarginsF(0, 0, 0, 0));
    QPainter painter;
    if (!painter.begin(&pdf)) return false;
    widget->render(&painter);
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

bool ask_png_size(QWidget* parent, QSize on_screen, PngSize* out) {
    QDialog dialog(parent);
    dialog.setWindowTitle(QObject::tr("PNG size"));
    auto spin = [&dialog](int lo, int hi, int value, const QString& suffix) {
        auto* s = new QSpinBox(&dialog);
        s->setRange(lo, hi);
        s->setValue(value);
        s->setSuffix(suffix);
        return s;
    };
    QSpinBox* width = spin(16, 16000, std::max(16, on_screen.width() * 2), QObject::tr(" px"));
    QSpinBox* height = spin(16, 16000, std::max(16, on_screen.height() * 2), QObject::tr(" px"));
    QSpinBox* dpi = spin(48, 1200, 192, QObject::tr(" dpi"));
    dpi->setToolTip(QObject::tr("96 = screen size text; 300 = print"));
    auto* form = new QFormLayout(&dialog);
    form->addRow(QObject::tr("Width"), width);
    form->addRow(QObject::tr("Height"), height);
    form->addRow(QObject::tr("Resolution"), dpi);
    auto* buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, &dialog);
    QObject::connect(buttons, &QDialogButtonBox::accepted, &dialog, &QDialog::accept);
    QObject::connect(buttons, &QDialogButtonBox::rejected, &dialog, &QDialog::reject);
    form->addRow(buttons);
    if (dialog.exec() != QDialog::Accepted) return false;
    *out = {width->value(), height->value(), dpi->value()};
    return true;
}

void export_widget_dialog(QWidget* parent, const QString& default_name, QWidget* widget,
                          const std::function<bool(const QString& csv_path)>& write_csv) {
    const QString path = QFileDialog::getSaveFileName(
        parent, QObject::tr("Export"), default_name + ".png",
        QObject::tr(
            "PNG image (*.png);;SVG image (*.svg);;PDF document (*.pdf);;CSV data (*.csv)"));
    if (path.isEmpty()) return;
    bool ok = false;
    if (path.endsWith(".csv", Qt::CaseInsensitive)) {
        ok = write_csv && write_csv(path);
    } else if (path.endsWith(".png", Qt::CaseInsensitive)) {
        PngSize png;
        if (!ask_png_size(parent, widget->size(), &png)) return;
        ok = export_widget(widget, path, png.width, png.height, png.dpi);
    } else {
        ok = export_widget(widget, path);
    }
    if (!ok)
        QMessageBox::warning(parent, QObject::tr("Export failed"),
                             QObject::tr("Could not write %1").arg(path));
}

void export_dialog(QWidget* parent, const QString& default_name, QCustomPlot* plot,
                   const std::function<bool(const QString& csv_path)>& write_csv) {
    export_widget_dialog(parent, default_name, plot, write_csv);
}

}  // namespace ps
