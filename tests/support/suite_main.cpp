// The main() of every test executable: `core_tests SUITE [Qt Test options]` runs one suite,
// `core_tests --list` names them all (tests/support/suite.h).
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <string>
#include <vector>

#include "tests/support/suite.h"

namespace ps::test {
namespace {

std::map<std::string, SuiteRunner>& suites() {
    static std::map<std::string, SuiteRunner> registry;
    return registry;
}

std::string base_name(const char* path) {
    std::string name(path);
    if (const size_t slash = name.find_last_of('/'); slash != std::string::npos)
        name.erase(0, slash + 1);
    if (const size_t dot = name.find('.'); dot != std::string::npos) name.erase(dot);
    return name;
}

}  // namespace

bool register_suite(const char* source_file, SuiteRunner run) {
    const std::string name = base_name(source_file);
    if (!suites().emplace(name, run).second) {
        std::fprintf(stderr, "two test suites are named %s\n", name.c_str());
        std::abort();
    }
    return true;
}

}  // namespace ps::test

int main(int argc, char** argv) {
    const auto& suites = ps::test::suites();
    if (argc >= 2 && std::strcmp(argv[1], "--list") == 0) {
        for (const auto& [name, run] : suites) std::printf("%s\n", name.c_str());
        return 0;
    }
    const auto found = argc >= 2 ? suites.find(argv[1]) : suites.end();
    if (found == suites.end()) {
        std::fprintf(stderr, "usage: %s SUITE [Qt Test options]; %s is not one of:\n", argv[0],
                     argc >= 2 ? argv[1] : "no suite");
        for (const auto& [name, run] : suites) std::fprintf(stderr, "  %s\n", name.c_str());
        return 2;
    }
    // Qt Test sees the suite's own arguments, with the executable's name first.
    std::vector<char*> args{argv[0]};
    for (int i = 2; i < argc; ++i) args.push_back(argv[i]);
    args.push_back(nullptr);
    return found->second(static_cast<int>(args.size()) - 1, args.data());
}
