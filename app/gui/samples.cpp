#include "app/gui/samples.h"

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

namespace ps {

QString samples_dir() {
    QStringList candidates;
    if (qEnvironmentVariableIsSet("PARAMSCOPE_SAMPLES"))
        candidates << qEnvironmentVariable("PARAMSCOPE_SAMPLES");
    if (QCoreApplication::instance())
        candidates << QCoreApplication::applicationDirPath() + "/../share/paramscope/sample_models";
    candidates << QStringLiteral(PARAMSCOPE_SOURCE_SAMPLES);
    for (const QString& dir : candidates)
        if (QFileInfo(dir).isDir()) return QDir(dir).absolutePath();
    return {};
}

namespace {

// What a sample directory opens: itself when it is a Hugging Face directory (config.json),
// else its one checkpoint (a .gguf, or a llama2.c .bin that is not its tokenizer).
QString sample_model(const QString& dir) {
    if (QFileInfo::exists(dir + "/config.json")) return dir;
    QStringList models;
    for (const QFileInfo& f : QDir(dir).entryInfoList({"*.gguf", "*.bin"}, QDir::Files, QDir::Name))
        if (!f.fileName().startsWith("tok")) models << f.absoluteFilePath();
    return models.size() == 1 ? models.first() : QString();
}

}  // namespace

QStringList sample_names() {
    const QString dir = samples_dir();
    if (dir.isEmpty()) return {};
    QStringList names;
    for (const QString& name : QDir(dir).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
        if (!sample_model(dir + "/" + name).isEmpty()) names << name;
    return names;
}

QString sample_path(const QString& name) {
    const QString dir = samples_dir() + "/" + name;
    const QString model = sample_model(dir);
    return model.isEmpty() ? dir : model;
}

QString default_sample() {
    return sample_names().contains("stories") ? sample_path("stories") : QString();
}

}  // namespace ps
