// The value axis of the probability charts (distribution, comparison): linear from 0, or
// logarithmic down to the smallest bar shown.
#pragma once

#include "views/widgets/custom_plot.h"

#include <algorithm>

namespace ps {

inline void set_probability_scale(QCPAxis* axis, bool log) {
    axis->setScaleType(log ? QCPAxis::stLogarithmic : QCPAxis::stLinear);
    axis->setTicker(log ? QSharedPointer<QCPAxisTicker>(new QCPAxisTickerLog)
                        : QSharedPointer<QCPAxisTicker>(new QCPAxisTicker));
    axis->setNumberFormat(log ? "eb" : "gb");
    axis->setNumberPrecision(log ? 0 : 2);
}

// `bottom` and `top`: the smallest and largest probability drawn.
inline void fit_probability_range(QCPAxis* axis, double bottom, double top) {
    if (axis->scaleType() == QCPAxis::stLogarithmic)
        axis->setRange(std::clamp(bottom / 2, 1e-12, 0.1), std::max(1.0, top * 1.5));
    else
        axis->setRange(0, std::max(0.01, top * 1.08));
}

}  // namespace ps
