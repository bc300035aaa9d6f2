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

// Thrown by long computations that poll a cancel flag (the layer analysis) when it is raised:
// their result is no longer wanted, so there is nothing to report.
class Cancelled : public std::exception {
  public:
    const char* what() const noexcept override { return "cancelled"; }
};

// Throws Error("<file>: <what>"). A `what` quoting a hostile file (a megabyte-long tensor name
// or JSON value) is cut in the middle to a few kilobytes, so a message stays readable.
[[noreturn]] inline void fail(const std::string& file, const std::string& what) {
    constexpr size_t kHead = 1500, kTail = 500;
    if (what.size() <= kHead + kTail) throw Error(file + ": " + what);
    throw Error(file + ": " + what.substr(0, kHead) + " [... " +
                std::to_string(what.size() - kHead - kTail) + " bytes cut ...] " +
                what.substr(what.size() - kTail));
}

}  // namespace ps
