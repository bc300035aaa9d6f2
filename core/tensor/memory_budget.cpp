#include "core/tensor/memory_budget.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <sstream>

#include "core/error.h"

namespace ps {

namespace {

std::atomic<uint64_t> g_limit{0};

// MemAvailable from /proc/meminfo ("MemAvailable:   12345678 kB"), or 0 if absent.
uint64_t mem_available_from_proc() {
    std::ifstream in("/proc/meminfo");
    std::string line;
    while (std::getline(in, line)) {
        if (line.rfind("MemAvailable:", 0) != 0) continue;
        std::istringstream fields(line.substr(13));
        uint64_t kib = 0;
        fields >> kib;
        return kib * 1024;
    }
    return 0;
}

uint64_t megabytes(uint64_t bytes) {
    return (bytes + (1 << 20) - 1) >> 20;  // rounded up: 1 byte needs 1 MB
}

}  // namespace

uint64_t available_memory() {
    // Every forward pass asks; reading /proc/meminfo costs tens of microseconds, as much as a
    // whole pass of a tiny model, so one reading serves for a tenth of a second.
    static std::atomic<uint64_t> cached_bytes{0};
    static std::atomic<int64_t> cached_at{0};
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count();
    uint64_t bytes = cached_bytes.load();
    if (bytes == 0 || now - cached_at.load() > 100) {
        bytes = mem_available_from_proc();
        if (bytes == 0) {
            const long pages = sysconf(_SC_AVPHYS_PAGES), page = sysconf(_SC_PAGESIZE);
            if (pages > 0 && page > 0) bytes = uint64_t(pages) * uint64_t(page);
        }
        cached_bytes.store(bytes);
        cached_at.store(now);
    }
    const uint64_t limit = g_limit.load();
    return limit != 0 && (bytes == 0 || limit < bytes) ? limit : bytes;
}

void set_memory_limit(uint64_t bytes) {
    g_limit.store(bytes);
}

void require_memory(const std::string& path, uint64_t bytes, const std::string& what) {
    const uint64_t available = available_memory();
    if (available != 0 && bytes > available)
        fail(path, what + " needs " + std::to_string(megabytes(bytes)) + " MB of memory but only " +
                       std::to_string(available >> 20) + " MB are available");
}

}  // namespace ps
