#include "views/prompt/chat_bar.h"

#include <QCheckBox>
#include <QDialog>
#include <QDialogButtonBox>
#include <QFontDatabase>
#include <QHBoxLayout>
#include <QLabel>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSplitter>
#include <QVBoxLayout>

#include "app/session/session.h"
#include "core/tokenizer/prompt.h"

namespace ps {

namespace {

// The template window: the source as the model ships it, and what it renders for this prompt.
class TemplateDialog : public QDialog {
  public:
    TemplateDialog(Session* session, QWidget* parent) : QDialog(parent), session_(session) {
        setObjectName("chatTemplateDialog");
        resize(900, 600);
        auto* layout = new QVBoxLayout(this);
        source_label_ = new QLabel(this);
        source_label_->setWordWrap(true);
        layout->addWidget(source_label_);
        auto* split = new QSplitter(Qt::Vertical, this);
        const QFont mono = QFontDatabase::systemFont(QFontDatabase::FixedFont);
        for (QPlainTextEdit** edit : {&source_, &rendered_}) {
            *edit = new QPlainTextEdit(split);
            (*edit)->setReadOnly(true);
            (*edit)->setFont(mono);
            (*edit)->setLineWrapMode(QPlainTextEdit::WidgetWidth);
        }
        source_->setObjectName("chatTemplateSource");
        rendered_->setObjectName("chatTemplateRendered");
        layout->addWidget(split, 1);
        auto* buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
        connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::close);
        layout->addWidget(buttons);
        connect(session, &Session::promptChanged, this, &TemplateDialog::refresh);
        connect(session, &Session::chatChanged, this, &TemplateDialog::refresh);
        refresh();
    }

  private:
    void refresh() {
        const auto& model = session_->model();
        const ChatTemplate* chat = model ? &model->tokenizer->chat_template : nullptr;
        setWindowTitle(tr("Chat template"));
        source_label_->setText(chat && !chat->empty()
                                   ? tr("From %1. Read-only: this is what the model ships; "
                                        "below, the text it reads for your prompt.")
                                         .arg(QString::fromStdString(chat->source))
                                   : tr("This model has no chat template."));
        source_->setPlainText(chat ? QString::fromStdString(chat->text) : QString());
        QString text;
        try {
            if (chat && !chat->empty())
                text = QString::fromStdString(
                    model_text(*model->tokenizer,
                               {session_->prompt().toStdString(), true, session_->reply()}));
        } catch (const std::exception& e) {
            text = tr("The template failed: %1").arg(QString::fromUtf8(e.what()));
        }
        rendered_->setPlainText(text);
    }

    Session* session_;
    QLabel* source_label_;
    QPlainTextEdit* source_;
    QPlainTextEdit* rendered_;
};

}  // namespace

ChatBar::ChatBar(Session* session, QWidget* parent) : QFrame(parent), session_(session) {
    setObjectName("chatBar");
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(4, 2, 4, 2);
    switch_ = new QCheckBox(tr("Chat"), this);
    switch_->setObjectName("chatSwitch");
    switch_->setToolTip(
        tr("Wrap the prompt as a user message in the model's chat template, the "
           "assistant's turn opened: what an instruct model reads in a chat"));
    status_ = new QLabel(this);
    status_->setObjectName("chatStatus");
    status_->setWordWrap(true);
    status_->setTextFormat(Qt::PlainText);
    show_ = new QPushButton(tr("Template…"), this);
    show_->setObjectName("chatTemplateButton");
    layout->addWidget(switch_);
    layout->addWidget(status_, 1);
    layout->addWidget(show_);
    connect(switch_, &QCheckBox::toggled, session, &Session::setChatMode);
    connect(show_, &QPushButton::clicked, this, &ChatBar::showTemplate);
    connect(session, &Session::chatChanged, this, &ChatBar::refresh);
    connect(session, &Session::promptChanged, this, &ChatBar::refresh);
    refresh();
}

QWidget* ChatBar::showTemplate() {
    if (!dialog_) dialog_ = new TemplateDialog(session_, this);
    dialog_->show();
    dialog_->raise();
    return dialog_;
}

void ChatBar::refresh() {
    setVisible(session_->chatAvailable());
    if (!session_->chatAvailable()) return;
    const QSignalBlocker block(switch_);
    switch_->setChecked(session_->chatMode());
    QString text;
    if (!session_->chatError().isEmpty()) {
        text = tr("The chat template failed: %1").arg(session_->chatError());
    } else if (!session_->chatMode()) {
        text = tr("Plain text: the prompt is fed as typed. The model has a chat template.");
    } else if (!session_->reply().empty()) {
        text = tr("Reply so far: %1").arg(QString::fromStdString(session_->reply()));
    } else {
        text = tr("Your prompt is the user's turn; the model's turn follows.");
    }
    status_->setText(text);
}

}  // namespace ps
