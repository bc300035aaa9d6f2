// How the app starts where the user left off: the session autosaved on quit is read back and
// shown again, except what the command line sets (a model named on the command line means no
// restore at all; --prompt, the sampling options and the selection options each override the
// restored value). gui_main runs exactly these steps; tests run them on their own window.
//
//   StartState start = <the command line>;
//   if (auto last = read_autosave(autosave_path())) restore_autosave(start, *last);
//   apply_start(session, window, start);
//   window.openModel(start.model);  // the selection applies once it has loaded
#pragma once

#include <QByteArray>
#include <QString>
#include <cstdint>
#include <optional>
#include <vector>

#include "app/session/session_file.h"
#include "core/sampling/sampling.h"

namespace ps {

class MainWindow;
class Session;

// What the window starts with. A has_* flag says the value was set (by the command line, or by
// the restore); unset values keep the defaults below.
struct StartState {
    QString model;  // to open; "" lets the app choose (a sample, the last model, a dialog)
    QString prompt;
    bool has_prompt = false;
    SamplingSettings sampling;
    bool has_sampling = false;
    int layer = 0, head = 0, neuron = 0, position = -1;  // the initial selection
    bool has_selection = false;
    std::optional<uint64_t> seed;  // the session's default seed when unset
    QByteArray window_geometry;    // empty: leave the window as it is
    QByteArray window_state;
    // The dials turned and weight edits of the autosaved session, applied when the model they
    // were saved with (interventions_model) is the first one opened.
    std::vector<SavedIntervention> interventions;
    QString interventions_model;
};

// The session autosaved at `path`; nothing when there is none. A file that does not read (cut
// short, damaged, from a newer version) is reported on stderr and ignored: the app starts as on
// a first run.
std::optional<SessionState> read_autosave(const QString& path);

// Fills `start` from the autosaved `last` where the command line left it unset: the model (if
// its file still exists and no model was named), the prompt, the sampling, the selection, the
// interventions (with the autosaved model only), and always the seed and the window layout.
void restore_autosave(StartState& start, const SessionState& last);

// Shows `start` in a fresh session and window before the model opens: the sampling, the seed,
// the layout and (if set) the prompt now; the selection once the next model has loaded.
void apply_start(Session& session, MainWindow& window, const StartState& start);

}  // namespace ps
