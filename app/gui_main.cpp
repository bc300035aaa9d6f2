#include "app/gui_main.h"

#include <QApplication>
#include <QLabel>

namespace ps {

// Placeholder until the main window lands (issue 3).
int run_gui(int argc, char** argv) {
    QApplication app(argc, argv);
    QLabel label("ParamScope");
    label.show();
    return app.exec();
}

}  // namespace ps
