#include "app/session/session_file.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSaveFile>
#include <QStandardPaths>
#include <charconv>
#include <cmath>

#include "core/error.h"

namespace ps {

namespace {

constexpr const char* kFormat = "paramscope-session";

// The double whose shortest decimal is the float's ("0.01", not "0.009999999776482582"): it
// reads back as the same float and keeps the file readable.
double float_for_json(float f) {
    char text[32];
    const auto end = std::to_chars(text, text + sizeof text, f).ptr;
    double d = f;
    std::from_chars(text, end, d);  // not strtod: that follows the user's decimal comma
    return d;
}

bool same_sampling(const SamplingSettings& a, const SamplingSettings& b) {
    return a.temperature == b.temperature && a.top_k == b.top_k && a.top_p == b.top_p &&
           a.min_p == b.min_p && a.order == b.order;
}

// Field readers: each names the field ("sampling.top_p") and what it must be when it is not.
class Reader {
  public:
    explicit Reader(QString source) : source_(std::move(source)) {}

    [[noreturn]] void fail_field(const QString& field, const QString& what) const {
        fail(source_.toStdString(), ("field '" + field + "' " + what).toStdString());
    }

    QJsonValue require(const QJsonObject& o, const QString& prefix, const QString& key) const {
        if (!o.contains(key)) fail_field(prefix + key, "is missing");
        return o.value(key);
    }

    QJsonObject object(const QJsonObject& o, const QString& key) const {
        const QJsonValue v = require(o, "", key);
        if (!v.isObject()) fail_field(key, "must be an object");
        return v.toObject();
    }

    QString string(const QJsonObject& o, const QString& prefix, const QString& key) const {
        const QJsonValue v = require(o, prefix, key);
        if (!v.isString()) fail_field(prefix + key, "must be a string");
        return v.toString();
    }

    double number(const QJsonObject& o, const QString& prefix, const QString& key, double lo,
                  double hi) const {
        const QJsonValue v = require(o, prefix, key);
        const double x = v.toDouble(std::nan(""));
        if (!v.isDouble() || !(x >= lo && x <= hi))
            fail_field(
                prefix + key,
                QString("must be a number in [%1, %2], got %3").arg(lo).arg(hi).arg(shown(v)));
        return x;
    }

    int integer(const QJsonObject& o, const QString& prefix, const QString& key, int lo,
                int hi) const {
        const double x = number(o, prefix, key, lo, hi);
        if (x != std::floor(x))
            fail_field(prefix + key, QString("must be a whole number, got %1").arg(x));
        return static_cast<int>(x);
    }

    QByteArray base64(const QJsonObject& o, const QString& prefix, const QString& key) const {
        const auto decoded = QByteArray::fromBase64Encoding(
            string(o, prefix, key).toLatin1(), QByteArray::AbortOnBase64DecodingErrors);
        if (!decoded) fail_field(prefix + key, "must be base64");
        return *decoded;
    }

  private:
    static QString shown(const QJsonValue& v) {
        if (v.isDouble()) return QString::number(v.toDouble());
        if (v.isString()) return "'" + v.toString().left(40) + "'";
        if (v.isBool()) return v.toBool() ? "true" : "false";
        if (v.isNull()) return "null";
        return v.isArray() ? "an array" : "an object";
    }

