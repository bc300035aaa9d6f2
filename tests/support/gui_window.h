// The main window the GUI tests drive: the default layout, shown at a given size, with a
// prompt analyzed on a model. Header-only: only the GUI tests (which link the app) include it.
#pragma once

#include <QCoreApplication>
#include <QSize>
#include <QStandardPaths>
#include <QtTest>
#include <memory>

#include "app/gui/main_window.h"
#include "tests/support/gui_session.h"

namespace ps::test {

// Settings go to a test location; the window is shown, the model opened and the prompt's
// analysis done (false if any of it did not happen in time).
inline bool open_main_window(std::unique_ptr<Session>& session, std::unique_ptr<MainWindow>& window,
                             QSize size, const QString& prompt, const QString& model) {
    QStandardPaths::setTestModeEnabled(true);
    QCoreApplication::setOrganizationName("ParamScopeTest");
    session = std::make_unique<Session>();
    window = std::make_unique<MainWindow>(session.get());
    window->resetLayout();
    window->resize(size);
    window->show();
    window->activateWindow();
    if (!QTest::qWaitForWindowExposed(window.get())) return false;
    session->setPrompt(prompt);
    if (!open_and_wait(*session, model)) return false;
    return QTest::qWaitFor([&] { return settled(*session); }, 30000);
}

}  // namespace ps::test
