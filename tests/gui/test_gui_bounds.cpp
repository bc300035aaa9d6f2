// Memory and time bounds in the GUI (offscreen, stories sample, context 128): a prompt longer
// than the context is never truncated silently (the prompt area says so, nothing is analyzed,
// the user keeps the last tokens or edits), and cancelling an analysis, opening another model
// mid-analysis and closing the window mid-analysis are safe.
#include <QAction>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStatusBar>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/main_window.h"
#include "app/gui/samples.h"
#include "app/gui/session_files.h"
#include "app/session/session.h"
#include "app/session/session_file.h"
#include "core/formats/loader.h"
#include "core/sampling/prompt_tail.h"
#include "core/tokenizer/tokenizer.h"
#include "tests/support/gui_session.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "views/prompt/context_banner.h"

using namespace ps;
using ps::test::open_and_wait;
using ps::test::settled;

namespace {

QString repeated(const QString& sentence, int times) {
    QString text;
    for (int i = 0; i < times; i++) text += sentence;
    return text;
}

bool status_shows(QMainWindow& w, const QString& text) {
    for (QLabel* label : w.statusBar()->findChildren<QLabel*>())
        if (label->text() == text) return true;
    return false;
}

// keep_last_tokens on `tok`: a suffix starting on a character, that fits, and nearly fills.
void check_tails(const Tokenizer& tok, const std::string& text) {
    const int full = prompt_token_count(tok, text);
    for (int budget : {2, 5, 17, 64, full - 1, full, full + 3}) {
        const PromptTail tail = keep_last_tokens(tok, text, budget);
        const std::string where = tok.kind() + ", budget " + std::to_string(budget);
        QVERIFY2(text.size() >= tail.text.size() && text.compare(text.size() - tail.text.size(),
                                                                 std::string::npos, tail.text) == 0,
                 where.c_str());
        // encode() throws on a cut through a UTF-8 character.
        QCOMPARE(prompt_token_count(tok, tail.text), tail.tokens);
        QVERIFY2(tail.tokens <= std::max(budget, tok.add_bos ? 1 : 0), where.c_str());
        if (budget >= full) {
            QCOMPARE(tail.text, text);
        } else {
            // Re-tokenizing at the cut may merge a little differently; never by much.
            QVERIFY2(tail.tokens >= budget - 2,
                     (where + ": only " + std::to_string(tail.tokens)).c_str());
        }
    }
}

}  // namespace

