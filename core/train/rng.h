// A small deterministic random number generator (SplitMix64) with its own uniform and normal
// transforms, so that a seed gives the same corpus and the same initialization on every
// platform (std::normal_distribution and friends are implementation-defined).
#pragma once

#include <cmath>
#include <cstdint>

namespace ps {

class Rng {
  public:
    explicit Rng(uint64_t seed) : state_(seed) {}
    // A generator for stream `stream` of `seed`, independent of the others.
    Rng(uint64_t seed, uint64_t stream) : state_(mix(seed ^ mix(stream + 0x9e3779b97f4a7c15ull))) {}

    uint64_t next() {
        state_ += 0x9e3779b97f4a7c15ull;
        return mix(state_);
    }
    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // Uniform integer in [0, n), n > 0 (bias below 2^-53 * n, irrelevant here).
    int below(int n) { return static_cast<int>(uniform() * n); }
    // Standard normal (Box-Muller; one of the pair is discarded for simplicity).
    double normal() {
        const double u1 = 1.0 - uniform();  // in (0, 1]: log is finite
        const double u2 = uniform();
        return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
    }

    static uint64_t mix(uint64_t z) {
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        return z ^ (z >> 31);
    }

  private:
    uint64_t state_;
};

}  // namespace ps
