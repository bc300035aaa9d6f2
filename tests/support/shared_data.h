// Access to ../shared test data and to the paramscope binary, for tests.
#pragma once

#include <QFileInfo>
#include <QString>
#include <QStringList>
#include <QtTest>
#include <string>

namespace ps::test {

// Absolute path of `relative` inside ../shared.
inline QString shared_path(const QString& relative) {
    return QStringLiteral(PARAMSCOPE_SHARED_DIR) + "/" + relative;
}

inline bool in_ci() {
    return qEnvironmentVariable("CI") == "true";
}

struct CliResult {
    int exit_code = -1;
    QByteArray out;
    QByteArray err;
};

// Runs the paramscope binary with `args`, waiting up to `timeout_ms`.
CliResult run_cli(const QStringList& args, int timeout_ms = 120000);

}  // namespace ps::test

// Declares `var` as the std::string path of a ../shared file. A missing file fails the test
// in CI (CI=true) and skips it, saying why, elsewhere.
#define PS_REQUIRE_SHARED(var, relative)                                                  \
    const QString var##_q = ps::test::shared_path(relative);                              \
    if (!QFileInfo::exists(var##_q)) {                                                    \
        if (ps::test::in_ci()) QFAIL(qPrintable("missing shared test data: " + var##_q)); \
        QSKIP(qPrintable("shared test data not found: " + var##_q));                      \
    }                                                                                     \
    const std::string var = var##_q.toStdString()
