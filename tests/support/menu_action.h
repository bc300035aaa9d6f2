// Context menus in GUI tests: trigger one of a view's menu actions, as a click on it would.
#pragma once

#include <QAction>
#include <QMenu>
#include <memory>

namespace ps::test {

// Triggers the enabled action named `name` of `menu` (which is then deleted); false if none.
inline bool trigger(QMenu* menu, const char* name) {
    std::unique_ptr<QMenu> owned(menu);
    for (QAction* a : owned->actions())
        if (a->objectName() == name && a->isEnabled()) {
            a->trigger();
            return true;
        }
    return false;
}

}  // namespace ps::test
