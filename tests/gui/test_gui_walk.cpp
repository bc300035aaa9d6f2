// The guided walk, the explanations, presentation mode and export, on the stories sample
// (offscreen): the walk visits every step forward and back from the keyboard, raising and
// framing each step's view with the trace's own numbers; every concept and view has a text;
// presentation mode takes a view full screen and puts it back; text size and theme reach the
// widgets and the plots; every view exports PNG (size and DPI), SVG, PDF and CSV; the trace
// exported from the app has the tensors `paramscope trace` writes.
#include "views/widgets/custom_plot.h"

#include <QDockWidget>
#include <QLabel>
#include <QPlainTextEdit>
#include <QSignalSpy>
#include <QSplitter>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QToolButton>
#include <QtTest>
#include <algorithm>
#include <memory>

#include "app/gui/main_window.h"
#include "app/gui/presenter.h"
#include "app/gui/samples.h"
#include "app/gui/view_export.h"
#include "app/session/session.h"
#include "core/analysis/intervention_effect.h"
#include "core/formats/safetensors.h"
#include "tests/support/gui_session.h"
#include "tests/support/gui_window.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"
#include "views/distribution/distribution_chart.h"
#include "views/distribution/distribution_view.h"
#include "views/walk/explanations.h"
#include "views/walk/guided_walk.h"
#include "views/walk/help_button.h"
#include "views/widgets/overlays.h"
#include "views/widgets/theme.h"

using namespace ps;
using ps::test::settled;

namespace {

// The views this project ships (others may be added by other parts of the app).
const QStringList kViews = {"prompt",  "tokens",     "distribution", "parameters", "logit-lens",
                            "neurons", "embeddings", "attention",    "walk"};

const QString kPrompt = "Once upon a time, there was a little girl named Lily. She went to the";

bool contains_digit(const QString& s) {
    return std::any_of(s.begin(), s.end(), [](QChar c) { return c.isDigit(); });
}

QString english(int n) {
    return QLocale(QLocale::English).toString(n);
}

// The index of the largest of v[0..n), the lowest on ties.
int argmax(const float* v, int n) {
    return static_cast<int>(std::max_element(v, v + n) - v);
}

}  // namespace

class TestGuiWalk : public QObject {
    Q_OBJECT
    std::unique_ptr<Session> session_;
    std::unique_ptr<MainWindow> window_;

    QWidget* stepView(const WalkStep& step) const { return window_->view(step.view); }

    // Checks the shown step: its view raised (visible) and framed, and its text.
    void checkStep(int index) {
        GuidedWalk* walk = window_->walk();
        QCOMPARE(walk->current(), index);
        const WalkStep& step = walk->step(index);
        QWidget* view = stepView(step);
        QVERIFY2(view && view->isVisible(), qPrintable(step.title));
        QWidget* framed = window_->presenter()->highlighted();
        QVERIFY2(framed == view || view->isAncestorOf(framed), qPrintable(step.title));
        // Turning a dial (entering or leaving that step) re-runs the model: its numbers follow.
        if (step.kind == WalkStepKind::TurnDial)
            QTRY_VERIFY_WITH_TIMEOUT(walk->numbersText().contains("KL divergence"), 20000);
        QTRY_VERIFY_WITH_TIMEOUT(settled(*session_), 10000);
        const QString numbers = walk->numbersText();
        const int vocab = session_->model()->config.vocab_size;
        QVERIFY2(contains_digit(numbers), qPrintable(step.title + ": " + numbers));
        QVERIFY(!walk->explanationText().isEmpty());
        QVERIFY(walk->titleText() == step.title);

        // The numbers are the trace's: one per kind of step, recomputed here.
        const Trace& t = *session_->trace();
        const int p = session_->position();
        auto shown = [&](double v, int decimals) {
            return numbers.contains(QString::number(v, 'f', decimals));
        };
        switch (step.kind) {
            case WalkStepKind::Tokens:
                QVERIFY(numbers.contains(QString("%1 tokens").arg(t.ids.size())));
                break;
            case WalkStepKind::Embeddings:
                QVERIFY(shown(t.embed(p, 0), 3) && shown(t.embed(p, 1), 3));
                break;
            case WalkStepKind::Attention: {
                QCOMPARE(session_->layer(), step.layer);
                const auto row = t.layers[size_t(step.layer)].head_pattern(session_->head()).row(p);
                QVERIFY2(shown(row.head(p + 1).maxCoeff(), 3), qPrintable(numbers));
                break;
            }
            case WalkStepKind::Mlp: {
                const auto& post = t.layers[size_t(step.layer)].mlp_post;
                const int top = argmax(post.row(p).data(), static_cast<int>(post.cols()));
                QCOMPARE(session_->neuron(), top);
                QCOMPARE(session_->layer(), step.layer);
                QVERIFY(numbers.contains(QString("#%1").arg(top)));
                QVERIFY(shown(post(p, top), 3));
                break;
            }
            case WalkStepKind::FinalNorm:
                QCOMPARE(session_->layer(), session_->model()->config.n_layers - 1);
                QVERIFY(shown(t.ln_final.row(p).norm(), 2));
                break;
            case WalkStepKind::Logits: {
                const float* logits = session_->logitsAt(p);
                QVERIFY(shown(logits[argmax(logits, vocab)], 2));
                break;
            }
            case WalkStepKind::Chosen: {
                const Distribution* d = session_->distribution();
                QVERIFY(shown(d->p_final[size_t(d->ranked[0])], 3));
                break;
            }
            case WalkStepKind::Temperature: {
                const Distribution* d = session_->distribution();
                QVERIFY(shown(d->p_raw[size_t(d->ranked[0])], 3));
                break;
            }
            case WalkStepKind::TurnDial: {
                const float* before = session_->baselineLogitsAt(p);
                QVERIFY(before && session_->intervened());
                const InterventionEffect e =
                    intervention_effect(before, session_->logitsAt(p), vocab, 1);
                QVERIFY2(numbers.contains(QString::number(e.kl_divergence, 'g', 4)),
                         qPrintable(numbers));
                break;
            }
            default:
                QVERIFY(numbers.contains(QString("of %1 tokens").arg(english(vocab))));
        }
    }

