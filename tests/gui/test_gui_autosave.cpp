// The app starting where the user left off, through the functions gui_main runs: what one
// window autosaved (model, prompt, sampling, seed, selection, layout) comes back in a fresh
// one; command-line options override the restored values one by one; a restored model that is
// gone leaves the choice of model to the app but keeps the rest; a damaged autosave is ignored
// (the app starts as on a first run), never thrown.
#include <QDockWidget>
#include <QFile>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/main_window.h"
#include "app/gui/samples.h"
#include "app/gui/session_files.h"
#include "app/gui/session_restore.h"
#include "app/session/session.h"
#include "app/session/session_file.h"

#include "tests/support/gui_session.h"
#include "tests/support/sampling_fixtures.h"
#include "tests/support/suite.h"

using namespace ps;
using ps::test::compare_sampling;
using ps::test::open_and_wait;
using ps::test::stories;
using ps::test::unusual_sampling;

namespace {

QString write_bytes(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes) {
    QFile f(dir.filePath(name));
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(bytes);
    return f.fileName();
}

// An autosave of stories with every restorable field away from its default.
SessionState saved_state() {
    SessionState s;
    s.model_path = stories();
    s.prompt = "The dog ran to the";
    s.sampling = unusual_sampling();
    s.seed = 31337;
    s.position = 2;
    s.layer = 3;
    s.head = 2;
    s.neuron = 45;
    return s;
}

}  // namespace

