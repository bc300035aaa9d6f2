#include "views/distribution/distribution_view.h"

#include <QCheckBox>
#include <QFile>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QSpinBox>
#include <QTextStream>
#include <QVBoxLayout>

#include "app/session/session.h"
#include "views/distribution/distribution_chart.h"
#include "views/distribution/sampling_controls.h"
#include "views/widgets/plot_export.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

QString csv_quote(const QString& s) {
    return '"' + QString(s).replace('"', "\"\"") + '"';
}

}  // namespace

DistributionView::DistributionView(Session* session, QWidget* parent)
    : QWidget(parent), session_(session) {
    setObjectName("distribution");
    title_ = new QLabel(this);
    title_->setMinimumWidth(60);  // wrapped by the layout rather than widening the dock
    title_->setWordWrap(true);
    title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    title_->setTextFormat(Qt::RichText);
    top_n_ = new QSpinBox(this);
    top_n_->setObjectName("topN");
    top_n_->setRange(1, 200);
    top_n_->setValue(20);
    top_n_->setPrefix(tr("top "));
    top_n_->setToolTip(tr("number of tokens shown"));
    auto* log_scale = new QCheckBox(tr("log scale"), this);
    log_scale->setObjectName("logScale");
    log_scale->setToolTip(
        tr("logarithmic probability axis: shows the tail under a dominant token"));
    auto* export_button = new QPushButton(tr("Export…"), this);
    export_button->setToolTip(tr("save the chart (PNG, SVG, PDF) or the distribution (CSV)"));
    chart_ = new DistributionChart(this);
    readout_ = new QLabel(this);
    readout_->setObjectName("readout");
    readout_->setTextFormat(Qt::RichText);
    readout_->setWordWrap(true);
    controls_ = new SamplingControls(session, this);

    auto* header = new QHBoxLayout;
    header->addWidget(title_, 1);
    header->addWidget(log_scale);
    header->addWidget(top_n_);
    header->addWidget(export_button);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->addLayout(header);
    layout->addWidget(chart_, 1);
    layout->addWidget(readout_);
    layout->addWidget(controls_);

    connect(top_n_, &QSpinBox::valueChanged, this, &DistributionView::refresh);
    connect(log_scale, &QCheckBox::toggled, chart_, &DistributionChart::setLogScale);
    connect(export_button, &QPushButton::clicked, this, &DistributionView::exportDialog);
    connect(session_, &Session::distributionChanged, this, &DistributionView::refresh);
    connect(session_, &Session::modelChanged, this, &DistributionView::refresh);
    refresh();
}

void DistributionView::setTopN(int n) {
    top_n_->setValue(n);
}

// The cumulative probability the top-p step walks: after temperature and top-k in Hugging
// Face order, after top-k alone (temperature 1) in llama.cpp order.
std::vector<double> DistributionView::cumulativeSeenByTopP(int n) const {
    const float* logits = session_->logitsAt(session_->position());
    if (!logits) return {};
    SamplingSettings s = session_->sampling();
    if (s.order == SamplingOrder::LlamaCpp) s.temperature = 1.0f;
    s.top_p = 1.0f;
    s.min_p = 0.0f;
    const Distribution seen = apply_sampling(logits, session_->model()->config.vocab_size, s);
    std::vector<double> cum;
    double total = 0;
    for (int i = 0; i < n && i < static_cast<int>(seen.ranked.size()); i++) {
        total += seen.p_final[seen.ranked[static_cast<size_t>(i)]];
        cum.push_back(total);
    }
    return cum;
}

void DistributionView::refresh() {
    const auto& model = session_->model();
    const Distribution* d = session_->distribution();
    if (!model || !d) {
        title_->setText(tr("<b>Next-token distribution</b>"));
        readout_->setText(QString());
        chart_->clear(!model ? tr("Open a model to see its next-token distribution.")
                      : !session_->distributionError().isEmpty()
                          ? tr("No distribution: %1").arg(session_->distributionError())
                      : session_->analyzing() ? tr("Analyzing…")
                                              : tr("Type a prompt."));
        return;
    }
    const Tokenizer& tok = *model->tokenizer;
    const auto& ids = session_->trace()->ids;
    const int pos = session_->position();
    const int n = top_n_->value();
    const SamplingSettings& s = session_->sampling();
    chart_->show(*d, tok, n, cumulativeSeenByTopP(n), s.top_p);

    title_->setText(tr("<b>Next token after position %1</b> <code>%2</code> &nbsp;·&nbsp; top %3 "
                       "of %4")
                        .arg(pos)
                        .arg(token_display(tok, ids[static_cast<size_t>(pos)]).toHtmlEscaped())
                        .arg(std::min(n, model->config.vocab_size))
                        .arg(model->config.vocab_size));

    QString text =
        tr("entropy <b>%1</b> → <b>%2</b> bits &nbsp;·&nbsp; kept <b>%3</b> of %4 tokens")
            .arg(d->entropy_raw_bits, 0, 'f', 3)
            .arg(d->entropy_final_bits, 0, 'f', 3)
            .arg(d->kept)
            .arg(model->config.vocab_size);
    if (s.temperature == 0.0f) text += tr(" (greedy)");
    if (pos + 1 < static_cast<int>(ids.size())) {
        const int next = ids[static_cast<size_t>(pos) + 1];
        int rank = 0;
        while (d->ranked[static_cast<size_t>(rank)] != next) rank++;
        text += tr("<br>actual next token <code>%1</code> (id %2, rank %3): raw p <b>%4</b>, final "
                   "p <b>%5</b>")
                    .arg(token_display(tok, next).toHtmlEscaped())
                    .arg(next)
                    .arg(rank + 1)
                    .arg(d->p_raw[next], 0, 'g', 4)
                    .arg(d->p_final[next], 0, 'g', 4);
    }
    readout_->setText(text);
}

bool DistributionView::exportCsv(const QString& path) const {
    const Distribution* d = session_->distribution();
    const float* logits = session_->logitsAt(session_->position());
    if (!d || !logits) return false;
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
    const Tokenizer& tok = *session_->model()->tokenizer;
    QTextStream out(&file);
    out << "rank,id,token,piece,logit,p_raw,p_final,removed_by\n";
    for (size_t r = 0; r < d->ranked.size(); r++) {
        const int id = d->ranked[r];
        const char* why = removed_by_name(d->removed_by[id]);
        out << r + 1 << ',' << id << ',' << csv_quote(token_display(tok, id)) << ','
            << csv_quote(QString::fromStdString(tok.piece(id))) << ','
            << QString::number(logits[id], 'g', 9) << ',' << QString::number(d->p_raw[id], 'g', 9)
            << ',' << QString::number(d->p_final[id], 'g', 9) << ',' << (why ? why : "") << '\n';
    }
    return out.status() == QTextStream::Ok;
}

void DistributionView::exportDialog() {
    export_dialog(this, "distribution", chart_,
                  [this](const QString& path) { return exportCsv(path); });
}

}  // namespace ps
