#include "views/walk/explanations.h"

#include <QFile>

// Resources compiled into a static library are only linked in when something refers to them,
// so the initializer is called by hand (from the global namespace, as the macro requires).
static void init_explanation_resources() {
    Q_INIT_RESOURCE(explanations);
}

namespace ps {

QStringList concept_topics() {
    return {"tokens",     "embeddings", "weights",     "biases", "neurons", "layers", "attention",
            "final-norm", "logits",     "temperature", "top-k",  "top-p",   "min-p",  "sampling"};
}

QString explanation_markdown(const QString& topic) {
    static const bool initialized = [] {
        init_explanation_resources();
        return true;
    }();
    (void)initialized;
    QFile file(":/explanations/" + topic + ".md");
    if (!file.open(QIODevice::ReadOnly)) return QString();
    return QString::fromUtf8(file.readAll());
}

QString explanation_title(const QString& topic) {
    const QString text = explanation_markdown(topic);
    for (const QString& line : text.split('\n'))
        if (line.startsWith("# ")) return line.mid(2).trimmed();
    return topic;
}

}  // namespace ps
