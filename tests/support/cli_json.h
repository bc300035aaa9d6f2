// The paramscope binary's JSON output, for tests that compare it with the engine.
#pragma once

#include <QtTest>
#include <nlohmann/json.hpp>
#include <vector>

#include "tests/support/shared_data.h"

namespace ps::test {

// Runs the binary with `args` and parses what it prints; null (with its stderr in the log) when
// it fails.
inline nlohmann::json run_json(const QStringList& args) {
    const CliResult r = run_cli(args);
    if (r.exit_code != 0) qWarning("stderr: %s", r.err.constData());
    if (r.exit_code != 0) return nlohmann::json();
    return nlohmann::json::parse(r.out.toStdString());
}

// A command that must fail, and a part its error must name.
struct CliErrorCase {
    QStringList args;
    const char* expected;
};

// Each case exits with 1 and prints one "error: ..." line that contains its `expected` part.
inline void expect_cli_errors(const std::vector<CliErrorCase>& cases) {
    for (const CliErrorCase& c : cases) {
        const CliResult r = run_cli(c.args);
        QVERIFY2(r.exit_code == 1, qPrintable(c.args.join(' ')));
        QVERIFY2(r.err.startsWith("error: ") && r.err.count('\n') == 1, r.err.constData());
        QVERIFY2(r.err.contains(c.expected), r.err.constData());
    }
}

}  // namespace ps::test
