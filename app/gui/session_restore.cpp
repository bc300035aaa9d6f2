#include "app/gui/session_restore.h"

#include <QFileInfo>
#include <cstdio>
#include <exception>

#include "app/gui/main_window.h"
#include "app/session/session.h"

namespace ps {

std::optional<SessionState> read_autosave(const QString& path) {
    if (!QFileInfo::exists(path)) return std::nullopt;
    try {
        return read_session_file(path);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "warning: ignoring the autosaved session: %s\n", e.what());
        return std::nullopt;
    }
}

void restore_autosave(StartState& start, const SessionState& last) {
    // A model that was moved or deleted since: the app picks one as on a first run, but the
    // user's prompt and settings still come back.
    if (start.model.isEmpty() && QFileInfo::exists(last.model_path)) start.model = last.model_path;
    if (!start.has_prompt) start.prompt = last.prompt;
    start.has_prompt = true;
    if (!start.has_sampling) start.sampling = last.sampling;
    start.has_sampling = true;
    if (!start.has_selection) {
        start.layer = last.layer;
        start.head = last.head;
        start.neuron = last.neuron;
        start.position = last.position;
    }
    start.has_selection = true;
    if (start.model == last.model_path) {
        start.interventions = last.interventions;
        start.interventions_model = last.model_path;
    }
    start.seed = last.seed;
    start.window_geometry = last.window_geometry;
    start.window_state = last.window_state;
}

void apply_start(Session& session, MainWindow& window, const StartState& start) {
    session.setSampling(start.sampling);
    if (start.seed) session.setSeed(*start.seed);
    if (!start.window_geometry.isEmpty()) window.restoreGeometry(start.window_geometry);
    if (!start.window_state.isEmpty()) window.restoreLayoutState(start.window_state);
    // Opening a model resets the selection, so it applies once the first one has loaded.
    const int layer = start.layer, head = start.head, neuron = start.neuron;
    const int position = start.position;
    QObject::connect(
        &session, &Session::modelChanged, &session,
        [&session, layer, head, neuron, position, saved = start.interventions,
         saved_model = start.interventions_model] {
            session.selectHead(layer, head);
            session.selectNeuron(layer, neuron);
            session.selectPosition(position);
            if (!saved.empty() && session.model() &&
                QString::fromStdString(session.model()->path) == saved_model)
                for (const QString& message : session.restoreInterventions(saved))
                    std::fprintf(stderr, "warning: autosaved session: %s\n",
                                 message.toUtf8().constData());
        },
        Qt::SingleShotConnection);
    if (start.has_prompt) session.setPrompt(start.prompt);
}

}  // namespace ps
