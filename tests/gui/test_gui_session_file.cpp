// The .paramscope session file: every field survives a round trip, a damaged or newer file is
// refused with an error naming the file and the field, and writing is atomic: a failed write
// and a process killed mid-write both leave the previous file whole (and a naive writer, killed
// the same way, is caught leaving a broken one, so the check has teeth).
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QtTest>
#include <csignal>
#include "tests/support/suite.h"

#include "app/session/session_file.h"
#include "core/error.h"

using namespace ps;

namespace {

// A state with no field at its default, so a field the writer or the reader forgets shows.
SessionState sample_state() {
    SessionState s;
    s.model_path = "/models/stories dir/ünï";
    s.prompt = "Once upon a time\n\t\"quoted\" \\ and 日本語 and an emoji 🙂";
    s.sampling.temperature = 0.7f;
    s.sampling.top_k = 40;
    s.sampling.top_p = 0.9f;
    s.sampling.min_p = 0.05f;
    s.sampling.order = SamplingOrder::LlamaCpp;
    s.seed = 18446744073709551557ull;  // beyond 2^53: would not survive as a JSON number
    s.position = 3;
    s.layer = 2;
    s.head = 1;
    s.neuron = 77;
    s.interventions = {{"ablate:blocks.1.attn.hook_z:6", true},
                       {"scale:blocks.0.mlp.hook_post:5=2", false}};
    s.window_geometry = QByteArray("\x01\xd9\xd0\xcb\x00\x03geometry\x00\xff", 16);
    s.window_state = QByteArray("\x00\x00\x00\xff state bytes \x80\x81", 20);
    return s;
}

// The error reading `json` as a session, or "" when it is accepted.
QString error_of(const QByteArray& json) {
    try {
        session_from_json(json, "damaged.paramscope", "/tmp");
    } catch (const Error& e) {
        return QString::fromUtf8(e.what());
    }
    return {};
}

QByteArray with(const char* key, const QJsonValue& value) {
    QJsonObject o = QJsonDocument::fromJson(session_to_json(sample_state())).object();
    if (value.isUndefined())
        o.remove(key);
    else
        o[key] = value;
    return QJsonDocument(o).toJson();
}

QByteArray with_sub(const char* object, const char* key, const QJsonValue& value) {
    QJsonObject o = QJsonDocument::fromJson(session_to_json(sample_state())).object();
    QJsonObject sub = o[object].toObject();
    sub[key] = value;
    o[object] = sub;
    return QJsonDocument(o).toJson();
}

// Whether `path` now reads back as exactly one of the states.
bool reads_as_one_of(const QString& path, const SessionState& a, const SessionState& b) {
    try {
        const SessionState s = read_session_file(path);
        return s == a || s == b;
    } catch (const Error&) {
        return false;
    }
}

// Forks a child that rewrites `path` forever with a and b in turn (by `write`), kills it at a
// random moment `rounds` times; returns how many times the file was then not whole.
template <typename Write>
int broken_after_kills(const QString& path, const SessionState& a, const SessionState& b,
                       int rounds, Write write) {
    int broken = 0;
    for (int round = 0; round < rounds; round++) {
        const pid_t child = fork();
        if (child == 0) {  // never returns into the test: it is killed, or exits on error
            try {
                for (int i = 0;; i++) write(path, i % 2 ? b : a);
            } catch (...) {
                _exit(1);
            }
        }
        QThread::usleep(QRandomGenerator::global()->bounded(2000, 60000));
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
        if (!reads_as_one_of(path, a, b)) broken++;
    }
    return broken;
}

}  // namespace

