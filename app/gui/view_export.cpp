#include "app/gui/view_export.h"

#include <QFileDialog>
#include <QMenu>
#include <QMessageBox>
#include <QTextDocumentFragment>
#include <QTextStream>

#include "app/gui/main_window.h"
#include "app/session/session.h"
#include "core/formats/trace_file.h"
#include "views/attention/attention_heatmap.h"
#include "views/attention/attention_view.h"
#include "views/distribution/distribution_chart.h"
#include "views/distribution/distribution_view.h"
#include "views/layers/embeddings_chart.h"
#include "views/layers/embeddings_view.h"
#include "views/layers/logit_lens_view.h"
#include "views/layers/neurons_view.h"
#include "views/parameters/parameter_histogram.h"
#include "views/parameters/parameters_view.h"
#include "views/walk/guided_walk.h"
#include "views/widgets/plot_export.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

// Every step with the numbers it shows for the current prompt and selection.
bool export_walk_csv(const GuidedWalk& walk, const Session& session, const QString& path) {
    if (walk.stepCount() == 0) return false;
    return export_csv(path, [&](QTextStream& out) {
        out << "step,title,view,topic,numbers\n";
        for (int i = 0; i < walk.stepCount(); ++i) {
            const WalkStep& s = walk.step(i);
            const QString text =
                QTextDocumentFragment::fromHtml(step_numbers(s, session)).toPlainText();
            out << i + 1 << ',' << csv_field(s.title) << ',' << s.view << ',' << s.topic << ','
                << csv_field(text) << '\n';
        }
    });
}

}  // namespace

ViewExport view_export(MainWindow* window, Session* session, const QString& name) {
    QWidget* view = window->view(name);
    if (!view) return {};
    auto tokens_csv = [session](const QString& path) { return export_tokens_csv(*session, path); };
    if (auto* v = qobject_cast<DistributionView*>(view))
        return {v->chart(), [v](const QString& p) { return v->exportCsv(p); }};
    if (auto* v = qobject_cast<ParametersView*>(view))
        return {v->histogram()->plot(),
                [v](const QString& p) { return v->histogram()->exportCsv(p); }};
    if (auto* v = qobject_cast<LogitLensView*>(view))
        return {v->plot(), [v](const QString& p) { return v->exportCsv(p); }};
    if (auto* v = qobject_cast<NeuronsView*>(view))
        return {v->plot(), [v](const QString& p) { return v->exportCsv(p); }};
    if (auto* v = qobject_cast<EmbeddingsView*>(view))
        return {v->chart(), [v](const QString& p) { return v->exportCsv(p); }};
    if (auto* v = qobject_cast<AttentionView*>(view))
        return {v->heatmap(), [v](const QString& p) { return v->exportPatternCsv(p); }};
    if (auto* v = qobject_cast<GuidedWalk*>(view))
        return {v, [v, session](const QString& p) { return export_walk_csv(*v, *session, p); }};
    // The prompt, the tokens, and views this file does not know: the widget as drawn, and a CSV
    // through the view's own exportCsv when it declares one invokable.
    std::function<bool(const QString&)> csv = tokens_csv;
    if (name != "prompt" && name != "tokens") {
        csv = nullptr;
        if (view->metaObject()->indexOfMethod("exportCsv(QString)") >= 0)
            csv = [view](const QString& p) {
                bool ok = false;
                QMetaObject::invokeMethod(view, "exportCsv", Q_RETURN_ARG(bool, ok),
                                          Q_ARG(QString, p));
                return ok;
            };
    }
    return {view, csv};
}

bool export_view(MainWindow* window, Session* session, const QString& name, const QString& path,
                 int width, int height, int dpi) {
    const ViewExport e = view_export(window, session, name);
    if (!e.picture) return false;
    if (path.endsWith(".csv", Qt::CaseInsensitive)) return e.csv && e.csv(path);
    return export_widget(e.picture, path, width, height, dpi);
}

bool export_tokens_csv(const Session& session, const QString& path) {
    if (!session.model() || session.tokens().empty()) return false;
    const Tokenizer& tok = *session.model()->tokenizer;
    return export_csv(path, [&](QTextStream& out) {
        out << "position,id,token,piece\n";
        const auto& ids = session.tokens();
        for (size_t i = 0; i < ids.size(); ++i)
            out << i << ',' << ids[i] << ',' << csv_field(token_display(tok, ids[i])) << ','
                << csv_field(QString::fromStdString(tok.piece(ids[i]))) << '\n';
    });
}

bool export_trace(const Session& session, const QString& path, QString* error) {
    const auto& trace = session.trace();
    if (!session.model() || !trace || trace->ids != session.tokens()) {
        *error = QObject::tr("no analysis of the current prompt yet");
        return false;
    }
    try {
        write_trace_safetensors(path.toStdString(), *session.model(), *trace);
        return true;
    } catch (const std::exception& e) {
        *error = QString::fromUtf8(e.what());
        return false;
    }
}

void add_export_menu(QMenu* file, MainWindow* window, Session* session) {
    QMenu* views = file->addMenu(QObject::tr("&Export View"));
    views->setObjectName("exportViewMenu");
    // Filled when opened, so views added after the menus are listed too.
    QObject::connect(views, &QMenu::aboutToShow, views, [views, window, session] {
        views->clear();
        for (const QString& name : window->viewNames())
            views->addAction(name + QObject::tr("…"), window, [window, session, name] {
                const ViewExport e = view_export(window, session, name);
                if (e.picture) export_widget_dialog(window, name, e.picture, e.csv);
            });
    });
    file->addAction(QObject::tr("Export &Trace…"), window, [window, session] {
        const QString path = QFileDialog::getSaveFileName(
            window, QObject::tr("Export the trace"), "trace.safetensors",
            QObject::tr("safetensors (*.safetensors)"));
        if (path.isEmpty()) return;
        QString error;
        if (!export_trace(*session, path, &error))
            QMessageBox::warning(window, QObject::tr("Export failed"),
                                 QObject::tr("Could not write %1: %2").arg(path, error));
    });
}

}  // namespace ps