  private slots:
    void initTestCase() {
        QVERIFY(ps::test::open_main_window(session_, window_, QSize(1400, 860), kPrompt,
                                           sample_path("stories")));
    }

    void cleanupTestCase() {
        window_.reset();
        session_.reset();
    }

    void explanations_cover_concepts_and_views() {
        for (const char* topic : {"embeddings", "weights", "biases", "neurons", "layers",
                                  "attention", "logits", "temperature", "top-k", "top-p", "min-p"})
            QVERIFY2(concept_topics().contains(topic), qPrintable(topic));
        for (const QString& topic : concept_topics()) {
            const QString text = explanation_markdown(topic);
            QVERIFY2(text.startsWith("# ") && text.size() > 200, qPrintable(topic));
        }
        QVERIFY(explanation_markdown("no-such-topic").isEmpty());
        // Every view this project ships has its text and a "?" that shows it.
        for (const QString& name : kViews) {
            QVERIFY2(window_->viewNames().contains(name), qPrintable(name));
            QVERIFY2(!explanation_markdown("view-" + name).isEmpty(), qPrintable(name));
            QWidget* view = window_->view(name);
            QWidget* holder =
                qobject_cast<QDockWidget*>(view->parentWidget())
                    ? static_cast<QDockWidget*>(view->parentWidget())->titleBarWidget()
                    : view;
            QToolButton* help = nullptr;
            for (auto* b : holder->findChildren<QToolButton*>("helpButton"))
                if (b->property("topic").toString() == "view-" + name) help = b;
            QVERIFY2(help, qPrintable(name));
        }
        QWidget* shown = show_explanation(window_->view("attention"), "view-attention");
        QVERIFY(shown && shown->isVisible());
        // On the screen, though its view is behind another tab (no place on the screen).
        QVERIFY2(shown->screen()->availableGeometry().contains(shown->geometry()),
                 qPrintable(QString("%1,%2").arg(shown->x()).arg(shown->y())));
        const auto* text = shown->findChild<QTextBrowser*>("explanationText");
        QVERIFY(text->toPlainText().contains("query"));
        shown->close();
    }

    void walk_visits_every_step_forward_and_back() {
        GuidedWalk* walk = window_->walk();
        const Config& c = session_->model()->config;
        QCOMPARE(walk->stepCount(), 2 * c.n_layers + 10);  // ... the chosen token, turn a dial
        window_->presenter()->startWalk(0);
        QVERIFY(walk->isVisible());
        QTRY_VERIFY(walk->hasFocus());
        checkStep(0);
        // Forward with every forward key, then back with every back key.
        const Qt::Key forward[] = {Qt::Key_Right, Qt::Key_PageDown, Qt::Key_Space};
        for (int i = 1; i < walk->stepCount(); ++i) {
            QTest::keyClick(walk, forward[i % 3]);
            checkStep(i);
        }
        QTest::keyClick(walk, Qt::Key_Right);  // the last step stays the last
        QCOMPARE(walk->current(), walk->stepCount() - 1);
        const Qt::Key backward[] = {Qt::Key_Left, Qt::Key_PageUp};
        for (int i = walk->stepCount() - 2; i >= 0; --i) {
            QTest::keyClick(walk, backward[i % 2]);
            checkStep(i);
        }
        QTest::keyClick(walk, Qt::Key_Left);
        QCOMPARE(walk->current(), 0);
    }