class TestGuiSessionFile : public QObject {
    Q_OBJECT
  private slots:
    void every_field_round_trips() {
        const SessionState s = sample_state();
        const SessionState back = session_from_json(session_to_json(s), "x.paramscope", "/");
        QCOMPARE(back.model_path, s.model_path);
        QCOMPARE(back.prompt, s.prompt);
        QCOMPARE(back.sampling.temperature, s.sampling.temperature);
        QCOMPARE(back.sampling.top_k, s.sampling.top_k);
        QCOMPARE(back.sampling.top_p, s.sampling.top_p);
        QCOMPARE(back.sampling.min_p, s.sampling.min_p);
        QVERIFY(back.sampling.order == SamplingOrder::LlamaCpp);
        QCOMPARE(back.seed, s.seed);
        QCOMPARE(back.position, s.position);
        QCOMPARE(back.layer, s.layer);
        QCOMPARE(back.head, s.head);
        QCOMPARE(back.neuron, s.neuron);
        QVERIFY(back.interventions == s.interventions);
        QCOMPARE(back.interventions.size(), size_t{2});
        QVERIFY(!back.interventions[1].enabled);
        QVERIFY(session_from_json(with("interventions", QJsonValue::Undefined), "old.paramscope",
                                  "/")
                    .interventions.empty());  // files written before interventions existed
        QCOMPARE(back.window_geometry, s.window_geometry);
        QCOMPARE(back.window_state, s.window_state);
        QVERIFY(back == s);

        QTemporaryDir dir;
        const QString path = dir.filePath("sub/dir/work.paramscope");  // directories made
        write_session_file(path, s);
        QVERIFY(read_session_file(path) == s);
        QCOMPARE(QDir(dir.filePath("sub/dir")).entryList(QDir::Files),
                 QStringList{"work.paramscope"});
        // It is versioned, readable JSON.
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray text = f.readAll();
        // Floats written as their shortest decimal, not as the nearest double's digits.
        QVERIFY2(text.contains("\"min_p\": 0.05,") && text.contains("\"temperature\": 0.7,"),
                 text.constData());
        const QJsonObject o = QJsonDocument::fromJson(text).object();
        QCOMPARE(o["format"].toString(), QString("paramscope-session"));
        QCOMPARE(o["version"].toInt(), SessionState::kVersion);
        QCOMPARE(o["seed"].toString(), QString("18446744073709551557"));
    }

