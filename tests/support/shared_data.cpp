#include "tests/support/shared_data.h"

#include <QProcess>

namespace ps::test {

CliResult run_cli(const QStringList& args, int timeout_ms) {
    QProcess process;
    process.start(QStringLiteral(PARAMSCOPE_BINARY), args);
    CliResult result;
    if (!process.waitForFinished(timeout_ms)) {
        process.kill();
        process.waitForFinished();
        result.err = "timed out";
        return result;
    }
    result.exit_code = process.exitStatus() == QProcess::NormalExit ? process.exitCode() : -1;
    result.out = process.readAllStandardOutput();
    result.err = process.readAllStandardError();
    return result;
}

}  // namespace ps::test
