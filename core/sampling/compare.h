// Comparing sampling settings: simulated sampling (the empirical frequencies of N seeded draws,
// to set beside the probabilities they come from), and settings written as short text
// ("t=0.5,k=40,p=0.9,m=0.05,order=llamacpp") for the command line and the column labels.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/sampling/sampling.h"

namespace ps {

// Draws n tokens from d.p_final exactly as Sampler(seed).sample(d) would, n times in a row, and
// counts them: counts[id] for every token of the vocabulary. n must be in [0, 1e9].
std::vector<int64_t> simulate_samples(const Distribution& d, int64_t n, uint64_t seed);

// The standard error of a frequency estimated from n draws of a token with probability p:
// sqrt(p (1 - p) / n).
double frequency_standard_error(double p, int64_t n);

// One setting: comma-separated key=value, keys t|temperature, k|top-k, p|top-p, m|min-p, order
// (hf|llamacpp); unset keys keep their defaults. Several: separated by ';'. Throws ps::Error
// naming the bad part.
SamplingSettings parse_settings(const std::string& text);
std::vector<SamplingSettings> parse_settings_list(const std::string& text);
// The settings as parse_settings reads them, only what differs from the defaults ("t=1" when
// nothing does).
std::string format_settings(const SamplingSettings& s);

}  // namespace ps