    void a_relative_model_path_is_relative_to_the_file() {
        QTemporaryDir dir;
        QFile f(dir.filePath("s.paramscope"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(with("model", "models/m.gguf"));
        f.close();
        QCOMPARE(read_session_file(f.fileName()).model_path, dir.filePath("models/m.gguf"));
    }

    void damaged_files_are_refused_naming_the_field() {
        const QByteArray good = session_to_json(sample_state());
        QCOMPARE(error_of(good), QString());
        const struct {
            QByteArray json;
            const char* expected;  // in the message, after the file name
        } cases[] = {
            {good.left(good.size() / 2), "not valid JSON"},
            {"[1, 2]", "not a ParamScope session"},
            {with("format", "something-else"), "field 'format'"},
            {with("version", 2), "session version 2 was written by a newer ParamScope"},
            {with("version", 0), "field 'version' must be a number in [1, "},
            {with("version", "1"), "field 'version' must be a number"},
            {with("prompt", QJsonValue::Undefined), "field 'prompt' is missing"},
            {with("prompt", 42), "field 'prompt' must be a string"},
            {with("model", QJsonValue::Null), "field 'model' must be a string"},
            {with("sampling", "hot"), "field 'sampling' must be an object"},
            {with_sub("sampling", "top_p", 1.5),
             "field 'sampling.top_p' must be a number in [0, 1]"},
            {with_sub("sampling", "temperature", -1), "field 'sampling.temperature'"},
            {with_sub("sampling", "top_k", 2.5), "field 'sampling.top_k' must be a whole number"},
            {with_sub("sampling", "order", "random"), "field 'sampling.order' must be \"hf\""},
            {with("seed", "-3"), "field 'seed' must be a decimal 64-bit unsigned integer"},
            {with("seed", "18446744073709551616"), "field 'seed'"},  // 2^64
            {with("seed", 42), "field 'seed' must be a string"},
            {with_sub("selection", "layer", -1), "field 'selection.layer'"},
            {with_sub("selection", "position", -2), "field 'selection.position'"},
            {with_sub("selection", "neuron", "7"), "field 'selection.neuron' must be a number"},
            {with_sub("layout", "state", "not base64!"), "field 'layout.state' must be base64"},
            {with("layout", QJsonValue::Undefined), "field 'layout' is missing"},
            {with("interventions", "ablate"), "field 'interventions' must be an array"},
            {with("interventions", QJsonArray{QJsonObject{{"spec", 3}, {"enabled", true}}}),
             "field 'interventions[0].spec' must be a string"},
            {with("interventions", QJsonArray{QJsonObject{{"spec", "x"}}}),
             "field 'interventions[0].enabled' must be true or false"},
        };
        for (const auto& c : cases) {
            const QString message = error_of(c.json);
            QVERIFY2(message.startsWith("damaged.paramscope: ") && message.contains(c.expected),
                     qPrintable(QString("expected '%1', got '%2'").arg(c.expected, message)));
        }
    }

    void reading_names_missing_and_oversized_files() {
        QTemporaryDir dir;
        const QString missing = dir.filePath("none.paramscope");
        QVERIFY_THROWS_EXCEPTION(Error, read_session_file(missing));
        try {
            read_session_file(missing);
        } catch (const Error& e) {
            QCOMPARE(QString(e.what()), missing + ": no such file");
        }
        QFile big(dir.filePath("big.paramscope"));
        QVERIFY(big.open(QIODevice::WriteOnly));
        QVERIFY(big.resize(kMaxSessionFileBytes + 1));  // sparse: no disk used
        big.close();
        try {
            read_session_file(big.fileName());
            QFAIL("an oversized file was read");
        } catch (const Error& e) {
            QVERIFY2(QString(e.what()).contains("too large for a session file"), e.what());
        }
    }

    void a_failed_write_leaves_the_old_file() {
        QTemporaryDir dir;
        const QString path = dir.filePath("work.paramscope");
        SessionState a = sample_state();
        write_session_file(path, a);
        SessionState b = a;
        b.prompt = QString(200000, QChar('x'));  // far beyond the size limit set below
        // The process may not write files larger than 64 KB (works even as root, unlike a
        // read-only directory); the write then fails part-way through.
        rlimit old_limit;
        QCOMPARE(getrlimit(RLIMIT_FSIZE, &old_limit), 0);
        rlimit limit = old_limit;
        limit.rlim_cur = 64 * 1024;
        const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);
        QCOMPARE(setrlimit(RLIMIT_FSIZE, &limit), 0);
        QString message;
        try {
            write_session_file(path, b);
        } catch (const Error& e) {
            message = e.what();
        }
        setrlimit(RLIMIT_FSIZE, &old_limit);
        std::signal(SIGXFSZ, old_handler);
        QVERIFY2(message.startsWith(path + ": could not"), qPrintable(message));
        QVERIFY(read_session_file(path) == a);
        // No temporary file is left behind.
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden),
                 QStringList{"work.paramscope"});

        // A directory in the way of the file: refused, nothing written.
        QVERIFY(QDir(dir.path()).mkdir("taken.paramscope"));
        QVERIFY_THROWS_EXCEPTION(Error, write_session_file(dir.filePath("taken.paramscope"), a));
    }

    void a_crash_mid_write_leaves_a_whole_file() {
        QTemporaryDir dir;
        const QString path = dir.filePath("work.paramscope");
        // Big enough that serializing and writing take milliseconds, so kills land mid-write.
        SessionState a = sample_state(), b = sample_state();
        a.prompt = QString(4 << 20, QChar('a'));
        b.prompt = QString(4 << 20, QChar('b'));
        b.seed = 7;
        write_session_file(path, a);
        const int atomic_broken =
            broken_after_kills(path, a, b, 12, [](auto& p, auto& s) { write_session_file(p, s); });
        QCOMPARE(atomic_broken, 0);

        // The same kills against a writer that truncates the file and writes in place.
        const int naive_broken = broken_after_kills(path, a, b, 12, [](auto& p, auto& s) {
            QFile f(p);
            if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate)) _exit(1);
            f.write(session_to_json(s));
        });
        QVERIFY2(naive_broken > 0, "the kills never hit a write: the check above proves nothing");
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiSessionFile)
#include "test_gui_session_file.moc"
