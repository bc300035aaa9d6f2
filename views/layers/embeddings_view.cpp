#include "views/layers/embeddings_view.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QTextStream>
#include <QVBoxLayout>

#include "app/session/session.h"
#include "core/analysis/layer_analysis.h"
#include "views/layers/embeddings_chart.h"
#include "views/widgets/plot_export.h"
#include "views/widgets/token_text.h"

namespace ps {

EmbeddingsView::EmbeddingsView(Session* session, QWidget* parent)
    : QWidget(parent), session_(session) {
    setObjectName("embeddings");
    title_ = new QLabel(this);
    title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);  // never widens the dock
    title_->setTextFormat(Qt::RichText);
    title_->setWordWrap(true);
    auto* export_button = new QPushButton(tr("Export…"), this);
    export_button->setToolTip(
        tr("save the figure (PNG, SVG, PDF) or the trajectories and norms (CSV)"));
    chart_ = new EmbeddingsChart(this);

    auto* header = new QHBoxLayout;
    header->addWidget(title_, 1);
    header->addWidget(export_button);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->addLayout(header);
    layout->addWidget(chart_, 1);

    connect(export_button, &QPushButton::clicked, this, [this] {
        export_dialog(this, "embeddings", chart_,
                      [this](const QString& path) { return exportCsv(path); });
    });
    // Boundary 0 is the input of layer 0; boundary b > 0 is the output of layer b - 1.
    connect(chart_, &EmbeddingsChart::pointClicked, this, [this](int token, int boundary) {
        session_->selectLayer(std::max(0, boundary - 1));
        session_->selectPosition(token);
    });
    connect(chart_, &EmbeddingsChart::rowClicked, session_, &Session::selectPosition);
    connect(session_, &Session::analysisReady, this, &EmbeddingsView::refresh);
    connect(session_, &Session::layerAnalysisReady, this, &EmbeddingsView::refresh);
    connect(session_, &Session::modelChanged, this, &EmbeddingsView::refresh);
    connect(session_, &Session::selectionChanged, this, &EmbeddingsView::refresh);
    refresh();
}

const LayerAnalysis* EmbeddingsView::analysis() const {
    const auto& a = session_->layerAnalysis();
    const auto& trace = session_->trace();
    if (!session_->model() || !a || !trace || a->ids != trace->ids) return nullptr;
    return a.get();
}

void EmbeddingsView::refresh() {
    const LayerAnalysis* a = analysis();
    if (!a) {
        title_->setText(tr("<b>Embeddings through the layers</b>"));
        chart_->clear(!session_->model()      ? tr("Open a model to follow its residual stream.")
                      : session_->analyzing() ? tr("Analyzing…")
                                              : tr("Type a prompt."));
        return;
    }
    const Tokenizer& tok = *session_->model()->tokenizer;
    const int position = session_->position(), layer = session_->layer();
    title_->setText(
        tr("<b>Embeddings through the layers</b> &nbsp;·&nbsp; selected: position %1 "
           "<code>%2</code>, layer %3 &nbsp;·&nbsp; PCA over %4 tokens × %5 points "
           "(%6 ms), logit lens %7 ms")
            .arg(position)
            .arg(token_display(tok, a->ids[static_cast<size_t>(position)]).toHtmlEscaped())
            .arg(layer)
            .arg(a->trajectories.tokens)
            .arg(a->trajectories.boundaries)
            .arg(a->pca_ms, 0, 'f', 0)
            .arg(a->lens_ms, 0, 'f', 0));
    chart_->show(*a, *session_->trace(), tok, position, layer);
}

bool EmbeddingsView::exportCsv(const QString& path) const {
    const LayerAnalysis* a = analysis();
    if (!a) return false;
    const Tokenizer& tok = *session_->model()->tokenizer;
    const Trajectories& tr = a->trajectories;
    const ResidualStats& s = a->stats;
    const bool sublayers = s.attn_out_norm.size() > 0;
    auto number = [](double v) { return QString::number(v, 'g', 7); };
    return export_csv(path, [&](QTextStream& out) {
        out << "position,token,boundary,after,pc1,pc2,norm,cosine_with_previous,attn_out_norm,"
               "mlp_out_norm,pc1_explained,pc2_explained\n";
        for (int t = 0; t < tr.tokens; t++) {
            const QString token = csv_field(token_display(tok, a->ids[static_cast<size_t>(t)]));
            for (int b = 0; b < tr.boundaries; b++) {
                out << t << ',' << token << ',' << b << ','
                    << QString::fromStdString(boundary_name(b)) << ',' << number(tr.x(t, b)) << ','
                    << number(tr.y(t, b)) << ',' << number(s.norm(b, t)) << ',';
                if (b > 0) out << number(s.cosine(b - 1, t));
                out << ',';
                if (b > 0 && sublayers) out << number(s.attn_out_norm(b - 1, t));
                out << ',';
                if (b > 0 && sublayers) out << number(s.mlp_out_norm(b - 1, t));
                out << ',' << number(tr.pca.explained[0]) << ',' << number(tr.pca.explained[1])
                    << '\n';
            }
        }
    });
}

}  // namespace ps
