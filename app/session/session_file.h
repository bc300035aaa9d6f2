// The user's work as a file: a `.paramscope` session is versioned JSON holding the model path,
// the prompt, the sampling settings and seed, the selection (position, layer, head, neuron) and
// the window layout. Written atomically (a temporary file renamed over the old one), so a crash
// mid-write leaves the previous file whole. Reading validates every field; errors are ps::Error
// naming the file and the field.
//
//   {"format": "paramscope-session", "version": 1, "model": "/abs/path", "prompt": "...",
//    "sampling": {"temperature": 1, "top_k": 0, "top_p": 1, "min_p": 0, "order": "hf"},
//    "seed": "42", "selection": {"position": -1, "layer": 0, "head": 0, "neuron": 0},
//    "interventions": [{"spec": "ablate:blocks.1.attn.hook_z:6", "enabled": true}],
//    "layout": {"geometry": "<base64>", "state": "<base64>"}}
//
// "interventions" (optional: files written before it read as none) holds the dials turned, as
// the command line's --intervene specs, weight edits ("weight:...") among them; patches and
// steering, which need their source prompts, are not saved.
//
// The seed is a decimal string: JSON numbers are doubles and a 64-bit seed would lose bits.
#pragma once

#include <QByteArray>
#include <QString>
#include <cstdint>
#include <vector>

#include "core/sampling/sampling.h"

namespace ps {

struct SavedIntervention {
    QString spec;  // as parse_intervention (or parse_weight_edit, for "weight:") reads it
    bool enabled = true;
    bool operator==(const SavedIntervention&) const = default;
};

struct SessionState {
    static constexpr int kVersion = 1;  // files with a newer version are refused

    QString model_path;  // absolute; empty: no model
    QString prompt;
    SamplingSettings sampling;
    uint64_t seed = 42;
    int position = -1;  // -1: follow the last position
    int layer = 0, head = 0, neuron = 0;
    std::vector<SavedIntervention> interventions;
    QByteArray window_geometry;  // QMainWindow::saveGeometry(); empty: leave as is
    QByteArray window_state;     // QMainWindow::saveState(); empty: leave as is

    bool operator==(const SessionState&) const;
};

inline constexpr const char* kSessionSuffix = "paramscope";
// Files larger than this are refused before parsing (a prompt is at most a few megabytes).
inline constexpr qint64 kMaxSessionFileBytes = 64ll << 20;

QByteArray session_to_json(const SessionState& state);
// `source` names the file in errors; a relative model path is resolved against `base_dir`.
SessionState session_from_json(const QByteArray& json, const QString& source,
                               const QString& base_dir);

// Atomic: writes `path`.XXXXXX beside it, then renames it over `path`. Throws ps::Error (the
// previous file untouched) if any step fails.
void write_session_file(const QString& path, const SessionState& state);
SessionState read_session_file(const QString& path);

// Where the app autosaves: <app data>/autosave.paramscope (QStandardPaths::AppDataLocation).
QString autosave_path();

}  // namespace ps
