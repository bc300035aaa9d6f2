// paramscope: with a sub-command (info, tokenize, logits, ...) it runs headless and needs no
// display; otherwise it opens the GUI.
#include "app/cli.h"
#include "app/gui_main.h"

int main(int argc, char** argv) {
    if (argc >= 2 && ps::is_cli_command(argv[1])) return ps::run_cli(argc, argv);
    return ps::run_gui(argc, argv);
}
