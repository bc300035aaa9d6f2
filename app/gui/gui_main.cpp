// `paramscope [MODEL] [--prompt T] [--view NAME] [--size WxH] [--screenshot FILE.png]`
// [--temperature X --top-k K --top-p P --min-p M --order hf|llamacpp] (initial sampling).
// With --screenshot: render the main window (or the one view) offscreen once the analysis of
// the prompt has finished, write the PNG and exit 0 (1 on any error).
#include "app/gui/gui_main.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSettings>
#include <QTimer>
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>

#include "app/gui/main_window.h"
#include "app/gui/presenter.h"
#include "app/gui/samples.h"
#include "app/gui/session_files.h"
#include "app/gui/session_restore.h"
#include "app/session/session.h"
#include "app/session/session_file.h"
#include "core/error.h"
#include "core/model/intervention.h"
#include "core/model/weight_edit.h"
#include "core/sampling/compare.h"
#include "views/compare/compare_view.h"
#include "views/parameters/parameters_view.h"
#include "views/widgets/theme.h"

namespace ps {

namespace {

// The model, prompt, sampling and selection options (StartState: has_* says an option was given;
// it overrides the restored session), and the rest of the command line.
struct GuiOptions : StartState {
    QString view;
    QSize size;
    QString screenshot;
    int compare_step = -1;  // parameters: pin this training snapshot as the comparison
    int walk_step = 1;      // --view walk: the guided walk's step (1 = the first)
    std::vector<SamplingSettings> compare;  // --compare: the comparison view's columns
    Theme theme = Theme::System;
    double font_scale = 1;
    bool f32_weights = false;
    bool chat = false;        // --chat: the prompt wrapped in the model's chat template
    bool lesson = false;      // --lesson: the walk panel with the lesson's eight steps
    bool classroom = false;   // --classroom: the Classroom display preset
    QStringList intervene;    // --intervene SPEC: interventions on the first model opened
    bool importance = false;  // --importance: the head-importance sweep before the screenshot
    QString sweep;            // --sweep UNIT: the Sweep view's sweep before the screenshot
    QString steer_plus, steer_minus, source_text;  // the sources of steer: and patch: specs
};

// `--view walk` shows the whole window with the walk open, as the walk raises other views.
bool whole_window(const QString& view) {
    return view.isEmpty() || view == "walk";
}

int fail_exit(const QString& message) {
    std::fprintf(stderr, "error: %s\n", qPrintable(message));
    return 1;
}

// Parses the command line; on a usage error prints it and returns false.
bool parse(const QApplication& app, GuiOptions& o) {
    QCommandLineParser parser;
    parser.setApplicationDescription("ParamScope: look inside a language model.");
    parser.addHelpOption();
    parser.addPositionalArgument("model", "llama2.c .bin, .gguf, or a Hugging Face directory");
    parser.addOption({"prompt", "Prompt text.", "T"});
    parser.addOption({"chat", "Wrap the prompt as a user message in the model's chat template."});
    parser.addOption(
        {"view", "Only this view in the screenshot (distribution, tokens, prompt).", "NAME"});
    parser.addOption({"size", "Window (or view) size, e.g. 1280x800.", "WxH"});
    parser.addOption(
        {"screenshot", "Render offscreen after the analysis, save PNG, exit.", "FILE"});
    parser.addOption({"temperature", "Initial temperature (0 = greedy).", "X"});
    parser.addOption({"top-k", "Initial top-k (0 = off).", "K"});
    parser.addOption({"top-p", "Initial top-p (1 = off).", "P"});
    parser.addOption({"min-p", "Initial min-p (0 = off).", "M"});
    parser.addOption({"order", "Sampling order: hf or llamacpp.", "ORDER"});
    parser.addOption({"layer", "Initially selected layer (default 0).", "L"});
    parser.addOption({"head", "Initially selected attention head (default 0).", "H"});
    parser.addOption({"compare-step",
                      "Parameters view: compare the trained values with this training step's.",
                      "S"});
    parser.addOption({"neuron", "Initially selected MLP neuron (default 0).", "N"});
    parser.addOption({"compare",
                      "Compare view columns, e.g. \"t=0.5;t=1.5,k=40\" (keys t, k, p, m, order).",
                      "SETTINGS"});
    parser.addOption({"position", "Initially selected token position (default: the last).", "P"});
    parser.addOption({"walk-step", "With --view walk or --lesson: the step (default 1).", "N"});
    parser.addOption({"intervene",
                      "An intervention on the first model (repeatable; as the command line's "
                      "ablate:, mean-ablate:, scale:, patch: and steer: specs).",
                      "SPEC"});
    parser.addOption({"importance", "Runs the Interventions view's head-importance sweep."});
    parser.addOption(
        {"sweep", "Runs the Sweep view on UNIT (blocks.L.attn.hook_z:H, ...).", "UNIT"});
    parser.addOption({"steer-plus", "steer: the prompt whose stream is added.", "T"});
    parser.addOption({"steer-minus", "steer: the prompt whose stream is subtracted.", "T"});
    parser.addOption({"source-text", "patch: the source prompt.", "T"});
    parser.addOption({"lesson", "Opens the lesson: eight steps for a class (View > Lesson)."});
    parser.addOption({"theme", "Theme: system, light (high contrast) or dark.", "NAME"});
    parser.addOption({"font-scale", "Text size factor (default 1).", "X"});
    parser.addOption({"classroom",
                      "The Classroom display: high contrast, large text, thick lines (then "
                      "--theme and --font-scale, if given, override its parts)."});
    parser.addOption({"f32-weights",
                      "Widen F16/BF16/quantized weights to f32 at load (4 bytes "
                      "per parameter) instead of keeping them as stored."});
    parser.process(app);
    auto number = [&](const char* name, double fallback, double lo, double hi, double* out) {
        if (!parser.isSet(name)) {
            *out = fallback;
            return true;
        }
        bool ok = false;
        *out = parser.value(name).toDouble(&ok);
        if (ok && *out >= lo && *out <= hi) return true;
        std::fprintf(stderr, "error: --%s must be a number in [%g, %g], got '%s'\n", name, lo, hi,
                     qPrintable(parser.value(name)));
        return false;
    };
    double t, k, p, m;
    if (!number("temperature", 1, 0, 100, &t) || !number("top-k", 0, 0, 1e9, &k) ||
        !number("top-p", 1, 0, 1, &p) || !number("min-p", 0, 0, 1, &m))
        return false;
    o.sampling.temperature = static_cast<float>(t);
    o.sampling.top_k = static_cast<int>(k);
    o.sampling.top_p = static_cast<float>(p);
    o.sampling.min_p = static_cast<float>(m);
    if (parser.isSet("order") &&
        !parse_sampling_order(qPrintable(parser.value("order")), &o.sampling.order)) {
        std::fprintf(stderr, "error: --order must be 'hf' or 'llamacpp'\n");
        return false;
    }
    o.model = parser.positionalArguments().value(0);
    o.has_prompt = parser.isSet("prompt");
    auto any_set = [&](std::initializer_list<const char*> names) {
        return std::any_of(names.begin(), names.end(),
                           [&](const char* n) { return parser.isSet(n); });
    };
    o.has_sampling = any_set({"temperature", "top-k", "top-p", "min-p", "order"});
    o.has_selection = any_set({"layer", "head", "neuron", "position"});
    o.prompt = parser.value("prompt");
    o.view = parser.value("view");
    o.lesson = parser.isSet("lesson");
    o.intervene = parser.values("intervene");
    o.importance = parser.isSet("importance");
    o.sweep = parser.value("sweep");
    o.steer_plus = parser.value("steer-plus");
    o.steer_minus = parser.value("steer-minus");
    o.source_text = parser.value("source-text");
    o.classroom = parser.isSet("classroom");
    if (o.lesson && !o.view.isEmpty() && o.view != "walk") {
        std::fprintf(stderr, "error: --lesson shows the whole window; it takes no --view %s\n",
                     qPrintable(o.view));
        return false;
    }
    if (o.lesson) o.view = "walk";
    double layer, head, neuron, position, compare_step;
    if (!number("layer", 0, 0, 10000, &layer) || !number("head", 0, 0, 10000, &head) ||
        !number("neuron", 0, 0, 1e6, &neuron) ||
        !number("compare-step", -1, -1, 1e9, &compare_step) ||
        !number("position", -1, -1, 1e6, &position))
        return false;
    o.layer = static_cast<int>(layer);
    o.head = static_cast<int>(head);
    o.neuron = static_cast<int>(neuron);
    o.compare_step = static_cast<int>(compare_step);
    o.position = static_cast<int>(position);
    double walk_step, font_scale;
    if (!number("walk-step", 1, 1, 10000, &walk_step) ||
        !number("font-scale", 1, Appearance::kMinScale, Appearance::kMaxScale, &font_scale))
        return false;
    o.walk_step = static_cast<int>(walk_step);
    o.font_scale = font_scale;
    if (parser.isSet("theme") && !parse_theme(parser.value("theme"), &o.theme)) {
        std::fprintf(stderr, "error: --theme must be system, light or dark\n");
        return false;
    }
    if (parser.isSet("compare")) {
        try {
            o.compare = parse_settings_list(parser.value("compare").toStdString());
        } catch (const std::exception& e) {
            std::fprintf(stderr, "error: --compare: %s\n", e.what());
            return false;
        }
    }
    o.screenshot = parser.value("screenshot");
    o.f32_weights = parser.isSet("f32-weights");
    o.chat = parser.isSet("chat");
    if (parser.isSet("size")) {
        const auto m = QRegularExpression("^(\\d+)x(\\d+)$").match(parser.value("size"));
        if (!m.hasMatch() || m.captured(1).toInt() < 100 || m.captured(2).toInt() < 100 ||
            m.captured(1).toInt() > 8000 || m.captured(2).toInt() > 8000) {
            std::fprintf(stderr, "error: --size must be WxH, each 100..8000, got '%s'\n",
                         qPrintable(parser.value("size")));
            return false;
        }
        o.size = QSize(m.captured(1).toInt(), m.captured(2).toInt());
    }
    return true;
}

bool wants_screenshot(int argc, char** argv) {
    for (int i = 1; i < argc; i++)
        if (std::strcmp(argv[i], "--screenshot") == 0 ||
            std::strncmp(argv[i], "--screenshot=", 13) == 0)
            return true;
    return false;
}

// Renders `target` once the session's analysis matches its prompt, then quits.
void arm_screenshot(Session& session, MainWindow& window, const GuiOptions& o, int& exit_code) {
    auto done = std::make_shared<bool>(false);
    auto finish = [&exit_code, done](int code, const QString& message) {
        if (*done) return;
        *done = true;
        if (!message.isEmpty()) std::fprintf(stderr, "%s\n", qPrintable(message));
        exit_code = code;
        QCoreApplication::exit(code);
    };
    QObject::connect(&session, &Session::modelLoadFailed, &window,
                     [finish](const QString& path, const QString& msg) {
                         finish(1, "error: could not open " + path + ": " + msg);
                     });
    // An error after the pass has produced the prompt's trace (a NaN distribution, a failed
    // layer analysis) is part of what the window shows, as in the interactive app: warn and go on
    // to the screenshot. Before that, there is nothing to show.
    QObject::connect(&session, &Session::error, &window, [&session, finish](const QString& msg) {
        if (session.trace() && session.trace()->ids == session.tokens())
            return (void)std::fprintf(stderr, "warning: %s\n", qPrintable(msg));
        finish(1, "error: " + msg);
    });
    QObject::connect(&session, &Session::analysisReady, &window, [&session, &window, o, finish] {
        if (session.promptTooLong())  // never analyzed: the GUI would ask what to cut
            return finish(1, QString("error: the prompt is %1 tokens; the model reads at most %2")
                                 .arg(session.tokens().size())
                                 .arg(session.contextLength()));
        if (!session.trace() || session.trace()->ids != session.tokens()) return;
        // Let layouts and the chart settle for one turn of the event loop, and what runs on the
        // worker after the analysis (the layer analysis, the comparison's continuations) finish.
        auto* wait = new QTimer(&window);
        wait->start(50);
        QObject::connect(wait, &QTimer::timeout, &window, [&session, &window, o, finish, wait] {
            if (session.analyzing() || session.importanceRunning() || session.sweepRunning() ||
                session.preparingIntervention())
                return;
            if (o.importance && !wait->property("swept").toBool()) {
                wait->setProperty("swept", true);
                session.computeImportance();
                return;
            }
            if (!o.sweep.isEmpty() && !wait->property("scaled").toBool()) {
                wait->setProperty("scaled", true);
                try {
                    session.computeSweep(parse_intervention("ablate:" + o.sweep.toStdString(),
                                                            session.model()->config));
                } catch (const std::exception& e) {
                    return finish(1, QString("error: --sweep: ") + e.what());
                }
                return;
            }
            // A lesson step shows fewer views than the window had at start: it takes the asked
            // size again, laid out on the next turn.
            if (o.lesson && o.size.isValid() && window.size() != o.size &&
                !wait->property("resized").toBool()) {
                wait->setProperty("resized", true);
                window.resize(o.size);
                return;
            }
            wait->deleteLater();
            QWidget* target = whole_window(o.view) ? &window : window.view(o.view);
            const QPixmap shot = target->grab();
            if (!shot.save(o.screenshot))
                return finish(1, "error: could not write " + o.screenshot);
            std::printf("%s\n", qPrintable(QFileInfo(o.screenshot).absoluteFilePath()));
            finish(0, QString());
        });
    });
    QTimer::singleShot(300000, &window,
                       [finish] { finish(1, "error: timed out waiting for the analysis"); });
}

}  // namespace

int run_gui(int argc, char** argv) {
    const bool screenshot = wants_screenshot(argc, argv);
    if (screenshot && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    QCoreApplication::setOrganizationName("ParamScope");
    QCoreApplication::setApplicationName("ParamScope");
    GuiOptions o;
    if (!parse(app, o)) return 1;

    QSettings settings;
    // No model named: the last session (autosaved on quit), except in screenshot runs, which
    // must not depend on what the user did. --prompt, sampling and selection options override it.
    const bool model_named = !o.model.isEmpty();
    if (!model_named && !screenshot)
        if (const auto last = read_autosave(autosave_path())) restore_autosave(o, *last);
    QString model = o.model;
    // No model named: the language sample, else the last model used (else a dialog, below).
    if (model.isEmpty()) model = default_sample();
    if (model.isEmpty()) model = settings.value("lastModel").toString();
    if (screenshot && model.isEmpty()) return fail_exit("--screenshot needs a MODEL");
    if (model_named && !QFileInfo::exists(o.model) && !o.model.startsWith("random:"))
        return fail_exit(o.model + ": no such file or directory");

    Session session;
    MainWindow window(&session);
    if (!o.view.isEmpty() && !window.view(o.view))
        return fail_exit("unknown view '" + o.view + "'; views: " + window.viewNames().join(", "));
    session.setF32Weights(o.f32_weights);
    apply_start(session, window, o);  // the selection once the first model has loaded
    if (auto* compare = qobject_cast<CompareView*>(window.view("compare"));
        compare && !o.compare.empty())
        compare->setColumnSettings(o.compare);
    if (!screenshot) window.sessionFiles()->setAutosavePath(autosave_path());
    if (o.classroom) Appearance::instance().setClassroom(true);
    if (o.theme != Theme::System) Appearance::instance().setTheme(o.theme);
    if (o.font_scale != 1) Appearance::instance().setFontScale(o.font_scale);
    // The comparison step and the walk apply to the first model opened.
    QObject::connect(
        &session, &Session::modelChanged, &session,
        [&window, &session, o] {
            for (const QString& spec : o.intervene) try {
                    if (is_weight_edit(spec.toStdString())) {
                        session.addWeightEdit(
                            parse_weight_edit(spec.toStdString(), *session.model()));
                        continue;
                    }
                    Intervention iv =
                        parse_intervention(spec.toStdString(), session.model()->config);
                    if (iv.action == Intervention::Action::Patch) {
                        if (o.source_text.isEmpty())
                            throw Error("--intervene '" + spec.toStdString() +
                                        "': a patch needs --source-text T");
                        session.addPatch(iv, o.source_text);
                    } else if (iv.action == Intervention::Action::Steer) {
                        if (o.steer_plus.isEmpty() || o.steer_minus.isEmpty())
                            throw Error("--intervene '" + spec.toStdString() +
                                        "': steering needs --steer-plus T and --steer-minus T");
                        session.addSteering(iv, o.steer_plus, o.steer_minus);
                    } else {
                        session.addIntervention(iv);
                    }
                } catch (const std::exception& e) {
                    std::fprintf(stderr, "error: %s\n", e.what());
                    QCoreApplication::exit(1);
                    return;
                }
            if (o.compare_step >= 0)
                if (auto* params = qobject_cast<ParametersView*>(window.view("parameters"))) {
                    const auto& steps = params->history().steps;
                    const auto it = std::find(steps.begin(), steps.end(), o.compare_step);
                    if (it != steps.end()) {
                        params->showStep(static_cast<int>(it - steps.begin()));
                        params->pinComparison();
                        params->showStep(-1);
                    }
                }
            if (o.lesson)
                window.presenter()->startLesson(o.walk_step - 1);
            else if (o.view == "walk")
                window.presenter()->startWalk(o.walk_step - 1);
        },
        Qt::SingleShotConnection);
    if (!o.has_prompt)
        session.setPrompt(
            settings
                .value("prompt",
                       "Once upon a time, there was a little girl named Lily. She went to the")
                .toString());

    session.setChatMode(o.chat);

    int exit_code = 0;
    std::unique_ptr<QWidget> detached;
    if (screenshot) {
        window.resetLayout();  // reproducible images, whatever layout the user saved
        // A view alone is rendered as its own window, at --size.
        if (!whole_window(o.view)) {
            detached.reset(window.view(o.view));
            detached->setParent(nullptr);
            detached->resize(o.size.isValid() ? o.size : QSize(1000, 600));
            detached->show();
        } else {
            window.resize(o.size.isValid() ? o.size : QSize(1280, 860));
            window.show();
        }
        arm_screenshot(session, window, o, exit_code);
    } else {
        if (o.size.isValid()) window.resize(o.size);
        window.show();
    }

    if (!model.isEmpty())
        window.openModel(model);
    else
        QTimer::singleShot(0, &window, &MainWindow::openDialog);
    const int rc = app.exec();
    return screenshot ? exit_code : rc;
}

}  // namespace ps
