// The user's work in the main window (offscreen), on the stories sample: a session saved from one
// window and opened in a fresh one shows the same model, prompt, sampling, seed, selection and
// layout; a damaged session file or a broken model shows an error dialog and changes nothing;
// the autosave writes on its timer when something changed and on close, and is off by default.
#include <QDockWidget>
#include <QFile>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/main_window.h"
#include "app/gui/samples.h"
#include "app/gui/session_files.h"
#include "app/session/session.h"
#include "app/session/session_file.h"
#include "core/error.h"

#include "tests/support/gui_session.h"
#include "tests/support/sampling_fixtures.h"
#include "tests/support/suite.h"

using namespace ps;
using ps::test::compare_sampling;
using ps::test::open_and_wait;
using ps::test::settled;
using ps::test::stories;
using ps::test::unusual_sampling;

namespace {

// The visible message box of `window` whose text or details mention `needle`.
QMessageBox* visible_box(QWidget& window, const QString& needle) {
    for (QMessageBox* box : window.findChildren<QMessageBox*>())
        if (box->isVisible() &&
            (box->text().contains(needle) || box->informativeText().contains(needle)))
            return box;
    return nullptr;
}

QString write_file(const QTemporaryDir& dir, const QString& name, const QByteArray& bytes) {
    QFile f(dir.filePath(name));
    if (!f.open(QIODevice::WriteOnly)) return {};
    f.write(bytes);
    return f.fileName();
}

}  // namespace

