#include "views/prompt/model_warnings_banner.h"

#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QStyle>
#include <QVBoxLayout>

#include "app/session/session.h"
#include "core/model/model.h"

namespace ps {

ModelWarningsBanner::ModelWarningsBanner(Session* session, QWidget* parent)
    : QFrame(parent), session_(session) {
    setObjectName("modelWarnings");
    setFrameShape(QFrame::StyledPanel);
    // The context banner's colours (tooltip), so both notes look alike in every theme.
    setBackgroundRole(QPalette::ToolTipBase);
    setForegroundRole(QPalette::ToolTipText);
    setAutoFillBackground(true);
    icon_ = new QLabel(this);
    icon_->setPixmap(style()->standardIcon(QStyle::SP_MessageBoxWarning).pixmap(24, 24));
    icon_->setAlignment(Qt::AlignTop);
    label_ = new QLabel(this);
    label_->setObjectName("modelWarningsText");
    // Tensor names come from the file: never interpreted as markup.
    label_->setTextFormat(Qt::PlainText);
    label_->setWordWrap(true);
    label_->setForegroundRole(QPalette::ToolTipText);
    label_->setTextInteractionFlags(Qt::TextSelectableByMouse);
    dismiss_ = new QPushButton(tr("Dismiss"), this);
    dismiss_->setObjectName("dismissWarnings");
    dismiss_->setToolTip(tr("hide these warnings until another model is opened"));
    auto* layout = new QHBoxLayout(this);
    layout->setContentsMargins(8, 4, 8, 4);
    layout->addWidget(icon_);
    layout->addWidget(label_, 1);
    layout->addWidget(dismiss_, 0, Qt::AlignTop);
    connect(dismiss_, &QPushButton::clicked, this, &QWidget::hide);
    connect(session_, &Session::modelChanged, this, &ModelWarningsBanner::refresh);
    refresh();
}

void ModelWarningsBanner::refresh() {
    warnings_.clear();
    if (const auto& model = session_->model())
        for (const std::string& w : model->warnings) warnings_ << QString::fromStdString(w);
    setVisible(!warnings_.isEmpty());
    if (warnings_.isEmpty()) {
        message_.clear();
        label_->clear();
        setToolTip({});
        return;
    }
    const int n = static_cast<int>(warnings_.size());
    QStringList lines{n == 1 ? tr("This model loaded with a warning:")
                             : tr("This model loaded with %1 warnings:").arg(n)};
    for (const QString& w : warnings_.mid(0, kMaxListed)) lines << QString::fromUtf8("• ") + w;
    if (n > kMaxListed) lines << tr("and %1 more (hover for the full list)").arg(n - kMaxListed);
    message_ = lines.join('\n');
    label_->setText(message_);
    QStringList escaped;
    for (const QString& w : warnings_) escaped << w.toHtmlEscaped();
    setToolTip("<p>" + escaped.join("<br>") + "</p>");
}

QWidget* with_model_warnings(Session* session, QWidget* content, QWidget* parent) {
    auto* box = new QWidget(parent);
    box->setObjectName("warningsArea");
    auto* layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->setSpacing(2);
    layout->addWidget(new ModelWarningsBanner(session, box));
    layout->addWidget(content, 1);
    return box;
}

}  // namespace ps
