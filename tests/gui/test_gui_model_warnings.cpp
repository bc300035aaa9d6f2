// A model that loads with warnings (tensors holding NaN or infinite values) shows them in the
// main window (offscreen): a banner naming the tensor, dismissable, gone once a clean model is
// opened and back when the broken one is reopened; with many warnings the first few and "and N
// more". The parameters view counts the NaN/Inf values of the broken tensor, in red, and shows
// a zero count plainly for tensors without any.
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QTreeWidgetItemIterator>
#include <QtTest>
#include <cstring>
#include <filesystem>
#include <limits>

#include "app/gui/main_window.h"
#include "app/session/session.h"
#include "core/model/model.h"
#include "tests/support/gui_session.h"
#include "tests/support/hf_writer.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "tests/support/tiny_fixtures.h"
#include "views/parameters/parameter_histogram.h"
#include "views/parameters/parameter_inventory.h"
#include "views/parameters/parameters_view.h"
#include "views/prompt/model_warnings_banner.h"

using namespace ps;
using ps::test::open_and_wait;

namespace {

constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();
constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr size_t kHeaderBytes = 28;  // llama2.c's seven int32 config fields

int tensor_index(const Model& model, const std::string& name) {
    for (size_t i = 0; i < model.tensors.size(); ++i)
        if (model.tensors[i].name == name) return static_cast<int>(i);
    return -1;
}

// The statistics line the parameters view shows under its histogram.
QString stats_text(ParametersView* view) {
    auto* label = view->histogram()->findChild<QLabel*>("stats");
    return label ? label->text() : QString();
}

}  // namespace

class TestGuiModelWarnings : public QObject {
    Q_OBJECT
    QTemporaryDir tmp_;
    ps::test::Llama2cShape shape_;
    QString clean_, one_bad_, all_bad_;