class TestGuiBounds : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
    }

    void keep_last_tokens_fits_and_fills() {
        const std::string text =
            "Lily saw a big dog. 日本語 and émigré café, 🙂🙂 naïve\n\"quotes\" and "
            "tabs\t"
            "Once upon a time there was a little girl named Lily who loved to play outside.";
        const auto gpt2 = load_model(sample_path("stories").toStdString());
        check_tails(*gpt2->tokenizer, text);
        PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
        const auto spm = load_model(bin);  // SentencePiece with byte fallback and BOS
        QVERIFY(spm->tokenizer->add_bos);
        check_tails(*spm->tokenizer, text);
    }

    void a_too_long_prompt_is_refused_until_the_user_chooses() {
        Session s;
        MainWindow w(&s);
        w.show();
        s.setPrompt("Once upon a time");
        QVERIFY(open_and_wait(s, sample_path("stories")));
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 20000);
        QCOMPARE(s.contextLength(), 128);
        auto* banner = w.findChild<ContextBanner*>("contextBanner");
        QVERIFY(banner);
        QVERIFY(!banner->isVisible());
        QVERIFY(status_shows(w, QString("%1 / 128 tokens").arg(s.tokens().size())));

        QSignalSpy started(&s, &Session::analysisStarted);
        QSignalSpy errors(&s, &Session::error);
        auto* editor = qobject_cast<QPlainTextEdit*>(w.view("prompt"));
        const QString long_prompt = repeated("Lily went to the park and saw a big red ball. ", 20);
        editor->setPlainText(long_prompt);  // as typed or pasted
        QCOMPARE(s.prompt(), long_prompt);
        const int n = static_cast<int>(s.tokens().size());
        QVERIFY2(n > 128, qPrintable(QString::number(n)));
        QVERIFY(s.promptTooLong());
        QVERIFY(banner->isVisible());
        QVERIFY2(banner->message().contains(QString("The prompt is %1 tokens").arg(n)) &&
                     banner->message().contains("at most 128"),
                 qPrintable(banner->message()));
        QCOMPARE(banner->keepButton()->text(), QString("Keep the last 128 tokens"));
        QVERIFY(status_shows(w, QString("%1 / 128 tokens").arg(n)));
        // Refused: no analysis (past the debounce), no error, no trace of another prompt.
        QTest::qWait(500);
        QCOMPARE(started.count(), 0);
        QCOMPARE(errors.count(), 0);
        QVERIFY(!s.trace());
        QVERIFY(!s.analyzing());
        QCOMPARE(s.prompt(), long_prompt);  // never cut without asking

        // "Edit the prompt": the beginning that does not fit is selected, nothing cut.
        QTest::mouseClick(banner->editButton(), Qt::LeftButton);
        const QTextCursor cursor = editor->textCursor();
        QCOMPARE(cursor.selectionStart(), 0);
        const int cut = cursor.selectionEnd();
        QVERIFY(cut > 0 && cut < long_prompt.size());
        QCOMPARE(cursor.selectedText(), long_prompt.left(cut));
        QVERIFY(prompt_token_count(*s.model()->tokenizer, long_prompt.mid(cut).toStdString()) <=
                128);
        QCOMPARE(s.prompt(), long_prompt);
        QVERIFY(banner->isVisible());

        // "Keep the last 128 tokens": the prompt becomes its end, and is analyzed.
        QTest::mouseClick(banner->keepButton(), Qt::LeftButton);
        QCOMPARE(s.prompt(), long_prompt.mid(cut));
        QCOMPARE(editor->toPlainText(), s.prompt());
        QVERIFY(s.tokens().size() <= 128 && s.tokens().size() >= 126);
        QVERIFY(!banner->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 20000);
        QCOMPARE(static_cast<size_t>(s.trace()->logits.rows()), s.tokens().size());
        QCOMPARE(errors.count(), 0);
    }

    void cancelling_an_analysis_keeps_the_last_one() {
        Session s;
        MainWindow w(&s);
        w.show();
        auto* stop = w.findChild<QAction*>("stopAnalysis");
        QVERIFY(stop);
        s.setPrompt("Once upon a time");
        QVERIFY(open_and_wait(s, sample_path("stories")));
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 20000);
        const auto finished = s.trace();
        s.runner().setExtraLatencyForTesting(300);
        QSignalSpy ready(&s, &Session::analysisReady);
        s.setPrompt("The cat sat on the mat");
        s.analyzeNow();
        QVERIFY(s.analyzing());
        stop->trigger();  // View > Stop Analysis
        QTRY_VERIFY_WITH_TIMEOUT(!s.analyzing(), 5000);
        QTest::qWait(100);
        QCOMPARE(ready.count(), 0);
        QCOMPARE(s.trace(), finished);  // the cancelled result is never shown

        // Cancelling generation: nothing is appended.
        s.generate(40);
        QVERIFY(s.analyzing());
        s.cancelAnalysis();
        QTRY_VERIFY_WITH_TIMEOUT(!s.analyzing(), 5000);
        QTest::qWait(100);
        QCOMPARE(s.prompt(), QString("The cat sat on the mat"));

        // Cancelling a pending (debounced) analysis, then analyzing again, works.
        s.setPrompt("The dog");
        QVERIFY(s.analyzing());
        s.cancelAnalysis();
        QVERIFY(!s.analyzing());
        s.runner().setExtraLatencyForTesting(0);
        s.analyzeNow();
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 20000);
        QCOMPARE(ready.count(), 1);
    }

    void opening_another_model_mid_analysis() {
        Session s;
        MainWindow w(&s);
        w.show();
        s.setPrompt("Once upon a time");
        QVERIFY(open_and_wait(s, sample_path("stories")));
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 20000);
        s.runner().setExtraLatencyForTesting(300);
        s.setPrompt("Lily went to the park");
        s.analyzeNow();
        QVERIFY(s.analyzing());
        QVERIFY(open_and_wait(s, sample_path("sort")));
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 20000);
        QTest::qWait(400);  // the stories analysis, had it not been dropped, would land now
        QCOMPARE(s.model()->config.vocab_size, 257);
        QCOMPARE(static_cast<int>(s.trace()->logits.cols()), 257);
        QCOMPARE(s.trace()->ids, s.tokens());

        // And a session file opened mid-analysis, whose model differs: its state, not a mix.
        QTemporaryDir dir;
        SessionState state;
        state.model_path = QFileInfo(sample_path("stories")).absoluteFilePath();
        state.prompt = "Ben had a red kite";
        write_session_file(dir.filePath("s.paramscope"), state);
        s.setPrompt("3 1 2");
        s.analyzeNow();
        QSignalSpy applied(w.sessionFiles(), &SessionFiles::sessionApplied);
        QVERIFY(w.sessionFiles()->open(dir.filePath("s.paramscope")));
        QVERIFY(applied.wait(20000));
        QTRY_VERIFY_WITH_TIMEOUT(settled(s), 20000);
        QCOMPARE(s.model()->config.vocab_size, 1024);
        QCOMPARE(s.prompt(), state.prompt);
        QCOMPARE(s.trace()->ids, s.tokens());
    }

    void closing_the_window_mid_analysis() {
        QTemporaryDir dir;
        auto* s = new Session;
        auto* w = new MainWindow(s);
        w->show();
        w->sessionFiles()->setAutosavePath(dir.filePath("autosave.paramscope"));
        s->setPrompt("Once");
        QVERIFY(open_and_wait(*s, sample_path("stories")));
        QTRY_VERIFY_WITH_TIMEOUT(settled(*s), 20000);
        s->runner().setExtraLatencyForTesting(400);
        s->setPrompt("Once upon a time there was");
        s->analyzeNow();
        QVERIFY(s->analyzing());
        w->close();
        delete w;  // the views go while the worker runs
        QCOMPARE(read_session_file(dir.filePath("autosave.paramscope")).prompt,
                 QString("Once upon a time there was"));
        QTRY_VERIFY_WITH_TIMEOUT(settled(*s), 20000);  // the result lands in the session alone

        // The session itself going mid-analysis and mid-load: its destructor waits for the
        // workers, and their results are never delivered.
        s->setPrompt("Lily");
        s->analyzeNow();
        QVERIFY(s->analyzing());
        delete s;
        auto* loading = new Session;
        auto* w2 = new MainWindow(loading);
        loading->openModel(sample_path("stories"));
        QVERIFY(loading->loading());
        delete w2;
        delete loading;
        QTest::qWait(100);
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiBounds)
#include "test_gui_bounds.moc"
