#pragma once

namespace ps {

// True when `word` names a headless sub-command ("info", "tokenize", "logits", ...).
bool is_cli_command(const char* word);
// Runs `paramscope <command> ...`; JSON on stdout, "error: ..." on stderr and exit 1 on failure.
int run_cli(int argc, char** argv);

}  // namespace ps