    // A llama2.c checkpoint and tokenizer in their own directory, with `edit` applied to the
    // checkpoint's bytes; returns the checkpoint's path.
    template <typename Edit>
    QString write_model(const QString& name, Edit edit) {
        const std::string dir = (tmp_.path() + "/" + name).toStdString();
        std::filesystem::create_directories(dir);
        std::string bytes = ps::test::llama2c_checkpoint(shape_);
        edit(bytes);
        ps::test::write_file(dir + "/model.bin", bytes);
        ps::test::write_file(dir + "/tokenizer.bin",
                             ps::test::llama2c_tokenizer_file(shape_.vocab));
        return QString::fromStdString(dir + "/model.bin");
    }

  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
        QVERIFY(tmp_.isValid());
        shape_.shared_classifier = false;
        shape_.layers = 2;
        clean_ = write_model("clean", [](std::string&) {});
        // Token 3's embedding row starts with a NaN and an infinity.
        one_bad_ = write_model("one_bad", [this](std::string& bytes) {
            const float bad[2] = {kNaN, kInf};
            std::memcpy(bytes.data() + kHeaderBytes + 4 * (3 * shape_.dim), bad, sizeof bad);
        });
        // Every weight NaN: a warning for each tensor (the loader lists 8, then counts).
        all_bad_ = write_model("all_bad", [](std::string& bytes) {
            for (size_t at = kHeaderBytes; at + 4 <= bytes.size(); at += 4)
                std::memcpy(bytes.data() + at, &kNaN, 4);
        });
    }

    void the_banner_names_the_broken_tensor_until_a_clean_model_is_opened() {
        Session s;
        MainWindow w(&s);
        w.show();
        auto* banner = w.findChild<ModelWarningsBanner*>("modelWarnings");
        QVERIFY(banner);
        QVERIFY(!banner->isVisible());  // no model yet

        QVERIFY(open_and_wait(s, one_bad_));
        QCOMPARE(s.model()->warnings.size(), size_t(1));
        QVERIFY(banner->isVisible());
        QCOMPARE(banner->warnings().size(), 1);
        QVERIFY2(banner->message().contains("tensor 'tok_embeddings.weight' has 1 NaN and 1 "
                                            "infinite values"),
                 qPrintable(banner->message()));
        QVERIFY(!banner->message().contains("more"));
        QVERIFY(banner->toolTip().contains("tok_embeddings.weight"));

        // Dismissed: hidden until another model is opened.
        QTest::mouseClick(banner->dismissButton(), Qt::LeftButton);
        QVERIFY(!banner->isVisible());

        QVERIFY(open_and_wait(s, clean_));
        QVERIFY(s.model()->warnings.empty());
        QVERIFY(!banner->isVisible());
        QVERIFY(banner->warnings().isEmpty());
        QVERIFY(banner->message().isEmpty());

        QVERIFY(open_and_wait(s, one_bad_));  // not dismissed for good
        QVERIFY(banner->isVisible());
        QVERIFY(banner->message().contains("tok_embeddings.weight"));
        QVERIFY(open_and_wait(s, clean_));
        QVERIFY(!banner->isVisible());
    }

    void many_warnings_show_the_first_few_and_a_count() {
        Session s;
        MainWindow w(&s);
        w.show();
        auto* banner = w.findChild<ModelWarningsBanner*>("modelWarnings");
        QVERIFY(open_and_wait(s, all_bad_));
        const auto& warnings = s.model()->warnings;
        const int n = static_cast<int>(warnings.size());
        QVERIFY2(n > ModelWarningsBanner::kMaxListed + 1, qPrintable(QString::number(n)));
        QVERIFY(banner->isVisible());
        QCOMPARE(banner->warnings().size(), n);
        const QStringList lines = banner->message().split('\n');
        // A title, the first kMaxListed warnings in order, then the count of the rest.
        QCOMPARE(lines.size(), ModelWarningsBanner::kMaxListed + 2);
        for (int i = 0; i < ModelWarningsBanner::kMaxListed; ++i)
            QVERIFY2(lines[i + 1].endsWith(QString::fromStdString(warnings[size_t(i)])),
                     qPrintable(lines[i + 1]));
        QVERIFY2(lines.back().startsWith(
                     QString("and %1 more").arg(n - ModelWarningsBanner::kMaxListed)),
                 qPrintable(lines.back()));
        QVERIFY(!banner->message().contains(QString::fromStdString(warnings.back())));
        // The tooltip has every one, the last included.
        QVERIFY(
            banner->toolTip().contains(QString::fromStdString(warnings.back()).toHtmlEscaped()));
    }

    void the_parameters_view_counts_the_non_finite_values() {
        Session s;
        MainWindow w(&s);
        w.show();
        auto* view = qobject_cast<ParametersView*>(w.view("parameters"));
        QVERIFY(view);
        QVERIFY(open_and_wait(s, one_bad_));
        const QString red = "color:" + ParameterHistogram::nonFiniteColor().name();

        // The default selection, every weight matrix, holds no NaN: a plain zero.
        QTRY_VERIFY_WITH_TIMEOUT(view->histogram()->result() != nullptr, 20000);
        QCOMPARE(view->histogram()->result()->stats[0].non_finite, int64_t(0));
        QVERIFY2(stats_text(view).contains("NaN/Inf 0"), qPrintable(stats_text(view)));
        QVERIFY(!stats_text(view).contains(red));

        const int bad = tensor_index(*s.model(), "tok_embeddings.weight");
        QVERIFY(bad >= 0);
        view->inventory()->selectTensors({bad});
        QCOMPARE(view->inventory()->selectedTensors(), std::vector<int>{bad});
        QTRY_VERIFY_WITH_TIMEOUT(view->histogram()->result() != nullptr, 20000);
        const ValueStats& stats = view->histogram()->result()->stats[0];
        QCOMPARE(stats.count, s.model()->tensors[size_t(bad)].count);
        QCOMPARE(stats.non_finite, int64_t(2));
        const QString text = stats_text(view);
        QVERIFY2(text.contains(red + "'><b>NaN/Inf 2</b>"), qPrintable(text));
        QVERIFY(text.contains("tok_embeddings.weight"));

        // The inventory marks the broken tensor and the groups above it, and nothing else.
        int marked = 0, expected = 0;
        for (QTreeWidgetItemIterator it(view->inventory()->tree()); *it; ++it) {
            const bool is_red =
                (*it)->foreground(0).color() == ParameterHistogram::nonFiniteColor();
            marked += is_red;
            if ((*it)->data(0, Qt::UserRole + 1).toInt() == bad && (*it)->childCount() == 0) {
                QVERIFY(is_red);
                QCOMPARE((*it)->toolTip(0), QString("2 NaN or infinite values"));
                for (const QTreeWidgetItem* at = *it; at; at = at->parent()) ++expected;
            }
        }
        QVERIFY(expected >= 2);  // the tensor and its group at least
        QCOMPARE(marked, expected);
    }

    // A screenshot of a model whose logits are NaN: the run still writes the window (which says
    // why there is no distribution) and warns, where it used to stop at the first error.
    void a_screenshot_of_a_nan_model_is_taken() {
        const QString png = tmp_.filePath("nan.png");
        const auto r = ps::test::run_cli({all_bad_, "--prompt", "a b", "--screenshot", png});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QVERIFY(QFileInfo(png).size() > 0);
        QVERIFY2(r.err.contains("warning: sampling: logit of token 0 is NaN"), r.err.constData());
        // An error before any analysis still fails the run.
        const auto missing =
            ps::test::run_cli({tmp_.filePath("missing.bin"), "--prompt", "a", "--screenshot", png});
        QCOMPARE(missing.exit_code, 1);
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiModelWarnings)
#include "test_gui_model_warnings.moc"
