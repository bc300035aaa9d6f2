// Every view of the app renders a model of each new architecture (the small random models of
// tests/support/decoder_fixtures.h, in Hugging Face layout): the model opens, the analysis
// settles, and each view exports a PNG that is not blank.
#include <QTemporaryDir>
#include <QtTest>
#include <memory>
#include <set>

#include "app/gui/main_window.h"
#include "app/gui/view_export.h"
#include "app/session/session.h"
#include "core/analysis/param_stats.h"
#include "tests/support/decoder_fixtures.h"
#include "tests/support/gui_session.h"
#include "tests/support/suite.h"

using namespace ps;

class TestGuiModernArchs : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
    }

    void every_view_renders_each_architecture() {
        QTemporaryDir dir;
        const int vocab = test::decoder_vocab_size();
        for (const test::DecoderSpec& spec : test::modern_decoder_specs()) {
            const std::string path = dir.filePath(QString::fromStdString(spec.label)).toStdString();
            test::write_hf_decoder(path, spec, test::random_decoder_weights(spec, vocab, 2), "F32");
            Session session;
            MainWindow window(&session);
            window.resize(1280, 800);
            session.setPrompt("the cat sat on the mat");
            QVERIFY2(test::open_and_wait(session, QString::fromStdString(path)),
                     spec.label.c_str());
            QTRY_VERIFY_WITH_TIMEOUT(test::settled(session), 20000);
            QCOMPARE(parameter_formula(*session.model()).value, session.model()->totals().total());
            for (const QString& name : window.viewNames()) {
                const QString png =
                    dir.filePath(QString::fromStdString(spec.label) + "-" + name + ".png");
                QVERIFY2(export_view(&window, &session, name, png, 640, 400, 96),
                         qPrintable(QString::fromStdString(spec.label) + " " + name));
                const QImage image(png);
                QVERIFY2(image.size() == QSize(640, 400),
                         qPrintable(QString::fromStdString(spec.label) + " " + name));
                std::set<QRgb> colours;
                for (int y = 0; y < image.height() && colours.size() < 3; y += 7)
                    for (int x = 0; x < image.width() && colours.size() < 3; x += 7)
                        colours.insert(image.pixel(x, y));
                QVERIFY2(colours.size() >= 3,
                         qPrintable(QString::fromStdString(spec.label) + " " + name + " is blank"));
            }
        }
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiModernArchs)
#include "test_gui_modern_archs.moc"
