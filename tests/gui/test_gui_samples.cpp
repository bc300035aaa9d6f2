// The sample models the project ships: each opens in the app and in `paramscope info` with the
// parameter count its configuration implies, the File menu lists them, and `paramscope`
// without a model opens the language sample.
#include <QJsonDocument>
#include <QJsonObject>
#include <QMenu>
#include <QMenuBar>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QtTest>

#include "app/gui/main_window.h"
#include "app/gui/samples.h"
#include "app/session/session.h"
#include "core/analysis/param_stats.h"
#include "core/model/model.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

using namespace ps;

class TestGuiSamples : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
    }

    void samples_are_there() {
        const QStringList names = sample_names();
        QVERIFY2(names.contains("stories"), qPrintable(samples_dir()));
        QVERIFY(names.contains("sort"));
        QVERIFY(names.contains("stories260K"));
        QVERIFY(default_sample().endsWith("/stories"));
        // stories260K opens through its checkpoint (its tokenizer is found beside it).
        QVERIFY(sample_path("stories260K").endsWith("/stories260K/stories260K.bin"));
        QVERIFY(sample_path("stories").endsWith("/stories"));
    }

    void each_sample_opens_and_counts_its_parameters() {
        for (const QString& name : sample_names()) {
            Session s;
            QSignalSpy changed(&s, &Session::modelChanged);
            s.setPrompt("Once upon a time");
            s.openModel(sample_path(name));
            QVERIFY2(changed.wait(20000), qPrintable(name));
            QCOMPARE(s.model()->config.arch, name == "stories260K" ? Arch::Llama : Arch::Gpt2);
            const int64_t total = s.model()->totals().total();
            QCOMPARE(total, parameter_formula(s.model()->config).value);
            QTRY_VERIFY_WITH_TIMEOUT(s.trace() && s.trace()->ids == s.tokens(), 20000);
            QVERIFY(s.distribution() != nullptr);

            const auto info = test::run_cli({"info", sample_path(name), "--json"});
            QVERIFY2(info.exit_code == 0, info.err.constData());
            const QJsonObject parameters =
                QJsonDocument::fromJson(info.out).object()["parameters"].toObject();
            QCOMPARE(static_cast<int64_t>(parameters["total"].toInteger()), total);
        }
    }

    void stories260k_is_karpathys_with_its_licence() {
        // The shipped copy is the file the reference engines ran (../shared), byte for byte,
        // with the MIT licence and the attribution it requires.
        for (const char* file : {"stories260K.bin", "tok512.bin"}) {
            PS_REQUIRE_SHARED(reference, QString("models/stories260K/") + file);
            QFile a(QString::fromStdString(reference)), b(samples_dir() + "/stories260K/" + file);
            QVERIFY(a.open(QIODevice::ReadOnly) && b.open(QIODevice::ReadOnly));
            QVERIFY2(a.readAll() == b.readAll(), file);
        }
        QFile licence(samples_dir() + "/stories260K/LICENSE");
        QVERIFY(licence.open(QIODevice::ReadOnly));
        const QByteArray text = licence.readAll();
        QVERIFY(text.startsWith("MIT License") && text.contains("Copyright (c) 2023 Andrej"));
        QFile readme(samples_dir() + "/stories260K/README.md");
        QVERIFY(readme.open(QIODevice::ReadOnly));
        QVERIFY(readme.readAll().contains("https://github.com/karpathy/llama2.c"));
    }

    void file_menu_lists_the_samples() {
        Session s;
        MainWindow w(&s);
        QMenu* samples = w.findChild<QMenu*>("samplesMenu");
        QVERIFY(samples);
        QStringList titles;
        for (QAction* a : samples->actions()) titles << a->text();
        QCOMPARE(titles, sample_names());
    }

    void no_model_opens_the_language_sample() {
        QTemporaryDir dir;
        qputenv("XDG_CONFIG_HOME", dir.filePath("config").toUtf8());
        const QString png = dir.filePath("window.png");
        const auto r = test::run_cli({"--prompt", "Lily went to the", "--view", "distribution",
                                      "--size", "800x500", "--screenshot", png});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QCOMPARE(QImage(png).size(), QSize(800, 500));
        // Without samples (and no model used before) there is nothing to open.
        qputenv("XDG_CONFIG_HOME", dir.filePath("fresh-config").toUtf8());
        qputenv("PARAMSCOPE_SAMPLES", dir.filePath("no-samples").toUtf8());
        QDir().mkpath(dir.filePath("no-samples"));
        const auto none = test::run_cli({"--screenshot", png});
        qunsetenv("PARAMSCOPE_SAMPLES");
        QCOMPARE(none.exit_code, 1);
        QVERIFY2(none.err.contains("needs a MODEL"), none.err.constData());
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiSamples)
#include "test_gui_samples.moc"
