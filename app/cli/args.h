// A small command-line parser for the headless sub-commands: one positional MODEL, then
// `--flag value` options and boolean `--switch`es, each declared with its help line.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ps::cli {

struct OptionSpec {
    std::string name;        // without the leading "--"
    std::string value_name;  // empty for a switch
    std::string help;
};

struct CommandSpec {
    std::string name;
    std::string usage;  // e.g. "MODEL (--text T | --ids 1,2,3) [options]"
    std::string summary;
    std::vector<OptionSpec> options;
    std::string example;
};

class Args {
  public:
    // Parses argv[2..]; throws ps::Error("<command>: ...") on unknown options or missing values.
    Args(const CommandSpec& spec, int argc, char** argv);

    bool help() const { return help_; }
    const std::string& model() const;  // throws when absent
    bool has(const std::string& name) const { return values_.count(name) > 0; }
    std::string str(const std::string& name, const std::string& fallback = "") const;
    int integer(const std::string& name, int fallback) const;
    double number(const std::string& name, double fallback) const;
    uint64_t u64(const std::string& name, uint64_t fallback) const;
    std::vector<int> ids(const std::string& name) const;  // "1,2,3"
    // Every value a repeatable option was given, in order (str() gives the last).
    std::vector<std::string> all(const std::string& name) const;

  private:
    const CommandSpec& spec_;
    bool help_ = false;
    std::string model_;
    std::map<std::string, std::string> values_;
    std::map<std::string, std::vector<std::string>> repeated_;
};

std::string help_text(const CommandSpec& spec);

}  // namespace ps::cli