class TestGuiSessionWork : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
        QFile::remove(autosave_path());
    }

    void a_saved_session_reopens_in_a_fresh_window() {
        QTemporaryDir dir;
        const QString path = dir.filePath("work.paramscope");
        const QString prompt = "Lily went to the park. She saw a";
        {
            Session s;
            MainWindow w(&s);
            w.show();
            s.setPrompt(prompt);
            QVERIFY(open_and_wait(s, stories()));
            QTRY_VERIFY_WITH_TIMEOUT(settled(s), 20000);
            s.setSampling(unusual_sampling());
            s.setSeed(987654321);
            s.selectPosition(3);
            s.selectHead(2, 3);
            s.selectNeuron(2, 17);
            s.addIntervention(
                parse_intervention("ablate:blocks.1.attn.hook_z:2", s.model()->config));
            s.addIntervention(
                parse_intervention("scale:blocks.3.mlp.hook_post:9=2", s.model()->config));
            s.setInterventionEnabled(1, false);
            w.findChild<QDockWidget*>("distributionDock")->hide();
            QVERIFY(w.sessionFiles()->saveTo(path));
            QVERIFY(w.windowTitle().startsWith("work.paramscope"));
            QVERIFY(!w.isWindowModified());
            s.selectLayer(1);  // a change after saving marks the window modified
            QVERIFY(w.isWindowModified());
        }
        Session s;
        MainWindow w(&s);
        w.show();
        QVERIFY(w.findChild<QDockWidget*>("distributionDock")->isVisible());
        QSignalSpy applied(w.sessionFiles(), &SessionFiles::sessionApplied);
        QVERIFY(w.sessionFiles()->open(path));
        QVERIFY(w.sessionFiles()->applying());  // the model loads first
        QVERIFY(applied.wait(20000));
        QCOMPARE(QString::fromStdString(s.model()->path), stories());
        QCOMPARE(s.prompt(), prompt);
        compare_sampling(s.sampling(), unusual_sampling());
        QCOMPARE(s.seed(), uint64_t(987654321));
        QCOMPARE(s.selectedPosition(), 3);
        QCOMPARE(s.layer(), 2);
        QCOMPARE(s.head(), 3);
        QCOMPARE(s.neuron(), 17);
        QCOMPARE(s.interventions().size(), size_t{2});
        QCOMPARE(QString::fromStdString(s.interventions()[0].spec()),
                 QString("ablate:blocks.1.attn.hook_z:2"));
        QVERIFY(s.interventions()[0].enabled && !s.interventions()[1].enabled);
        QVERIFY(!w.findChild<QDockWidget*>("distributionDock")->isVisible());
        QCOMPARE(w.sessionFiles()->currentPath(), path);
        QVERIFY(w.windowTitle().startsWith("work.paramscope"));
        QVERIFY(w.windowTitle().contains(QString::fromStdString(s.model()->name)));
        QVERIFY(!w.isWindowModified());
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 20000);
        QCOMPARE(s.position(), 3);
        QVERIFY(s.distribution() != nullptr);
        QVERIFY(s.distribution()->kept <= 12);                 // top-k 12 is in effect
        QCOMPARE(s.trace()->interventions.size(), size_t{2});  // the analysis runs them

        // Reopening the same session over edits (same model: at once) restores it.
        s.setPrompt("something else");
        s.setSampling(SamplingSettings{});
        QVERIFY(w.sessionFiles()->open(path));
        QVERIFY(!w.sessionFiles()->applying());
        QCOMPARE(s.prompt(), prompt);
        compare_sampling(s.sampling(), unusual_sampling());
        QCOMPARE(w.sessionFiles()->capture().prompt, prompt);
    }

    void a_damaged_session_shows_an_error_and_changes_nothing() {
        Session s;
        MainWindow w(&s);
        w.show();
        s.setPrompt("keep me");
        QVERIFY(open_and_wait(s, stories()));
        const auto model = s.model();
        QTemporaryDir dir;
        SessionState state;
        state.model_path = stories();
        state.prompt = "not this";
        QByteArray json = session_to_json(state);
        json.replace("\"top_p\": 1", "\"top_p\": 3");
        const struct {
            QString file;
            QString expected;
        } cases[] = {
            {write_file(dir, "top_p.paramscope", json), "field 'sampling.top_p'"},
            {write_file(dir, "cut.paramscope", json.left(40)), "not valid JSON"},
            {write_file(dir, "newer.paramscope",
                        QByteArray(json).replace("\"version\": 1", "\"version\": 9")),
             "newer ParamScope"},
            {dir.filePath("missing.paramscope"), "no such file"},
        };
        for (const auto& c : cases) {
            QSignalSpy shown(w.sessionFiles(), &SessionFiles::errorShown);
            QVERIFY(!w.sessionFiles()->open(c.file));
            QCOMPARE(shown.count(), 1);
            QVERIFY2(w.sessionFiles()->lastError().contains(c.expected),
                     qPrintable(w.sessionFiles()->lastError()));
            QMessageBox* box = visible_box(w, c.expected);
            QVERIFY2(box, qPrintable(c.file));
            QCOMPARE(box->objectName(), QString("sessionFileError"));
            box->accept();
            QVERIFY(!visible_box(w, c.expected));
            QCOMPARE(s.prompt(), QString("keep me"));
            QCOMPARE(s.model(), model);
            compare_sampling(s.sampling(), SamplingSettings{});
            QCOMPARE(w.sessionFiles()->currentPath(), QString());
        }

        // A session naming a model that is gone.
        state.model_path = dir.filePath("gone.gguf");
        const QString gone = dir.filePath("gone.paramscope");
        write_session_file(gone, state);
        QVERIFY(!w.sessionFiles()->open(gone));
        QVERIFY(w.sessionFiles()->lastError().contains("gone.gguf"));
        QCOMPARE(s.prompt(), QString("keep me"));
    }

    void a_broken_model_shows_an_error_and_keeps_the_model_and_prompt() {
        Session s;
        MainWindow w(&s);
        w.show();
        s.setPrompt("Once upon a time");
        QVERIFY(open_and_wait(s, stories()));
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 20000);
        const auto model = s.model();
        const auto trace = s.trace();
        const QString title = w.windowTitle();
        QTemporaryDir dir;
        const QString broken = write_file(dir, "broken.bin", QByteArray(28, '\x7f'));

        QSignalSpy failed(&s, &Session::modelLoadFailed);
        w.openModel(broken);
        QVERIFY(failed.wait(20000));
        QMessageBox* box = visible_box(w, broken);
        QVERIFY(box);
        QVERIFY2(box->informativeText().contains("broken.bin"), qPrintable(box->informativeText()));
        QCOMPARE(s.model(), model);
        QCOMPARE(s.prompt(), QString("Once upon a time"));
        QCOMPARE(qobject_cast<QPlainTextEdit*>(w.view("prompt"))->toPlainText(),
                 QString("Once upon a time"));
        QCOMPARE(s.trace(), trace);
        QCOMPARE(w.windowTitle(), title);
        box->accept();

        // A session whose model is broken: the model's error, and nothing of the session.
        SessionState state;
        state.model_path = broken;
        state.prompt = "not this";
        state.sampling = unusual_sampling();
        const QString session = dir.filePath("broken-model.paramscope");
        write_session_file(session, state);
        QSignalSpy applied(w.sessionFiles(), &SessionFiles::sessionApplied);
        QVERIFY(w.sessionFiles()->open(session));  // the file itself is fine
        QVERIFY(failed.wait(20000));
        QVERIFY(visible_box(w, broken));
        QVERIFY(!w.sessionFiles()->applying());
        QCOMPARE(applied.count(), 0);
        QCOMPARE(s.model(), model);
        QCOMPARE(s.prompt(), QString("Once upon a time"));
        compare_sampling(s.sampling(), SamplingSettings{});
        QCOMPARE(w.sessionFiles()->currentPath(), QString());
    }

    void autosave_on_a_timer_when_changed_and_on_close() {
        QTemporaryDir dir;
        const QString path = dir.filePath("app-data/autosave.paramscope");
        Session s;
        auto* w = new MainWindow(&s);
        w->show();
        w->sessionFiles()->setAutosavePath(path, 50);
        QVERIFY(open_and_wait(s, stories()));
        s.setPrompt("first");
        QTRY_VERIFY_WITH_TIMEOUT(QFile::exists(path) && read_session_file(path).prompt == "first",
                                 5000);
        QCOMPARE(read_session_file(path).model_path, stories());
        // Nothing changed: the timer writes nothing.
        QVERIFY(QFile::remove(path));
        QTest::qWait(300);
        QVERIFY(!QFile::exists(path));

        // On close, whatever the timer: the latest state.
        w->sessionFiles()->setAutosavePath(path, 3600 * 1000);
        s.setPrompt("second");
        s.selectHead(1, 2);
        w->close();
        const SessionState saved = read_session_file(path);
        QCOMPARE(saved.prompt, QString("second"));
        QCOMPARE(saved.layer, 1);
        QCOMPARE(saved.head, 2);
        QVERIFY(!saved.window_state.isEmpty());
        delete w;
    }

    void autosave_is_off_unless_turned_on() {
        QFile::remove(autosave_path());
        Session s;
        MainWindow w(&s);
        w.show();
        QCOMPARE(w.sessionFiles()->autosavePath(), QString());
        s.setPrompt("anything");
        QVERIFY(!w.sessionFiles()->autosave());
        w.close();
        QVERIFY(!QFile::exists(autosave_path()));
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiSessionWork)
#include "test_gui_session_work.moc"
