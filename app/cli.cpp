#include "app/cli.h"

#include <cstdio>
#include <cstring>
#include <initializer_list>

namespace ps {

bool is_cli_command(const char* word) {
    for (const char* c : {"info", "tokenize", "logits", "generate", "trace", "dist", "bench", "train"})
        if (std::strcmp(word, c) == 0) return true;
    return false;
}

int run_cli(int, char** argv) {
    std::fprintf(stderr, "error: '%s' is not implemented yet\n", argv[1]);
    return 1;
}

}  // namespace ps
