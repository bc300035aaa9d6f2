#include "views/compare/compare_view.h"

#include <QCheckBox>
#include <QFile>
#include <QHBoxLayout>
#include <QLabel>
#include <QPointer>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QTextStream>
#include <QTimer>
#include <QVBoxLayout>
#include <exception>

#include "app/session/session.h"
#include "core/sampling/compare.h"
#include "core/tokenizer/tokenizer.h"
#include "views/compare/compare_chart.h"
#include "views/compare/compare_column.h"
#include "views/compare/continuation_text.h"
#include "views/widgets/token_text.h"

namespace ps {

namespace {

SamplingSettings at_temperature(float t) {
    SamplingSettings s;
    s.temperature = t;
    return s;
}

QSpinBox* spin_box(QWidget* parent, const char* name, int lo, int hi, int value,
                   const QString& prefix, const QString& tip) {
    auto* box = new QSpinBox(parent);
    box->setObjectName(name);
    box->setRange(lo, hi);
    box->setValue(value);
    box->setPrefix(prefix);
    box->setToolTip(tip);
    box->setKeyboardTracking(false);
    return box;
}

}  // namespace

CompareView::CompareView(Session* session, QWidget* parent) : QWidget(parent), session_(session) {
    setObjectName("compare");
    title_ = new QLabel(this);
    title_->setTextFormat(Qt::RichText);
    title_->setMinimumWidth(60);
    title_->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    title_->setToolTip(
        tr("every setting is applied to the same logits (same model, prompt and "
           "position); the continuations start there, all with the same seed"));
    top_n_ = spin_box(this, "topN", 1, 100, 12, tr("top "), tr("number of tokens shown"));
    samples_ = spin_box(this, "samples", 1, 1000000, 1000, tr("draws "),
                        tr("simulated draws per setting, compared with the probabilities"));
    samples_->setSingleStep(1000);
    seed_ = spin_box(this, "seed", 0, 2147483647, 42, tr("seed "),
                     tr("random seed of the simulated draws and of every continuation"));
    steps_ = spin_box(this, "steps", 1, 256, 24, tr("generate "), tr("continuation length"));
    steps_->setSuffix(tr(" tokens"));
    log_scale_ = new QCheckBox(tr("log scale"), this);
    log_scale_->setObjectName("logScale");
    add_ = new QPushButton(tr("+ column"), this);
    add_->setObjectName("addColumn");
    add_->setToolTip(tr("compare one more setting (up to %1)").arg(kMaxColumns));
    overlay_ = new CompareOverlayChart(this);
    continuation_timer_ = new QTimer(this);
    continuation_timer_->setSingleShot(true);
    continuation_timer_->setInterval(150);  // a slider drag asks for one run, not fifty

    auto* header = new QHBoxLayout;
    header->addWidget(title_, 1);
    header->addWidget(new ProbabilityScale(this));
    header->addSpacing(8);
    for (QWidget* w :
         std::initializer_list<QWidget*>{log_scale_, top_n_, samples_, seed_, steps_, add_})
        header->addWidget(w);
    auto* columns = new QWidget(this);
    columns_layout_ = new QHBoxLayout(columns);
    columns_layout_->setContentsMargins(0, 0, 0, 0);
    columns_layout_->setSpacing(6);
    // In a scroll area, so a narrow dock scrolls instead of widening the window for the
    // columns' controls.
    auto* content = new QWidget;
    auto* layout = new QVBoxLayout(content);
    layout->setContentsMargins(6, 4, 6, 4);
    layout->addLayout(header);
    // A layout, not a splitter: it gives the columns the height their continuations need.
    layout->addWidget(overlay_, 1);
    layout->addWidget(columns, 2);
    auto* scroll = new QScrollArea(this);
    scroll->setWidget(content);
    scroll->setWidgetResizable(true);
    scroll->setFrameShape(QFrame::NoFrame);
    auto* outer = new QVBoxLayout(this);
    outer->setContentsMargins(0, 0, 0, 0);
    outer->addWidget(scroll);

    for (float t : {0.5f, 1.5f}) {
        columns_.push_back(makeColumn(columnCount(), at_temperature(t)));
        columns_layout_->addWidget(columns_.back(), 1);
    }
    updateColumnButtons();

    connect(add_, &QPushButton::clicked, this, [this] { addColumn(); });
    connect(top_n_, &QSpinBox::valueChanged, this, &CompareView::refresh);
    connect(samples_, &QSpinBox::valueChanged, this, &CompareView::refresh);
    connect(seed_, &QSpinBox::valueChanged, this, [this] {
        refresh();
        scheduleContinuations();
    });
    connect(steps_, &QSpinBox::valueChanged, this, &CompareView::scheduleContinuations);
    connect(log_scale_, &QCheckBox::toggled, this, [this](bool on) {
        overlay_->setLogScale(on);
        refresh();
    });
    connect(continuation_timer_, &QTimer::timeout, this, &CompareView::startContinuations);
    connect(session_, &Session::modelChanged, this, [this] {
        continuations_.clear();
        shown_.reset();
        for (CompareColumn* c : columns_) {
            if (session_->model()) c->setVocabularySize(session_->model()->config.vocab_size);
            c->continuation()->setMessage(QString());
        }
        refresh();
    });
    connect(session_, &Session::distributionChanged, this, &CompareView::refresh);
    // After the session queued what follows its analysis (the layer analysis), so ours does not
    // drop it; and not debounced, so the worker is never idle in between (a screenshot waits
    // for it to be idle).
    connect(session_, &Session::analysisReady, this,
            [this] { QTimer::singleShot(0, this, &CompareView::startContinuations); });
    connect(session_, &Session::selectionChanged, this, &CompareView::scheduleContinuations);
    connect(session_, &Session::busyChanged, this, [this](bool busy) {
        if (busy) return;
        // Our job was superseded by the session's (its result is dropped): ask again.
        if (generating_ && session_->runner().generation() != runner_generation_)
            generating_ = false;
        startContinuations();
    });
    refresh();
}

CompareColumn* CompareView::makeColumn(int index, const SamplingSettings& s) {
    auto* column = new CompareColumn(index, s, this);
    column->setObjectName(QStringLiteral("column%1").arg(compare_letter(index)));
    if (session_->model()) column->setVocabularySize(session_->model()->config.vocab_size);
    column->continuation()->setMessage(tr("No continuation yet."));
    connect(column, &CompareColumn::settingsChanged, this, [this] {
        refresh();
        scheduleContinuations();
    });
    connect(column, &CompareColumn::removeRequested, this, [this, column] {
        const auto it = std::find(columns_.begin(), columns_.end(), column);
        if (it != columns_.end()) removeColumn(static_cast<int>(it - columns_.begin()));
    });
    return column;
}

bool CompareView::addColumn(const SamplingSettings& s) {
    if (columnCount() >= kMaxColumns) return false;
    columns_.push_back(makeColumn(columnCount(), s));
    columns_layout_->addWidget(columns_.back(), 1);
    updateColumnButtons();
    refresh();
    scheduleContinuations();
    return true;
}

bool CompareView::removeColumn(int i) {
    if (columnCount() <= kMinColumns || i < 0 || i >= columnCount()) return false;
    CompareColumn* gone = columns_[static_cast<size_t>(i)];
    columns_.erase(columns_.begin() + i);
    if (static_cast<size_t>(i) < continuations_.size())
        continuations_.erase(continuations_.begin() + i);
    columns_layout_->removeWidget(gone);
    gone->deleteLater();
    for (int j = i; j < columnCount(); j++) {
        columns_[static_cast<size_t>(j)]->setIndex(j);
        columns_[static_cast<size_t>(j)]->setObjectName(
            QStringLiteral("column%1").arg(compare_letter(j)));
    }
    updateColumnButtons();
    refresh();
    scheduleContinuations();
    return true;
}

void CompareView::setColumnSettings(const std::vector<SamplingSettings>& settings) {
    const int wanted = std::clamp(static_cast<int>(settings.size()), kMinColumns, kMaxColumns);
    while (columnCount() > wanted) removeColumn(columnCount() - 1);
    while (columnCount() < wanted) addColumn();
    for (int i = 0; i < wanted && i < static_cast<int>(settings.size()); i++)
        column(i)->setSettings(settings[static_cast<size_t>(i)]);
}

void CompareView::updateColumnButtons() {
    add_->setEnabled(columnCount() < kMaxColumns);
    for (CompareColumn* c : columns_) c->setRemovable(columnCount() > kMinColumns);
}

void CompareView::setSamples(int n) {
    samples_->setValue(n);
}
void CompareView::setSeed(int seed) {
    seed_->setValue(seed);
}
void CompareView::setSteps(int steps) {
    steps_->setValue(steps);
}
void CompareView::setTopN(int n) {
    top_n_->setValue(n);
}
int CompareView::samples() const {
    return samples_->value();
}
int CompareView::seed() const {
    return seed_->value();
}
int CompareView::steps() const {
    return steps_->value();
}

const Distribution* CompareView::distribution(int i) const {
    return i >= 0 && i < static_cast<int>(distributions_.size()) ? &distributions_[size_t(i)]
                                                                 : nullptr;
}

const std::vector<int64_t>& CompareView::sampleCounts(int i) const {
    static const std::vector<int64_t> none;
    return i >= 0 && i < static_cast<int>(counts_.size()) ? counts_[size_t(i)] : none;
}

const Generation* CompareView::continuation(int i) const {
    return i >= 0 && i < static_cast<int>(continuations_.size()) ? &continuations_[size_t(i)]
                                                                 : nullptr;
}

bool CompareView::exportCsv(const QString& path) const {
    if (distributions_.empty() || !session_->model()) return false;
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text)) return false;
    auto quote = [](const QString& s) { return '"' + QString(s).replace('"', "\"\"") + '"'; };
    const Tokenizer& tok = *session_->model()->tokenizer;
    QTextStream out(&file);
    out << "rank,id,token,piece,p_raw";
    for (int i = 0; i < columnCount(); i++) {
        const QString name = compare_letter(i) + " (" +
                             QString::fromStdString(format_settings(column(i)->settings())) + ")";
        for (const char* what : {"p_final", "count", "frequency"})
            out << ',' << quote(name + ' ' + what);
    }
    out << '\n';
    const Distribution& first = distributions_.front();
    const double n = samples_->value();
    for (size_t r = 0; r < first.ranked.size(); r++) {
        const auto id = static_cast<size_t>(first.ranked[r]);
        out << r + 1 << ',' << id << ',' << quote(token_display(tok, int(id))) << ','
            << quote(QString::fromStdString(tok.piece(int(id)))) << ','
            << QString::number(first.p_raw[id], 'g', 9);
        for (size_t c = 0; c < distributions_.size(); c++)
            out << ',' << QString::number(distributions_[c].p_final[id], 'g', 9) << ','
                << counts_[c][id] << ',' << QString::number(double(counts_[c][id]) / n, 'g', 9);
        out << '\n';
    }
    return out.status() == QTextStream::Ok;
}

