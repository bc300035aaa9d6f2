// The sample models the project trains itself (sample_models/): where they are, which there
// are, and the one the app opens when started without a model.
#pragma once

#include <QString>
#include <QStringList>

namespace ps {

// The sample_models directory: $PARAMSCOPE_SAMPLES, else ../share/paramscope/sample_models
// beside the executable, else the source tree's. Empty if none exists.
QString samples_dir();
// Every sample (a subdirectory with a config.json), by name.
QStringList sample_names();
QString sample_path(const QString& name);
// The language sample ("stories"); empty if it is not there.
QString default_sample();

}  // namespace ps
