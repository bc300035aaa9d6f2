#include "views/distribution/sampling_controls.h"

#include <QComboBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QVBoxLayout>

#include "app/session/session.h"
#include "views/widgets/slider_spin.h"

namespace ps {

SamplingControls::SamplingControls(Session* session, QWidget* parent)
    : QWidget(parent), session_(session) {
    setObjectName("samplingControls");
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
    temperature_->spinBox()->setToolTip(tr("0 = greedy: all probability on the most likely token"));
    top_k_->spinBox()->setToolTip(tr("keep the k most probable tokens (0 = off)"));
    top_p_->spinBox()->setToolTip(
        tr("keep the smallest set of most probable tokens whose probability reaches p (1 = off)"));
    min_p_->spinBox()->setToolTip(tr("keep tokens with p ≥ min-p × the top probability (0 = off)"));

    order_ = new QComboBox(this);
    order_->setObjectName("order");
    order_->addItem(tr("Hugging Face"), static_cast<int>(SamplingOrder::HuggingFace));
    order_->addItem(tr("llama.cpp"), static_cast<int>(SamplingOrder::LlamaCpp));
    order_text_ = new QLabel(this);
    order_text_->setWordWrap(true);
    order_text_->setObjectName("orderText");
    order_text_->setWordWrap(true);

    seed_ = new QSpinBox(this);
    seed_->setObjectName("seed");
    seed_->setRange(0, 2147483647);
    seed_->setToolTip(tr("random seed: the same seed and clicks give the same tokens"));
    steps_ = new QSpinBox(this);
    steps_->setRange(1, 4096);
    steps_->setValue(20);
    sample_ = new QPushButton(tr("Sample"), this);
    greedy_ = new QPushButton(tr("Greedy"), this);
    generate_ = new QPushButton(tr("Generate"), this);
    sample_->setToolTip(tr("append a token drawn from the final distribution"));
    greedy_->setToolTip(tr("append the most probable token"));
    generate_->setToolTip(tr("continue the prompt with the current settings"));

    auto* sliders = new QVBoxLayout;
    for (SliderSpin* s : {temperature_, top_k_, top_p_, min_p_}) sliders->addWidget(s);
    auto* order_row = new QHBoxLayout;
    order_row->addWidget(new QLabel(tr("order"), this));
    order_row->addWidget(order_);
    order_row->addWidget(order_text_, 1);
    sliders->addLayout(order_row);
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(new QLabel(tr("seed"), this));
    buttons->addWidget(seed_);
    buttons->addWidget(sample_);
    buttons->addWidget(greedy_);
    buttons->addSpacing(8);
    buttons->addWidget(generate_);
    buttons->addWidget(steps_);
    buttons->addWidget(new QLabel(tr("tokens"), this));
    buttons->addStretch(1);
    sliders->addLayout(buttons);
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    layout->addLayout(sliders);

    for (SliderSpin* s : {temperature_, top_k_, top_p_, min_p_})
        connect(s, &SliderSpin::valueChanged, this, &SamplingControls::pushToSession);
    connect(order_, &QComboBox::currentIndexChanged, this, &SamplingControls::pushToSession);
    connect(seed_, &QSpinBox::valueChanged, this, [this](int v) {
        if (static_cast<uint64_t>(v) != session_->seed())
            session_->setSeed(static_cast<uint64_t>(v));
    });
    connect(sample_, &QPushButton::clicked, session_, &Session::sampleNext);
    connect(greedy_, &QPushButton::clicked, session_, &Session::greedyNext);
    connect(generate_, &QPushButton::clicked, this,
            [this] { session_->generate(steps_->value()); });

    connect(session_, &Session::samplingChanged, this, &SamplingControls::pullFromSession);
    connect(session_, &Session::seedChanged, this, &SamplingControls::pullFromSession);
    connect(session_, &Session::modelChanged, this, [this] {
        if (session_->model()) top_k_->setMaximum(session_->model()->config.vocab_size);
        updateButtons();
    });
    connect(session_, &Session::busyChanged, this, &SamplingControls::updateButtons);
    connect(session_, &Session::analysisReady, this, &SamplingControls::updateButtons);
    connect(session_, &Session::promptChanged, this, &SamplingControls::updateButtons);
    if (session_->model()) top_k_->setMaximum(session_->model()->config.vocab_size);
    pullFromSession();
    updateButtons();
}

void SamplingControls::pushToSession() {
    SamplingSettings s;
    s.temperature = static_cast<float>(temperature_->value());
    s.top_k = static_cast<int>(top_k_->value());
    s.top_p = static_cast<float>(top_p_->value());
    s.min_p = static_cast<float>(min_p_->value());
    s.order = static_cast<SamplingOrder>(order_->currentData().toInt());
    session_->setSampling(s);
}

void SamplingControls::pullFromSession() {
    const SamplingSettings& s = session_->sampling();
    {
        const QSignalBlocker b1(temperature_), b2(top_k_), b3(top_p_), b4(min_p_), b5(order_),
            b6(seed_);
        temperature_->setValue(s.temperature);
        top_k_->setValue(s.top_k);
        top_p_->setValue(s.top_p);
        min_p_->setValue(s.min_p);
        order_->setCurrentIndex(s.order == SamplingOrder::HuggingFace ? 0 : 1);
        seed_->setValue(static_cast<int>(session_->seed() & 0x7fffffff));
    }
    order_text_->setText(s.order == SamplingOrder::HuggingFace
                             ? tr("temperature → top-k → top-p → min-p: the filters see the "
                                  "tempered probabilities")
                             : tr("top-k → top-p → min-p → temperature: the filters see the "
                                  "un-tempered probabilities"));
}

void SamplingControls::updateButtons() {
    const bool ready = session_->model() && session_->trace() && !session_->analyzing() &&
                       session_->trace()->ids == session_->tokens();
    sample_->setEnabled(ready);
    greedy_->setEnabled(ready);
    generate_->setEnabled(session_->model() && !session_->tokens().empty());
}

}  // namespace ps
