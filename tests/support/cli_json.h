// The paramscope binary's JSON output, for tests that compare it with the engine.
#pragma once

#include <QtTest>
#include <nlohmann/json.hpp>

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

}  // namespace ps::test
