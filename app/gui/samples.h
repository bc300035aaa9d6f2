// The sample models (sample_models/): the ones the project trains itself, and stories260K, a
// real pretrained llama2.c model. Where they are, which there are, and the one the app opens
// when started without a model.
#pragma once

#include <QString>
#include <QStringList>

namespace ps {

// The sample_models directory: $PARAMSCOPE_SAMPLES, else ../share/paramscope/sample_models
// beside the executable, else the source tree's. Empty if none exists.
QString samples_dir();
// Every sample (a subdirectory with a config.json, or with one .gguf or llama2.c .bin), by name.
QStringList sample_names();
// What opens the sample: its directory (Hugging Face) or its checkpoint file.
QString sample_path(const QString& name);
// The language sample ("stories"); empty if it is not there.
QString default_sample();

}  // namespace ps
