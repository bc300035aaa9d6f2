// paramscope: with a sub-command (info, tokenize, logits, ...) it runs headless and needs no
// display; otherwise it opens the GUI.
#include <malloc.h>

#include "app/cli/cli.h"
#include "app/gui/gui_main.h"

int main(int argc, char** argv) {
    // Every analysis allocates its trace afresh: ~80 MB in blocks of up to 26 MB on GPT-2 124M.
    // By default glibc maps blocks that big straight from the kernel and unmaps them on free, so
    // every pass faulted in 20,000 fresh pages, which on a virtual machine cost more than the
    // pass's arithmetic (perf: a third of an appended token's time). Keep freed memory in the
    // heap for the next pass instead.
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
    if (argc >= 2 && ps::is_cli_command(argv[1])) return ps::run_cli(argc, argv);
    return ps::run_gui(argc, argv);
}