void CompareView::showEvent(QShowEvent* event) {
    QWidget::showEvent(event);
    if (dirty_) refresh();
    scheduleContinuations();
}

void CompareView::refresh() {
    distributions_.clear();
    counts_.clear();
    if (!isVisible()) {  // hidden behind a tab: catch up when shown
        dirty_ = true;
        return;
    }
    dirty_ = false;
    updateTitle();
    const auto& model = session_->model();
    const float* logits = model ? session_->logitsAt(session_->position()) : nullptr;
    if (!logits) {
        const QString message = !model                  ? tr("Open a model to compare settings.")
                                : session_->analyzing() ? tr("Analyzing…")
                                                        : tr("Type a prompt.");
        overlay_->clear(message);
        for (CompareColumn* c : columns_) c->clear(message);
        return;
    }
    const Tokenizer& tok = *model->tokenizer;
    const int vocab = model->config.vocab_size;
    std::vector<CompareOverlayChart::Series> series;
    try {
        for (CompareColumn* c : columns_) {
            distributions_.push_back(apply_sampling(logits, vocab, c->settings()));
            counts_.push_back(simulate_samples(distributions_.back(), samples_->value(),
                                               static_cast<uint64_t>(seed_->value())));
        }
    } catch (const std::exception& e) {
        distributions_.clear();
        counts_.clear();
        overlay_->clear(QString::fromUtf8(e.what()));
        return;
    }
    // One value scale for every column, so bars side by side compare.
    double top = 0;
    for (int i = 0; i < columnCount(); i++)
        top = std::max(top, FrequencyChart::topValue(distributions_[size_t(i)], counts_[size_t(i)],
                                                     samples_->value(), top_n_->value()));
    for (int i = 0; i < columnCount(); i++) {
        const Distribution& d = distributions_[size_t(i)];
        column(i)->showDistribution(d, counts_[size_t(i)], samples_->value(), tok, top_n_->value(),
                                    top);
        series.push_back({tr("%1 (%2 bits, %3 kept)")
                              .arg(compare_letter(i))
                              .arg(d.entropy_final_bits, 0, 'f', 2)
                              .arg(d.kept),
                          compare_color(i), &d});
    }
    overlay_->show(series, tok, top_n_->value());
}

