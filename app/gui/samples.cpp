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

QStringList sample_names() {
    const QString dir = samples_dir();
    if (dir.isEmpty()) return {};
    QStringList names;
    for (const QString& name : QDir(dir).entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
        if (QFileInfo::exists(dir + "/" + name + "/config.json")) names << name;
    return names;
}

QString sample_path(const QString& name) {
    return samples_dir() + "/" + name;
}

QString default_sample() {
    return sample_names().contains("stories") ? sample_path("stories") : QString();
}

}  // namespace ps
