#include "core/sampling/compare.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/error.h"

namespace ps {

std::vector<int64_t> simulate_samples(const Distribution& d, int64_t n, uint64_t seed) {
    if (n < 0 || n > 1000000000)
        fail("simulate", "the number of samples must be in [0, 1e9], got " + std::to_string(n));
    if (d.kept <= 0 || d.ranked.size() < size_t(d.kept) || d.p_final.size() != d.ranked.size())
        fail("simulate", "cannot sample from an empty distribution");
    // The cumulative sums sample_token walks, in the same order and precision, so a binary
    // search finds the token its linear walk would: the first one whose cumulative p exceeds u.
    std::vector<double> cumulative(static_cast<size_t>(d.kept));
    double cum = 0;
    for (int i = 0; i < d.kept; i++) {
        cum += d.p_final[static_cast<size_t>(d.ranked[static_cast<size_t>(i)])];
        cumulative[static_cast<size_t>(i)] = cum;
    }
    std::vector<int64_t> counts(d.p_final.size(), 0);
    Sampler sampler(seed);
    for (int64_t i = 0; i < n; i++) {
        const double u = sampler.next_uniform();
        const auto at = std::upper_bound(cumulative.begin(), cumulative.end(), u);
        const size_t rank =
            at == cumulative.end() ? cumulative.size() - 1 : size_t(at - cumulative.begin());
        counts[static_cast<size_t>(d.ranked[rank])]++;
    }
    return counts;
}

double frequency_standard_error(double p, int64_t n) {
    return n > 0 ? std::sqrt(std::max(0.0, p * (1.0 - p)) / static_cast<double>(n)) : 0.0;
}

namespace {

std::string trim(const std::string& s) {
    const size_t b = s.find_first_not_of(" \t");
    if (b == std::string::npos) return {};
    return s.substr(b, s.find_last_not_of(" \t") - b + 1);
}

template <typename T>
T parse_number(const std::string& key, const std::string& value, double lo, double hi) {
    T v{};
    const auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc() || end != value.data() + value.size() || !(v >= lo && v <= hi))
        fail("settings", "'" + key + "' must be a number in [" + std::to_string(lo) + ", " +
                             std::to_string(hi) + "], got '" + value + "'");
    return v;
}

void set_field(SamplingSettings& s, const std::string& key, const std::string& value) {
    if (key == "t" || key == "temperature")
        s.temperature = parse_number<float>(key, value, 0, 100);
    else if (key == "k" || key == "top-k" || key == "top_k")
        s.top_k = parse_number<int>(key, value, 0, 1e9);
    else if (key == "p" || key == "top-p" || key == "top_p")
        s.top_p = parse_number<float>(key, value, 0, 1);
    else if (key == "m" || key == "min-p" || key == "min_p")
        s.min_p = parse_number<float>(key, value, 0, 1);
    else if (key == "order") {
        if (!parse_sampling_order(value.c_str(), &s.order))
            fail("settings", "'order' must be 'hf' or 'llamacpp', got '" + value + "'");
    } else {
        fail("settings", "unknown key '" + key + "' (expected t, k, p, m or order)");
    }
}

std::vector<std::string> split(const std::string& s, char sep) {
    std::vector<std::string> parts;
    size_t start = 0;
    for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + 1)
        parts.push_back(s.substr(start, at - start));
    parts.push_back(s.substr(start));
    return parts;
}

std::string shortest(double v) {
    char buf[32];
    const auto [end, ec] = std::to_chars(buf, buf + sizeof buf, static_cast<float>(v));
    return ec == std::errc() ? std::string(buf, end) : std::to_string(v);
}

}  // namespace

SamplingSettings parse_settings(const std::string& text) {
    SamplingSettings s;
    for (const std::string& raw : split(text, ',')) {
        const std::string item = trim(raw);
        if (item.empty()) continue;
        const size_t eq = item.find('=');
        if (eq == std::string::npos)
            fail("settings", "expected key=value, got '" + item + "' in '" + text + "'");
        set_field(s, trim(item.substr(0, eq)), trim(item.substr(eq + 1)));
    }
    return s;
}

std::vector<SamplingSettings> parse_settings_list(const std::string& text) {
    std::vector<SamplingSettings> list;
    for (const std::string& part : split(text, ';'))
        if (!trim(part).empty()) list.push_back(parse_settings(part));
    if (list.empty()) fail("settings", "no settings in '" + text + "'");
    return list;
}

std::string format_settings(const SamplingSettings& s) {
    const SamplingSettings defaults;
    std::string out;
    auto add = [&out](const std::string& item) { out += (out.empty() ? "" : ",") + item; };
    if (s.temperature != defaults.temperature) add("t=" + shortest(s.temperature));
    if (s.top_k != defaults.top_k) add("k=" + std::to_string(s.top_k));
    if (s.top_p != defaults.top_p) add("p=" + shortest(s.top_p));
    if (s.min_p != defaults.min_p) add("m=" + shortest(s.min_p));
    if (s.order != defaults.order) add(std::string("order=") + sampling_order_name(s.order));
    return out.empty() ? "t=1" : out;
}

}  // namespace ps
