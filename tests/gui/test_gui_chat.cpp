// Chat mode in the window: the Chat switch appears for a model with a chat template (and only
// then), wraps the prompt in it (the tokens are the rendered template's, BOS written once by the
// template), sends generated tokens to the reply instead of the user's message, and the
// Template window shows the template read-only next to the exact text the model reads.
#include <QCheckBox>
#include <QLabel>
#include <QPlainTextEdit>
#include <QTemporaryDir>
#include <QtTest>
#include <fstream>

#include "app/gui/main_window.h"
#include "app/session/session.h"
#include "core/tokenizer/chat_template.h"
#include "tests/support/decoder_fixtures.h"
#include "tests/support/gui_session.h"
#include "tests/support/suite.h"
#include "views/prompt/chat_bar.h"

using namespace ps;

namespace {

const char* const kTemplate =
    "{{ bos_token }}{% for m in messages %}[{{ m.role }}] {{ m.content | trim }}\n"
    "{% endfor %}{% if add_generation_prompt %}[assistant]{% endif %}";

std::string write_model(const QTemporaryDir& dir, const std::string& name, bool with_template) {
    const test::DecoderSpec spec = test::modern_decoder_specs().front();
    const std::string path = dir.filePath(QString::fromStdString(name)).toStdString();
    test::write_hf_decoder(
        path, spec, test::random_decoder_weights(spec, test::decoder_vocab_size(), 3), "F32");
    if (with_template) std::ofstream(path + "/chat_template.jinja") << kTemplate;
    return path;
}

}  // namespace

class TestGuiChat : public QObject {
    Q_OBJECT
  private slots:
    void initTestCase() {
        QStandardPaths::setTestModeEnabled(true);
        QCoreApplication::setOrganizationName("ParamScopeTest");
    }

    void chatModeWrapsThePromptAndKeepsTheReplyApart() {
        QTemporaryDir dir;
        Session session;
        MainWindow window(&session);
        window.resize(1280, 800);
        window.show();
        auto* bar = window.findChild<ChatBar*>();
        QVERIFY(bar);

        session.setPrompt(" the cat ");
        QVERIFY(
            test::open_and_wait(session, QString::fromStdString(write_model(dir, "plain", false))));
        QVERIFY(!session.chatAvailable());
        QVERIFY(!bar->isVisible());  // nothing to switch for a base model

        QVERIFY(
            test::open_and_wait(session, QString::fromStdString(write_model(dir, "chat", true))));
        QTRY_VERIFY_WITH_TIMEOUT(test::settled(session), 20000);
        QVERIFY(session.chatAvailable());
        QVERIFY(bar->isVisible());
        QVERIFY(!session.chatMode());
        const Tokenizer& tok = *session.model()->tokenizer;
        const std::vector<int> plain = session.tokens();

        bar->chatSwitch()->click();
        QVERIFY(session.chatMode());
        const std::string wrapped = render_chat(tok.chat_template, {{"user", " the cat "}});
        QCOMPARE(wrapped, tok.chat_template.bos_token + "[user] the cat\n[assistant]");
        QCOMPARE(session.modelText().toStdString(), wrapped);
        QCOMPARE(session.tokens(), tok.encode(wrapped));
        QVERIFY(session.tokens() != plain);
        if (tok.bos_id >= 0)
            QCOMPARE(std::count(session.tokens().begin(), session.tokens().end(), tok.bos_id), 1);
        QTRY_VERIFY_WITH_TIMEOUT(test::settled(session), 20000);

        // A generated token is the model's turn: the user's message stays as typed.
        const size_t before = session.tokens().size();
        session.greedyNext();
        QTRY_VERIFY_WITH_TIMEOUT(session.tokens().size() == before + 1 && test::settled(session),
                                 20000);
        QCOMPARE(session.prompt(), QString(" the cat "));
        QVERIFY(!session.reply().empty());
        QCOMPARE(session.modelText().toStdString(), wrapped + session.reply());
        QVERIFY(bar->statusLabel()->text().contains("Reply so far"));

        // The template window: the source as shipped, and what the model reads.
        QWidget* dialog = bar->showTemplate();
        auto* source = dialog->findChild<QPlainTextEdit*>("chatTemplateSource");
        auto* rendered = dialog->findChild<QPlainTextEdit*>("chatTemplateRendered");
        QVERIFY(source && rendered && source->isReadOnly() && rendered->isReadOnly());
        QCOMPARE(source->toPlainText(), QString(kTemplate));
        QCOMPARE(rendered->toPlainText(), session.modelText());

        // A new question drops the old answer.
        session.setPrompt("a dog");
        QVERIFY(session.reply().empty());
        QCOMPARE(rendered->toPlainText().toStdString(),
                 tok.chat_template.bos_token + "[user] a dog\n[assistant]");

        bar->chatSwitch()->click();
        QVERIFY(!session.chatMode());
        QCOMPARE(session.modelText(), QString("a dog"));
    }

    // A template that raises is reported in the bar, and the prompt gets no tokens.
    void aFailingTemplateIsShownInTheBar() {
        QTemporaryDir dir;
        const std::string path = write_model(dir, "raises", true);
        std::ofstream(path + "/chat_template.jinja")
            << "{{ raise_exception('Only user and assistant roles are supported!') }}";
        Session session;
        MainWindow window(&session);
        window.show();
        session.setPrompt("hello");
        QVERIFY(test::open_and_wait(session, QString::fromStdString(path)));
        session.setChatMode(true);
        QVERIFY(session.tokens().empty());
        auto* bar = window.findChild<ChatBar*>();
        QVERIFY(
            bar->statusLabel()->text().contains("Only user and assistant roles are supported!"));
        QVERIFY(bar->statusLabel()->text().contains("chat_template.jinja"));
    }
};

PARAMSCOPE_TEST_MAIN(TestGuiChat)
#include "test_gui_chat.moc"
