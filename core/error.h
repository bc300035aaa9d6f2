// Errors the engine reports to the user. Every message names the file and the field or
// tensor, and what was expected, e.g. "model.gguf: tensor 'blk.0.attn_q.weight': data
// offset 123456 + 4096 bytes is beyond the file's 100000 bytes".
#pragma once

#include <stdexcept>
#include <string>

namespace ps {

class Error : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Throws Error("<file>: <what>").
[[noreturn]] inline void fail(const std::string& file, const std::string& what) {
    throw Error(file + ": " + what);
}

}  // namespace ps
