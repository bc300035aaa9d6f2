#pragma once

namespace ps {

// Opens the main window: `paramscope [MODEL] [--prompt T] [--view NAME] [--screenshot F]`.
int run_gui(int argc, char** argv);

}  // namespace ps
