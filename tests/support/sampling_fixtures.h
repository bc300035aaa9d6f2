// Sampling settings far from the defaults, for tests that save and restore them.
#pragma once

#include <QtTest>

#include "core/sampling/sampling.h"

namespace ps::test {

inline SamplingSettings unusual_sampling() {
    SamplingSettings s;
    s.temperature = 0.6f;
    s.top_k = 12;
    s.top_p = 0.8f;
    s.min_p = 0.02f;
    s.order = SamplingOrder::LlamaCpp;
    return s;
}

// QCOMPARE inside: the calling test fails, and returns once the caller checks
// QTest::currentTestFailed().
inline void compare_sampling(const SamplingSettings& a, const SamplingSettings& b) {
    QCOMPARE(a.temperature, b.temperature);
    QCOMPARE(a.top_k, b.top_k);
    QCOMPARE(a.top_p, b.top_p);
    QCOMPARE(a.min_p, b.min_p);
    QVERIFY(a.order == b.order);
}

}  // namespace ps::test
