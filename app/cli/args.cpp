#include "app/cli/args.h"

#include <charconv>
#include <cstring>

#include "core/error.h"

namespace ps::cli {

namespace {

[[noreturn]] void usage_error(const CommandSpec& spec, const std::string& what) {
    throw Error(spec.name + ": " + what + " (see 'paramscope " + spec.name + " --help')");
}

template <typename T>
T parse_number(const CommandSpec& spec, const std::string& option, const std::string& text) {
    T value{};
    const char* end = text.data() + text.size();
    auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (ec != std::errc() || ptr != end || text.empty())
        usage_error(spec, "--" + option + " expects a number, got '" + text + "'");
    return value;
}

}  // namespace

Args::Args(const CommandSpec& spec, int argc, char** argv) : spec_(spec) {
    for (int i = 2; i < argc; ++i) {
        std::string arg = argv[i];
        if (arg == "--help" || arg == "-h") {
            help_ = true;
            continue;
        }
        if (arg.rfind("--", 0) != 0) {
            if (!model_.empty()) usage_error(spec, "unexpected argument '" + arg + "'");
            model_ = arg;
            continue;
        }
        std::string name = arg.substr(2);
        std::string value;
        bool inline_value = false;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
            inline_value = true;
        }
        const OptionSpec* option = nullptr;
        for (const OptionSpec& o : spec.options)
            if (o.name == name) option = &o;
        if (!option) usage_error(spec, "unknown option '--" + name + "'");
        if (!option->value_name.empty() && !inline_value) {
            if (i + 1 >= argc)
                usage_error(spec, "--" + name + " needs a value (" + option->value_name + ")");
            value = argv[++i];
        }
        values_[name] = value;
        repeated_[name].push_back(value);
    }
}

std::vector<std::string> Args::all(const std::string& name) const {
    auto it = repeated_.find(name);
    return it == repeated_.end() ? std::vector<std::string>() : it->second;
}

const std::string& Args::model() const {
    if (model_.empty()) usage_error(spec_, "no MODEL given");
    return model_;
}

std::string Args::str(const std::string& name, const std::string& fallback) const {
    auto it = values_.find(name);
    return it == values_.end() ? fallback : it->second;
}

int Args::integer(const std::string& name, int fallback) const {
    return has(name) ? parse_number<int>(spec_, name, str(name)) : fallback;
}

double Args::number(const std::string& name, double fallback) const {
    return has(name) ? parse_number<double>(spec_, name, str(name)) : fallback;
}

uint64_t Args::u64(const std::string& name, uint64_t fallback) const {
    return has(name) ? parse_number<uint64_t>(spec_, name, str(name)) : fallback;
}

std::vector<int> Args::ids(const std::string& name) const {
    std::vector<int> out;
    std::string text = str(name);
    size_t start = 0;
    while (start <= text.size()) {
        size_t comma = text.find(',', start);
        if (comma == std::string::npos) comma = text.size();
        std::string item = text.substr(start, comma - start);
        while (!item.empty() && item.front() == ' ') item.erase(0, 1);
        out.push_back(parse_number<int>(spec_, name, item));
        start = comma + 1;
    }
    return out;
}

std::string help_text(const CommandSpec& spec) {
    std::string s = "usage: paramscope " + spec.name + " " + spec.usage + "\n\n" + spec.summary +
                    "\n\noptions:\n";
    for (const OptionSpec& o : spec.options) {
        std::string left = "  --" + o.name + (o.value_name.empty() ? "" : " " + o.value_name);
        if (left.size() < 26)
            left.resize(26, ' ');
        else
            left += "  ";
        s += left + o.help + "\n";
    }
    s += "  --help                  show this help\n";
    if (!spec.example.empty()) s += "\nexample:\n  " + spec.example + "\n";
    return s;
}

}  // namespace ps::cli
