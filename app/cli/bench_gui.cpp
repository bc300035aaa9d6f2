#include "app/cli/bench_gui.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QTimer>
#include <algorithm>
#include <vector>

#include "app/gui/main_window.h"
#include "app/session/session.h"
#include "core/error.h"

namespace ps::cli {

namespace {

// Runs the event loop until `signal` of `sender` fires or `ms` pass; false on time-out.
template <class Signal>
bool wait_for(const Session* sender, Signal signal, int ms) {
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    QObject::connect(&timer, &QTimer::timeout, &loop, [&] { loop.exit(1); });
    QObject::connect(sender, signal, &loop, [&] { loop.exit(0); });
    timer.start(ms);
    return loop.exec() == 0;
}

nlohmann::json figure(std::vector<double> ms) {
    std::sort(ms.begin(), ms.end());
    return {{"median", ms[ms.size() / 2]}, {"min", ms.front()}, {"max", ms.back()}};
}

}  // namespace

nlohmann::json bench_gui(const std::string& model_path, const std::string& prompt, int repeats) {
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM")) qputenv("QT_QPA_PLATFORM", "offscreen");
    static int argc = 1;
    static char name[] = "paramscope-bench";
    static char* argv[] = {name, nullptr};
    QApplication app(argc, argv);
    Session session;
    MainWindow window(&session);
    window.resize(1400, 900);
    window.show();
    session.openModel(QString::fromStdString(model_path));
    if (!wait_for(&session, &Session::modelChanged, 60000))
        throw Error("bench --gui: could not open " + model_path);
    session.setPrompt(QString::fromStdString(prompt));
    session.analyzeNow();
    if (!wait_for(&session, &Session::analysisReady, 60000) ||
        !wait_for(&session, &Session::layerAnalysisReady, 60000))
        throw Error("bench --gui: the first analysis did not finish");
    QCoreApplication::processEvents();
    window.repaint();

    // A sampling slider step: the distribution is recomputed on the GUI thread and the chart
    // repainted, synchronously.
    QWidget* chart = window.view("distribution");
    if (!chart) throw Error("bench --gui: the main window has no distribution view");
    std::vector<double> slider, keystroke;
    for (int r = 0; r < repeats; ++r) {
        QElapsedTimer timer;
        timer.start();
        SamplingSettings s = session.sampling();
        s.temperature = r % 2 ? 0.7f : 1.1f;
        session.setSampling(s);
        QCoreApplication::processEvents();
        chart->repaint();
        slider.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
    }
    // A keystroke: re-tokenize, run the analysis on the worker, hand it back, repaint every
    // visible view. The debounce that waits for typing to pause is reported on its own.
    const QString base = session.prompt();
    for (int r = 0; r < repeats; ++r) {
        QElapsedTimer timer;
        timer.start();
        session.setPrompt(base + (r % 2 ? " a" : " b"));
        session.analyzeNow();
        if (!wait_for(&session, &Session::analysisReady, 60000) ||
            !wait_for(&session, &Session::layerAnalysisReady, 60000))
            throw Error("bench --gui: an analysis did not finish");
        QCoreApplication::processEvents();
        window.repaint();
        keystroke.push_back(static_cast<double>(timer.nsecsElapsed()) / 1e6);
    }
    nlohmann::json j;
    j["gui_model"] = model_path;
    j["slider"] = figure(slider);
    j["slider_ms"] = j["slider"]["median"];
    j["keystroke"] = figure(keystroke);
    j["keystroke_ms"] = j["keystroke"]["median"];
    j["debounce_ms"] = session.debounceMs();
    return j;
}

}  // namespace ps::cli
