// What the GUI tests do around a Session: open a model and wait for it, tell when the analysis
// of the current prompt is done.
#pragma once

#include <QFileInfo>
#include <QSignalSpy>
#include <QString>

#include "app/gui/samples.h"
#include "app/session/session.h"

namespace ps::test {

// Opens `path` and waits up to 20 s for the model to load; false if it did not.
inline bool open_and_wait(Session& s, const QString& path) {
    QSignalSpy changed(&s, &Session::modelChanged);
    s.openModel(path);
    return changed.wait(20000);
}

// Nothing is running and the trace on screen is the current prompt's.
inline bool settled(const Session& s) {
    return s.trace() && s.trace()->ids == s.tokens() && !s.analyzing() && !s.loading();
}

// The bundled language sample.
inline QString stories() {
    return QFileInfo(sample_path("stories")).absoluteFilePath();
}

}  // namespace ps::test
