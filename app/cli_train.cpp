// OWNER: trainer helper. Placeholder until `paramscope train` lands.
#include "app/cli_commands.h"
#include "core/error.h"

namespace ps::cli {

CommandSpec train_spec() {
    return {"train", "--out DIR [options]", "Trains a small GPT-2 (not available yet).", {}, ""};
}

int cmd_train(const Args&) {
    throw Error("train is not implemented yet");
}

}  // namespace ps::cli
