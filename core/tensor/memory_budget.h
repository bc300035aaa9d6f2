// How much memory a loader may allocate. Weights that cannot be used in place from the file
// (quantized GGUF blocks, F16/BF16 safetensors) are converted to f32; before converting, a
// loader adds up what that takes and refuses a model that cannot fit, with a message, rather
// than being killed by the kernel half-way through.
#pragma once

#include <cstdint>
#include <string>

namespace ps {

// Bytes that can be allocated now: the limit set with set_memory_limit, else the kernel's
// MemAvailable estimate (/proc/meminfo, read at most every 0.1 s), else free physical pages
// (sysconf).
uint64_t available_memory();

// Caps available_memory() at `bytes`; 0 restores the machine's own figure. Lets tests check
// the refusal without a file bigger than the machine's memory.
void set_memory_limit(uint64_t bytes);

// Throws ps::Error("<path>: <what> needs N MB of memory but only M MB are available") when
// `bytes` exceed available_memory().
void require_memory(const std::string& path, uint64_t bytes, const std::string& what);

}  // namespace ps