void CompareView::updateTitle() {
    const auto& trace = session_->trace();
    const int pos = session_->position();
    if (!session_->model() || !trace || pos < 0) {
        title_->setText(tr("<b>Compare sampling settings</b>"));
        return;
    }
    const Tokenizer& tok = *session_->model()->tokenizer;
    title_->setText(tr("<b>Next token after position %1</b> <code>%2</code>")
                        .arg(pos)
                        .arg(token_display(tok, trace->ids[size_t(pos)]).toHtmlEscaped()));
}

CompareView::Request CompareView::currentRequest() const {
    Request r;
    r.trace = session_->trace().get();
    r.position = session_->position();
    for (CompareColumn* c : columns_) r.settings.push_back(format_settings(c->settings()));
    r.seed = static_cast<uint64_t>(seed_->value());
    r.steps = steps_->value();
    return r;
}

void CompareView::scheduleContinuations() {
    if (isVisible()) continuation_timer_->start();
}

void CompareView::startContinuations() {
    const auto model = session_->model();
    const auto trace = session_->trace();
    const int pos = session_->position();
    if (!isVisible() || !model || !trace || pos < 0) return;
    const Request request = currentRequest();
    if (generating_ ? requested_ == request : shown_ == request) return;
    // The session's own analysis goes first: submitting now would drop its result. Ours is
    // asked again when the session's worker is idle (busyChanged) or its analysis lands.
    AnalysisRunner& runner = session_->runner();
    const bool ours = runner.busy() && runner.generation() == runner_generation_;
    if (session_->analyzing() && !ours) return;

    std::vector<int> ids(trace->ids.begin(), trace->ids.begin() + pos + 1);
    std::vector<SamplingSettings> settings;
    for (CompareColumn* c : columns_) {
        settings.push_back(c->settings());
        c->continuation()->setStale(true);
    }
    requested_ = request;
    generating_ = true;
    auto work = [view = QPointer<CompareView>(this), model, ids, settings, request,
                 seed = request.seed, steps = request.steps](
                    const std::atomic<bool>& cancelled) -> AnalysisRunner::Continuation {
        try {
            std::vector<Generation> generations;
            GenerateOptions options;
            options.steps = steps;
            options.top_n = 10;
            options.cancelled = [&cancelled] { return cancelled.load(); };
            for (const SamplingSettings& s : settings) {
                Sampler sampler(seed);  // every column draws from the same random sequence
                generations.push_back(generate_tokens(*model, ids, s, sampler, options));
            }
            return [view, model, generations, ids, request] {
                if (!view || view->requested_ != request) return;
                view->generating_ = false;
                view->continuations_ = generations;
                view->continuation_prompt_ = ids;
                view->shown_ = request;
                const Tokenizer& tok = *model->tokenizer;
                // The last few prompt tokens, for context.
                const std::vector<int> tail(ids.end() - std::min<ptrdiff_t>(4, std::ssize(ids)),
                                            ids.end());
                const QString shown =
                    QChar(0x2026) +
                    QString::fromStdString(tok.decode(tail)).replace('\n', QChar(0x23ce));
                for (int i = 0; i < view->columnCount(); i++)
                    view->column(i)->continuation()->setGeneration(generations[size_t(i)], tok,
                                                                   shown);
                emit view->continuationsReady();
            };
        } catch (const std::exception& e) {
            const QString message = QString::fromUtf8(e.what());
            return [view, message, request] {
                if (!view || view->requested_ != request) return;
                view->generating_ = false;
                view->shown_ = request;
                for (CompareColumn* c : view->columns_) c->continuation()->setMessage(message);
            };
        }
    };
    runner_generation_ = runner.submit(work);
}

}  // namespace ps