    QString source_;
};

}  // namespace

bool SessionState::operator==(const SessionState& o) const {
    return model_path == o.model_path && prompt == o.prompt &&
           same_sampling(sampling, o.sampling) && seed == o.seed && position == o.position &&
           layer == o.layer && head == o.head && neuron == o.neuron &&
           interventions == o.interventions && window_geometry == o.window_geometry &&
           window_state == o.window_state;
}

QByteArray session_to_json(const SessionState& s) {
    QJsonObject sampling{{"temperature", float_for_json(s.sampling.temperature)},
                         {"top_k", s.sampling.top_k},
                         {"top_p", float_for_json(s.sampling.top_p)},
                         {"min_p", float_for_json(s.sampling.min_p)},
                         {"order", sampling_order_name(s.sampling.order)}};
    QJsonObject selection{
        {"position", s.position}, {"layer", s.layer}, {"head", s.head}, {"neuron", s.neuron}};
    QJsonArray interventions;
    for (const SavedIntervention& iv : s.interventions)
        interventions.append(QJsonObject{{"spec", iv.spec}, {"enabled", iv.enabled}});
    QJsonObject layout{{"geometry", QString::fromLatin1(s.window_geometry.toBase64())},
                       {"state", QString::fromLatin1(s.window_state.toBase64())}};
    QJsonObject root{{"format", kFormat},      {"version", SessionState::kVersion},
                     {"model", s.model_path},  {"prompt", s.prompt},
                     {"sampling", sampling},   {"seed", QString::number(s.seed)},
                     {"selection", selection}, {"layout", layout}};
    if (!interventions.isEmpty()) root["interventions"] = interventions;
    return QJsonDocument(root).toJson(QJsonDocument::Indented);
}

SessionState session_from_json(const QByteArray& json, const QString& source,
                               const QString& base_dir) {
    const std::string file = source.toStdString();
    QJsonParseError error;
    const QJsonDocument doc = QJsonDocument::fromJson(json, &error);
    if (error.error != QJsonParseError::NoError)
        fail(file, "not valid JSON at byte " + std::to_string(error.offset) + ": " +
                       error.errorString().toStdString());
    if (!doc.isObject()) fail(file, "not a ParamScope session (the JSON is not an object)");
    const QJsonObject root = doc.object();
    const Reader r(source);
    if (root.value("format").toString() != kFormat)
        r.fail_field("format",
                     QString("must be \"%1\": this is not a ParamScope session file").arg(kFormat));
    const int version = r.integer(root, "", "version", 1, 1000000000);
    if (version > SessionState::kVersion)
        fail(file, "session version " + std::to_string(version) +
                       " was written by a newer ParamScope; this one reads version " +
                       std::to_string(SessionState::kVersion) + " and older");

    SessionState s;
    s.model_path = r.string(root, "", "model");
    if (!s.model_path.isEmpty() && QFileInfo(s.model_path).isRelative())
        s.model_path = QDir(base_dir).absoluteFilePath(s.model_path);
    s.prompt = r.string(root, "", "prompt");

    const QJsonObject sampling = r.object(root, "sampling");
    const QString sp = "sampling.";
    s.sampling.temperature = static_cast<float>(r.number(sampling, sp, "temperature", 0, 100));
    s.sampling.top_k = r.integer(sampling, sp, "top_k", 0, 1000000000);
    s.sampling.top_p = static_cast<float>(r.number(sampling, sp, "top_p", 0, 1));
    s.sampling.min_p = static_cast<float>(r.number(sampling, sp, "min_p", 0, 1));
    const QString order = r.string(sampling, sp, "order");
    if (!parse_sampling_order(order.toUtf8().constData(), &s.sampling.order))
        r.fail_field("sampling.order", "must be \"hf\" or \"llamacpp\", got '" + order + "'");

    const QString seed = r.string(root, "", "seed");
    bool ok = false;
    s.seed = seed.toULongLong(&ok);
    if (!ok) r.fail_field("seed", "must be a decimal 64-bit unsigned integer, got '" + seed + "'");

    const QJsonObject selection = r.object(root, "selection");
    const QString sel = "selection.";
    s.position = r.integer(selection, sel, "position", -1, 100000000);
    s.layer = r.integer(selection, sel, "layer", 0, 1000000);
    s.head = r.integer(selection, sel, "head", 0, 1000000);
    s.neuron = r.integer(selection, sel, "neuron", 0, 100000000);

    if (root.contains("interventions")) {
        const QJsonValue list = root.value("interventions");
        if (!list.isArray()) r.fail_field("interventions", "must be an array");
        const QJsonArray items = list.toArray();
        for (qsizetype i = 0; i < items.size(); ++i) {
            const QString at = QString("interventions[%1].").arg(i);
            if (!items[i].isObject()) r.fail_field(at.chopped(1), "must be an object");
            const QJsonObject item = items[i].toObject();
            SavedIntervention iv;
            iv.spec = r.string(item, at, "spec");
            if (!item.value("enabled").isBool())
                r.fail_field(at + "enabled", "must be true or false");
            iv.enabled = item.value("enabled").toBool();
            s.interventions.push_back(iv);
        }
    }

    const QJsonObject layout = r.object(root, "layout");
    s.window_geometry = r.base64(layout, "layout.", "geometry");
    s.window_state = r.base64(layout, "layout.", "state");
    return s;
}

void write_session_file(const QString& path, const SessionState& state) {
    const std::string file = path.toStdString();
    const QFileInfo info(path);
    if (!QDir().mkpath(info.absolutePath()))
        fail(file, "could not create the directory " + info.absolutePath().toStdString());
    // QSaveFile writes a temporary file in the same directory and renames it over `path` in
    // commit(); until then `path` keeps its old content, whatever happens to this process.
    QSaveFile out(path);
    if (!out.open(QIODevice::WriteOnly))
        fail(file, "could not write: " + out.errorString().toStdString());
    const QByteArray json = session_to_json(state);
    if (out.write(json) != json.size()) {
        const std::string why = out.errorString().toStdString();
        out.cancelWriting();
        fail(file, "could not write: " + why);
    }
    if (!out.commit()) fail(file, "could not save: " + out.errorString().toStdString());
}

SessionState read_session_file(const QString& path) {
    const std::string file = path.toStdString();
    QFile in(path);
    if (!in.exists()) fail(file, "no such file");
    if (!in.open(QIODevice::ReadOnly))
        fail(file, "could not read: " + in.errorString().toStdString());
    // Reads at most one byte past the limit: a device or a huge file is refused, not slurped.
    const QByteArray json = in.read(kMaxSessionFileBytes + 1);
    if (json.size() > kMaxSessionFileBytes)
        fail(file, "larger than " + std::to_string(kMaxSessionFileBytes) +
                       " bytes: too large for a session file");
    return session_from_json(json, path, QFileInfo(path).absolutePath());
}

QString autosave_path() {
    return QStandardPaths::writableLocation(QStandardPaths::AppDataLocation) +
           "/autosave.paramscope";
}

}  // namespace ps
