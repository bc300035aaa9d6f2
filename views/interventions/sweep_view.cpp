// The scale sweep of one component (views/interventions/sweep_view.h).
#include "views/interventions/sweep_view.h"

#include "views/widgets/custom_plot.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

#include "app/session/session.h"
#include "views/widgets/intervention_menu.h"
#include "views/widgets/theme.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

Intervention unit_of(Hook hook, int layer, int unit) {
    Intervention iv;
    iv.hook = hook;
    iv.layer = layer;
    iv.unit = unit;
    return iv;
}

// Distinguishable line colours (ColorBrewer's Dark2), one per followed token.
QColor line_color(size_t i) {
    static const QColor colors[] = {{27, 158, 119}, {217, 95, 2},   {117, 112, 179},
                                    {231, 41, 138}, {102, 166, 30}, {166, 118, 29}};
    return colors[i % std::size(colors)];
}

}  // namespace

SweepView::SweepView(Session* session, QWidget* parent) : QWidget(parent), session_(session) {
    auto* layout = new QVBoxLayout(this);
    auto* row = new QHBoxLayout;
    head_ = new QPushButton;
    head_->setObjectName("sweep-head");
    neuron_ = new QPushButton;
    neuron_->setObjectName("sweep-neuron");
    steps_ = new QSpinBox;
    steps_->setRange(3, 41);
    steps_->setValue(9);
    steps_->setSuffix(tr(" steps"));
    steps_->setToolTip(tr("How many factors from 0 to 2"));
    cancel_ = new QPushButton(tr("Cancel"));
    progress_ = new QProgressBar;
    row->addWidget(head_);
    row->addWidget(neuron_);
    row->addWidget(steps_);
    row->addWidget(progress_, 1);
    row->addWidget(cancel_);
    layout->addLayout(row);
    title_ = new QLabel;
    title_->setWordWrap(true);
    title_->setTextFormat(Qt::RichText);
    layout->addWidget(title_);
    plot_ = new QCustomPlot;
    plot_->xAxis->setLabel(tr("scale factor (0 = silenced, 1 = as trained, 2 = doubled)"));
    plot_->yAxis->setLabel(tr("probability of the next token"));
    plot_->legend->setVisible(true);
    // The lines start low on the left more often than they end there.
    plot_->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignLeft);
    Appearance::instance().watch(plot_);
    keep_height_with_text(plot_, 160, 600);
    layout->addWidget(plot_, 1);

    auto sweep = [this](Hook hook, int unit) {
        session_->computeSweep(unit_of(hook, session_->layer(), unit), {}, steps_->value());
    };
    connect(head_, &QPushButton::clicked, this,
            [this, sweep] { sweep(Hook::AttnZ, session_->head()); });
    connect(neuron_, &QPushButton::clicked, this,
            [this, sweep] { sweep(Hook::MlpPost, session_->neuron()); });
    connect(cancel_, &QPushButton::clicked, session_, &Session::cancelSweep);
    connect(session_, &Session::sweepReady, this, &SweepView::refresh);
    connect(session_, &Session::selectionChanged, this, &SweepView::refreshButtons);
    connect(session_, &Session::modelChanged, this, &SweepView::refresh);
    connect(session_, &Session::sweepProgress, this, [this](int done, int total) {
        progress_->setRange(0, total);
        progress_->setValue(done);
    });
    refresh();
}

void SweepView::refreshButtons() {
    const bool ready = session_->model() && !session_->sweepRunning();
    head_->setText(tr("Sweep %1").arg(unit_name(Hook::AttnZ, session_->layer(), session_->head())));
    neuron_->setText(
        tr("Sweep %1").arg(unit_name(Hook::MlpPost, session_->layer(), session_->neuron())));
    head_->setEnabled(ready);
    neuron_->setEnabled(ready);
    cancel_->setEnabled(session_->sweepRunning());
    progress_->setVisible(session_->sweepRunning());
}

void SweepView::refresh() {
    refreshButtons();
    plot_->clearGraphs();
    plot_->clearItems();
    const auto& sweep = session_->sweep();
    const auto& component = session_->sweepComponent();
    if (session_->sweepRunning()) progress_->setValue(0);
    if (!sweep || !component || !session_->model()) {
        title_->setText(
            session_->sweepRunning()
                ? tr("Scaling %1 step by step…")
                      .arg(unit_name(component->hook, component->layer, component->unit))
                : tr("Pick a head or a neuron (click it in Attention or Neurons), "
                     "then sweep it: each step is one run of the model."));
        plot_->replot();
        return;
    }
    const Tokenizer& tok = *session_->model()->tokenizer;
    const QString name = component->hook == Hook::AttnZ || component->hook == Hook::MlpPost
                             ? unit_name(component->hook, component->layer, component->unit)
                             : QString::fromStdString(component->describe());
    title_->setText(tr("<b>%1</b> scaled from 0 to 2: the next token's probability at the "
                       "last position, one line per token")
                        .arg(name.toHtmlEscaped()));
    QVector<double> x(sweep->factors.begin(), sweep->factors.end());
    double top = 0;
    for (size_t t = 0; t < sweep->targets.size(); ++t) {
        QCPGraph* g = plot_->addGraph();
        QVector<double> y(sweep->p[t].begin(), sweep->p[t].end());
        for (double v : y) top = std::max(top, v);
        g->setData(x, y, true);
        g->setName(token_display(tok, sweep->targets[t]));
        g->setPen(QPen(line_color(t), 2.5));
        g->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, 6));
    }
    auto* trained = new QCPItemStraightLine(plot_);
    trained->point1->setCoords(1, 0);
    trained->point2->setCoords(1, 1);
    trained->setPen(QPen(QColor(120, 120, 120), 1.5, Qt::DashLine));
    auto* label = new QCPItemText(plot_);
    label->position->setTypeY(QCPItemPosition::ptAxisRectRatio);
    label->position->setCoords(1, 0.02);
    label->setPositionAlignment(Qt::AlignTop | Qt::AlignHCenter);
    label->setText(tr("as trained"));
    label->setColor(QColor(110, 110, 110));
    plot_->xAxis->setRange(x.front() - 0.05, x.back() + 0.05);
    plot_->yAxis->setRange(0, std::max(0.05, top * 1.15));
    plot_->replot();
}

}  // namespace ps