    void walk_numbers_follow_sampling_settings() {
        GuidedWalk* walk = window_->walk();
        int top_k_step = -1;
        for (int i = 0; i < walk->stepCount(); ++i)
            if (walk->step(i).kind == WalkStepKind::TopK) top_k_step = i;
        walk->go(top_k_step);
        QVERIFY(walk->numbersText().contains("off"));
        SamplingSettings s = session_->sampling();
        s.top_k = 7;
        session_->setSampling(s);
        const int vocab = session_->model()->config.vocab_size;
        QVERIFY2(walk->numbersText().contains(QString("removed %1 tokens").arg(english(vocab - 7))),
                 qPrintable(walk->numbersText()));
        session_->setSampling(SamplingSettings());
    }

    void presentation_mode_takes_a_view_and_puts_it_back() {
        Presenter* presenter = window_->presenter();
        QWidget* view = window_->view("distribution");
        auto* dock = qobject_cast<QDockWidget*>(view->parentWidget());
        QVERIFY(dock);
        QVERIFY(presenter->present("distribution"));
        QVERIFY(presenter->presenting());
        QCOMPARE(view->window(), presenter->stage());
        QVERIFY(presenter->stage()->windowState() & Qt::WindowFullScreen);
        QVERIFY(QTest::qWaitForWindowExposed(presenter->stage()));
        // The pointer ring follows the mouse over the presented view.
        PointerRing* ring = presenter->pointerRing();
        QVERIFY(ring && ring->isVisible());
        const QPoint local = view->mapTo(presenter->stage(), view->rect().center());
        QCursor::setPos(presenter->stage()->mapToGlobal(local));
        QCOMPARE(QCursor::pos(), presenter->stage()->mapToGlobal(local));
        ring->followPointer();
        QCOMPARE(ring->center(), local);
        // Outside the window there is no ring.
        QCursor::setPos(presenter->stage()->mapToGlobal(QPoint(-50, -50)));
        ring->followPointer();
        QVERIFY(ring->center().isNull());
        // Another view replaces it; the first goes home.
        QVERIFY(presenter->present("tokens"));
        QCOMPARE(dock->widget(), view);
        QCOMPARE(window_->view("tokens")->window(), presenter->stage());
        presenter->leave();
        QVERIFY(!presenter->presenting());
        auto* center = window_->findChild<QSplitter*>("center");
        QCOMPARE(center->indexOf(window_->view("tokens")), 1);
        QCOMPARE(window_->view("tokens")->window(), window_.get());

        // F5 presents the view last used; Escape leaves.
        window_->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(window_.get()));
        QTest::keyClick(window_.get(), Qt::Key_F5);
        QVERIFY(presenter->presenting());
        QVERIFY(QTest::qWaitForWindowActive(presenter->stage()));
        QWidget* focus = QApplication::focusWidget();
        QTest::keyClick(focus ? focus : presenter->stage(), Qt::Key_Escape);
        QVERIFY(!presenter->presenting());
        QCOMPARE(view->window(), window_.get());
    }

    void walk_drives_the_presented_view() {
        Presenter* presenter = window_->presenter();
        GuidedWalk* walk = window_->walk();
        presenter->startWalk(0);
        QVERIFY(presenter->present(walk->step(0).view));
        auto* caption = presenter->stage()->findChild<QLabel*>("presentationCaption");
        QVERIFY(caption && caption->isVisible());
        QVERIFY(QTest::qWaitForWindowActive(presenter->stage()));
        for (int i = 1; i < walk->stepCount(); ++i) {
            QTest::keyClick(presenter->stage(), Qt::Key_PageDown);
            QCOMPARE(walk->current(), i);
            QCOMPARE(presenter->presentedView(), walk->step(i).view);
            QCOMPARE(stepView(walk->step(i))->window(), presenter->stage());
            QVERIFY(caption->text().contains(walk->step(i).title.toHtmlEscaped()));
        }
        QTest::keyClick(presenter->stage(), Qt::Key_PageUp);
        QCOMPARE(walk->current(), walk->stepCount() - 2);
        presenter->leave();
        for (const QString& name : window_->viewNames())
            QVERIFY2(window_->view(name)->window() == window_.get(), qPrintable(name));
    }

    void keyboard_navigation_moves_the_selection() {
        window_->activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(window_.get()));
        QWidget* target = window_->view("distribution");
        session_->selectHead(0, 0);
        session_->selectPosition(3);
        QTest::keyClick(target, Qt::Key_Down, Qt::AltModifier);
        QCOMPARE(session_->layer(), 1);
        QTest::keyClick(target, Qt::Key_Right, Qt::AltModifier);
        QTest::keyClick(target, Qt::Key_Right, Qt::AltModifier);
        QCOMPARE(session_->head(), 2);
        QTest::keyClick(target, Qt::Key_Left, Qt::AltModifier);
        QCOMPARE(session_->head(), 1);
        QTest::keyClick(target, Qt::Key_Up, Qt::AltModifier);
        QTest::keyClick(target, Qt::Key_Up, Qt::AltModifier);  // clamped at 0
        QCOMPARE(session_->layer(), 0);
        QTest::keyClick(target, Qt::Key_Right, Qt::ControlModifier);
        QCOMPARE(session_->position(), 4);
        QTest::keyClick(target, Qt::Key_Left, Qt::ControlModifier);
        QTest::keyClick(target, Qt::Key_Left, Qt::ControlModifier);
        QCOMPARE(session_->position(), 2);
        session_->selectPosition(-1);
    }

    void font_scaling_reaches_widgets_and_plots() {
        Appearance& a = Appearance::instance();
        auto* chart = qobject_cast<DistributionView*>(window_->view("distribution"))->chart();
        auto* prompt = qobject_cast<QPlainTextEdit*>(window_->view("prompt"));
        chart->replot();
        const double app0 = QApplication::font().pointSizeF();
        const double tick0 = chart->yAxis->tickLabelFont().pointSizeF();
        const double prompt0 = prompt->font().pointSizeF();
        a.zoomIn();
        a.zoomIn();
        const double factor = Appearance::kStep * Appearance::kStep;
        QCOMPARE(a.fontScale(), factor);
        QVERIFY(std::abs(QApplication::font().pointSizeF() - app0 * factor) < 1e-6);
        QVERIFY(std::abs(prompt->font().pointSizeF() - prompt0 * factor) < 1e-6);
        chart->replot();
        QVERIFY(std::abs(chart->yAxis->tickLabelFont().pointSizeF() - tick0 * factor) < 1e-6);
        a.setFontScale(1.0);
        chart->replot();
        QCOMPARE(QApplication::font().pointSizeF(), app0);
        QCOMPARE(prompt->font().pointSizeF(), prompt0);
        QCOMPARE(chart->yAxis->tickLabelFont().pointSizeF(), tick0);
    }

    void theme_switch_changes_palette_and_plots() {
        Appearance& a = Appearance::instance();
        auto* chart = qobject_cast<DistributionView*>(window_->view("distribution"))->chart();
        const QPalette system = QApplication::palette();
        const QColor tick0 = chart->yAxis->tickLabelColor();
        // A colour the view chose itself (the cumulative axis) is kept in every theme.
        const QColor own0 = chart->yAxis2->tickLabelColor();
        a.setTheme(Theme::Dark);
        QVERIFY(QApplication::palette().color(QPalette::Window).lightness() < 60);
        QTRY_VERIFY(window_->palette().color(QPalette::WindowText).lightness() > 200);
        chart->replot();
        QVERIFY(chart->yAxis->tickLabelColor().lightness() > 200);
        QCOMPARE(chart->yAxis2->tickLabelColor(), own0);
        const QImage dark = chart->toPixmap(200, 120).toImage();
        QVERIFY(QColor(dark.pixel(2, 2)).lightness() < 60);
        a.setTheme(Theme::HighContrastLight);
        QCOMPARE(QApplication::palette().color(QPalette::Window), QColor(Qt::white));
        QCOMPARE(QApplication::palette().color(QPalette::WindowText), QColor(Qt::black));
        chart->replot();
        QCOMPARE(chart->yAxis->tickLabelColor().lightness(), 0);
        a.setTheme(Theme::System);
        QCOMPARE(QApplication::palette().color(QPalette::Window), system.color(QPalette::Window));
        chart->replot();
        QCOMPARE(chart->yAxis->tickLabelColor(), tick0);
        const QImage light = chart->toPixmap(200, 120).toImage();
        QVERIFY(QColor(light.pixel(2, 2)).lightness() > 240);
    }

    void every_view_exports_png_svg_pdf_csv() {
        window_->presenter()->startWalk(2);
        QTemporaryDir dir;
        for (const QString& name : window_->viewNames()) {
            const QString base = dir.filePath(name);
            QVERIFY2(export_view(window_.get(), session_.get(), name, base + ".png", 640, 400, 144),
                     qPrintable(name));
            const QImage png(base + ".png");
            QCOMPARE(png.size(), QSize(640, 400));
            QCOMPARE(png.dotsPerMeterX(), static_cast<int>(std::lround(144 / 0.0254)));
            // Views of this project all write CSV; one added elsewhere may have no data to write.
            const bool csv = kViews.contains(name) ||
                             view_export(window_.get(), session_.get(), name).csv != nullptr;
            for (const char* suffix : {".svg", ".pdf", ".csv"}) {
                if (!csv && QString(suffix) == ".csv") continue;
                QVERIFY2(export_view(window_.get(), session_.get(), name, base + suffix),
                         qPrintable(name + suffix));
                QVERIFY2(QFileInfo(base + suffix).size() > 100, qPrintable(name + suffix));
            }
        }
        QFile tokens(dir.filePath("tokens.csv"));
        QVERIFY(tokens.open(QIODevice::ReadOnly));
        const QList<QByteArray> lines = tokens.readAll().trimmed().split('\n');
        QCOMPARE(lines.first(), QByteArray("position,id,token,piece"));
        QCOMPARE(lines.size(), static_cast<int>(session_->tokens().size()) + 1);
        QFile walk(dir.filePath("walk.csv"));
        QVERIFY(walk.open(QIODevice::ReadOnly));
        QCOMPARE(walk.readAll().count("\n2,"), 1);
    }

    void trace_export_matches_the_cli() {
        QTemporaryDir dir;
        const QString gui = dir.filePath("gui.safetensors"), cli = dir.filePath("cli.safetensors");
        QString error;
        QVERIFY2(export_trace(*session_, gui, &error), qPrintable(error));
        const auto r =
            test::run_cli({"trace", sample_path("stories"), "--text", kPrompt, "--out", cli});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        SafetensorsFile a(gui.toStdString()), b(cli.toStdString());
        QCOMPARE(a.metadata().at("ids"), b.metadata().at("ids"));
        QCOMPARE(a.tensors().size(), b.tensors().size());
        const Config& c = session_->model()->config;
        const int64_t T = static_cast<int64_t>(session_->tokens().size());
        for (const SafetensorsTensor& t : b.tensors()) {
            const SafetensorsTensor* mine = a.find(t.name);
            QVERIFY2(mine, t.name.c_str());
            QCOMPARE(mine->shape, t.shape);
            QCOMPARE(mine->dtype, std::string("F32"));
        }
        QCOMPARE(a.find("blocks.0.attn.hook_pattern")->shape,
                 (std::vector<int64_t>{c.n_heads, T, T}));
        QCOMPARE(a.find("logits")->shape, (std::vector<int64_t>{T, c.vocab_size}));
        // Same numbers as the CLI's forward pass.
        const auto* la = reinterpret_cast<const float*>(a.find("logits")->data);
        const auto* lb = reinterpret_cast<const float*>(b.find("logits")->data);
        float worst = 0;
        for (int64_t i = 0; i < T * c.vocab_size; ++i)
            worst = std::max(worst, std::abs(la[i] - lb[i]));
        QVERIFY2(worst < 1e-4f, qPrintable(QString::number(worst)));
    }

    void screenshot_of_the_walk() {
        QTemporaryDir dir;
        qputenv("XDG_CONFIG_HOME", dir.filePath("config").toUtf8());
        const QString png = dir.filePath("walk.png");
        const auto r =
            test::run_cli({sample_path("stories"), "--prompt", kPrompt, "--view", "walk",
                           "--walk-step", "3", "--size", "1900x900", "--screenshot", png});
        QVERIFY2(r.exit_code == 0, r.err.constData());
        QCOMPARE(QImage(png).size(), QSize(1900, 900));
        const auto bad =
            test::run_cli({sample_path("stories"), "--theme", "purple", "--screenshot", png});
        QCOMPARE(bad.exit_code, 1);
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiWalk)
#include "test_gui_walk.moc"