class TestGuiAutosave : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
        QVERIFY(!sample_path("stories").isEmpty());
    }

    void what_was_autosaved_comes_back_in_a_fresh_window() {
        QTemporaryDir dir;
        const QString path = dir.filePath("app-data/autosave.paramscope");
        const QString prompt = "Tom had a red ball. He threw it to";
        const SamplingSettings sampling = unusual_sampling();
        {
            Session s;
            MainWindow w(&s);
            w.show();
            w.sessionFiles()->setAutosavePath(path, 3600 * 1000);  // only when asked
            QVERIFY(open_and_wait(s, stories()));
            s.setPrompt(prompt);
            s.setSampling(sampling);
            s.setSeed(123456789);
            s.selectPosition(4);
            s.selectHead(3, 2);
            s.selectNeuron(3, 77);
            // A dial turned and a weight edit, one of them off.
            s.addIntervention(
                parse_intervention("ablate:blocks.1.attn.hook_z:2", s.model()->config));
            s.addWeightEdit(parse_weight_edit("weight:h.0.attn.c_proj.weight[3,:]=0", *s.model()));
            s.setWeightEditEnabled(0, false);
            w.findChild<QDockWidget*>("distributionDock")->hide();
            QVERIFY(w.sessionFiles()->autosave());
        }
        QVERIFY(QFile::exists(path));

        Session s;
        MainWindow w(&s);
        w.show();
        QVERIFY(w.findChild<QDockWidget*>("distributionDock")->isVisible());
        StartState start;  // no options on the command line
        const std::optional<SessionState> last = read_autosave(path);
        QVERIFY(last.has_value());
        restore_autosave(start, *last);
        QCOMPARE(start.model, stories());
        apply_start(s, w, start);
        QCOMPARE(s.prompt(), prompt);
        compare_sampling(s.sampling(), sampling);
        QCOMPARE(s.seed(), uint64_t(123456789));
        QVERIFY(!w.findChild<QDockWidget*>("distributionDock")->isVisible());

        // The selection applies once the model has loaded (loading resets the position).
        QVERIFY(open_and_wait(s, start.model));
        QCOMPARE(QString::fromStdString(s.model()->path), stories());
        QCOMPARE(s.selectedPosition(), 4);
        QCOMPARE(s.layer(), 3);
        QCOMPARE(s.head(), 2);
        QCOMPARE(s.neuron(), 77);
        QCOMPARE(s.prompt(), prompt);
        // The interventions come back with the model they were saved with.
        QCOMPARE(s.interventions().size(), size_t(1));
        QCOMPARE(s.interventions()[0].spec(), std::string("ablate:blocks.1.attn.hook_z:2"));
        QCOMPARE(s.weightEdits().size(), size_t(1));
        QCOMPARE(s.weightEdits()[0].spec(), std::string("weight:h.0.attn.c_proj.weight[3,:]=0"));
        QVERIFY(!s.weightEdits()[0].enabled);
        compare_sampling(s.sampling(), sampling);
        // Only the first model: opening another resets the position as usual.
        s.selectPosition(1);
        QVERIFY(open_and_wait(s, stories()));
        QCOMPARE(s.selectedPosition(), -1);
    }

    void command_line_options_override_the_restored_values() {
        const SessionState last = saved_state();
        StartState start;
        start.prompt = "from the command line";
        start.has_prompt = true;
        start.sampling.temperature = 0.25f;
        start.has_sampling = true;
        restore_autosave(start, last);
        QCOMPARE(start.prompt, QString("from the command line"));
        QCOMPARE(start.sampling.temperature, 0.25f);
        QCOMPARE(start.sampling.top_k, SamplingSettings{}.top_k);
        // Not given: restored.
        QCOMPARE(start.model, last.model_path);
        QCOMPARE(start.layer, last.layer);
        QCOMPARE(start.head, last.head);
        QCOMPARE(start.neuron, last.neuron);
        QCOMPARE(start.position, last.position);
        QCOMPARE(*start.seed, last.seed);

        // The selection given: the restored one is not used, the prompt and sampling are.
        StartState selected;
        selected.layer = 1;
        selected.has_selection = true;
        restore_autosave(selected, last);
        QCOMPARE(selected.layer, 1);
        QCOMPARE(selected.head, 0);
        QCOMPARE(selected.neuron, 0);
        QCOMPARE(selected.position, -1);
        QCOMPARE(selected.prompt, last.prompt);
        compare_sampling(selected.sampling, last.sampling);
    }

    void a_restored_model_that_is_gone_keeps_the_rest() {
        QTemporaryDir dir;
        SessionState last = saved_state();
        last.model_path = dir.filePath("deleted/model.gguf");
        const QString path = dir.filePath("autosave.paramscope");
        write_session_file(path, last);
        StartState start;
        restore_autosave(start, *read_autosave(path));
        QCOMPARE(start.model, QString());  // the app chooses, as on a first run
        QCOMPARE(start.prompt, last.prompt);
        QVERIFY(start.has_prompt);
        compare_sampling(start.sampling, last.sampling);
    }

    void a_damaged_autosave_is_ignored() {
        QTemporaryDir dir;
        QByteArray json = session_to_json(saved_state());
        const QString cases[] = {
            write_bytes(dir, "cut.paramscope", json.left(json.size() / 2)),
            write_bytes(dir, "empty.paramscope", QByteArray()),
            write_bytes(dir, "binary.paramscope", QByteArray("\x00\xff\xfe{\x01", 5)),
            write_bytes(dir, "newer.paramscope",
                        QByteArray(json).replace("\"version\": 1", "\"version\": 99")),
            write_bytes(
                dir, "bad-field.paramscope",
                QByteArray(json).replace(
                    "\"top_k\": " + QByteArray::number(unusual_sampling().top_k), "\"top_k\": -3")),
            dir.filePath("missing.paramscope"),
        };
        for (const QString& path : cases) {
            QVERIFY(!path.isEmpty());
            std::optional<SessionState> last;
            try {
                last = read_autosave(path);
            } catch (...) {
                QFAIL(qPrintable("read_autosave threw on " + path));
            }
            QVERIFY2(!last.has_value(), qPrintable(path));
        }
        // The same bytes undamaged do read: the cases above fail for their damage alone.
        const std::optional<SessionState> whole =
            read_autosave(write_bytes(dir, "whole.paramscope", json));
        QVERIFY(whole.has_value());
        QCOMPARE(whole->neuron, 45);

        // As on a first run: nothing restored, the window starts with the defaults.
        Session s;
        MainWindow w(&s);
        s.setPrompt("typed before");
        const StartState start;
        apply_start(s, w, start);
        QCOMPARE(s.prompt(), QString("typed before"));  // no prompt to restore: left alone
        compare_sampling(s.sampling(), SamplingSettings{});
        QCOMPARE(s.seed(), uint64_t(42));
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiAutosave)
#include "test_gui_autosave.moc"
