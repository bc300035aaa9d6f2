#include "views/compare/compare_column.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QToolButton>
#include <QVBoxLayout>
#include <cmath>

#include "core/sampling/compare.h"
#include "views/compare/compare_chart.h"
#include "views/compare/continuation_text.h"
#include "views/widgets/slider_spin.h"

namespace ps {

CompareColumn::CompareColumn(int index, const SamplingSettings& settings, QWidget* parent)
    : QWidget(parent), index_(index) {
    title_ = new QLabel(this);
    title_->setTextFormat(Qt::RichText);
    remove_ = new QToolButton(this);
    remove_->setObjectName("removeColumn");
    remove_->setText(QStringLiteral("✕"));
    remove_->setAutoRaise(true);
    remove_->setToolTip(tr("remove this column"));

    using Scale = SliderSpin::Scale;
    temperature_ = new SliderSpin(tr("temperature"), 0, 2, 2, 0.01, Scale::Linear, this);
    top_k_ = new SliderSpin(tr("top-k"), 0, 50257, 0, 1, Scale::LogWithOff, this);
    top_p_ = new SliderSpin(tr("top-p"), 0, 1, 3, 0.005, Scale::Linear, this);
    min_p_ = new SliderSpin(tr("min-p"), 0, 1, 3, 0.005, Scale::Linear, this);
    temperature_->setObjectName("temperature");
    top_k_->setObjectName("topK");
    top_p_->setObjectName("topP");
    min_p_->setObjectName("minP");
    top_k_->setSpecialValueText(tr("off"));
    min_p_->setSpecialValueText(tr("off"));
    order_ = new QComboBox(this);
    order_->setObjectName("order");
    order_->addItem(tr("Hugging Face order (temperature first)"),
                    static_cast<int>(SamplingOrder::HuggingFace));
    order_->addItem(tr("llama.cpp order (temperature last)"),
                    static_cast<int>(SamplingOrder::LlamaCpp));

    readout_ = new QLabel(this);
    readout_->setObjectName("readout");
    readout_->setTextFormat(Qt::RichText);
    readout_->setWordWrap(true);
    chart_ = new FrequencyChart(this);
    continuation_ = new ContinuationText(this);

    auto* header = new QHBoxLayout;
    header->addWidget(title_, 1);
    header->addWidget(remove_);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    layout->setSpacing(2);
    layout->addLayout(header);
    for (QWidget* w : std::initializer_list<QWidget*>{temperature_, top_k_, top_p_, min_p_, order_})
        layout->addWidget(w);
    layout->addWidget(readout_);
    layout->addWidget(chart_, 1);
    auto* continuation_label =
        new QLabel(tr("<small>continuation: each token filled by its p when drawn; hover for its "
                      "step</small>"),
                   this);
    continuation_label->setTextFormat(Qt::RichText);
    layout->addWidget(continuation_label);
    layout->addWidget(continuation_);

    setSettings(settings);
    updateTitle();
    auto changed = [this] {
        updateTitle();
        if (!applying_) emit settingsChanged();
    };
    for (SliderSpin* s : {temperature_, top_k_, top_p_, min_p_})
        connect(s, &SliderSpin::valueChanged, this, changed);
    connect(order_, &QComboBox::currentIndexChanged, this, changed);
    connect(remove_, &QToolButton::clicked, this, &CompareColumn::removeRequested);
}

void CompareColumn::setIndex(int index) {
    index_ = index;
    updateTitle();
    clear(QString());
}

void CompareColumn::updateTitle() {
    title_->setText(QString("<span style='color:%1; font-size:large'><b>%2</b></span>&nbsp; "
                            "<code>%3</code>")
                        .arg(compare_color(index_).name(), compare_letter(index_),
                             QString::fromStdString(format_settings(settings())).toHtmlEscaped()));
}

SamplingSettings CompareColumn::settings() const {
    SamplingSettings s;
    s.temperature = static_cast<float>(temperature_->value());
    s.top_k = static_cast<int>(top_k_->value());
    s.top_p = static_cast<float>(top_p_->value());
    s.min_p = static_cast<float>(min_p_->value());
    s.order = static_cast<SamplingOrder>(order_->currentData().toInt());
    return s;
}

void CompareColumn::setSettings(const SamplingSettings& s) {
    const SamplingSettings before = settings();
    applying_ = true;
    // The slider only reaches temperature 2; a larger one from the command line still counts.
    if (s.temperature > temperature_->spinBox()->maximum()) temperature_->setMaximum(s.temperature);
    temperature_->setValue(s.temperature);
    top_k_->setValue(s.top_k);
    top_p_->setValue(s.top_p);
    min_p_->setValue(s.min_p);
    order_->setCurrentIndex(s.order == SamplingOrder::HuggingFace ? 0 : 1);
    applying_ = false;
    const SamplingSettings after = settings();
    updateTitle();
    if (format_settings(before) != format_settings(after)) emit settingsChanged();
}

void CompareColumn::setRemovable(bool removable) {
    remove_->setEnabled(removable);
}

void CompareColumn::setVocabularySize(int n) {
    top_k_->setMaximum(n);
}

void CompareColumn::showDistribution(const Distribution& d, const std::vector<int64_t>& counts,
                                     int64_t samples, const Tokenizer& tok, int top_n, double top) {
    entropy_bits_ = d.entropy_final_bits;
    kept_ = d.kept;
    chart_->show(d, counts, samples, tok, top_n, compare_color(index_), top);
    largest_deviation_se_ = 0;
    const int n = std::min(top_n, static_cast<int>(d.ranked.size()));
    for (int r = 0; r < n && samples > 0; r++) {
        const auto id = static_cast<size_t>(d.ranked[static_cast<size_t>(r)]);
        const double se = frequency_standard_error(d.p_final[id], samples);
        const double dev = std::abs(double(counts[id]) / double(samples) - d.p_final[id]);
        if (se > 0) largest_deviation_se_ = std::max(largest_deviation_se_, dev / se);
    }
    readout_->setText(
        tr("kept <b>%1</b> of %2 tokens &nbsp;·&nbsp; entropy <b>%3</b> bits<br><small>bars: "
           "final p &nbsp;·&nbsp; dots: frequency in %4 draws, ±3 SE (largest gap %5 SE)</small>")
            .arg(d.kept)
            .arg(d.ranked.size())
            .arg(d.entropy_final_bits, 0, 'f', 3)
            .arg(samples)
            .arg(largest_deviation_se_, 0, 'f', 1));
}

void CompareColumn::clear(const QString& message) {
    entropy_bits_ = 0;
    kept_ = 0;
    largest_deviation_se_ = 0;
    readout_->setText(QString());
    chart_->clear(message);
}

}  // namespace ps
