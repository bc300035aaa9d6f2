// The sampling step: logits -> the distribution a token is drawn from, after temperature,
// top-k, top-p and min-p, in either of the two orders real engines use.
//
// Exact rules (each one is tested in tests/core/test_sampling.cpp):
// - Ranking. Tokens are ranked by logit, descending; equal logits rank the lower id first.
//   Softmax is monotonic, so this is the order of p_raw (and of the tempered probabilities).
//   Every filter keeps a prefix of this ranking, so the kept tokens are always ranked[0..kept).
// - Temperature T > 0 divides the logits by T. T = 0 is greedy: all mass on the top-ranked
//   token (ties -> lowest id), every other token is marked RemovedBy::TopK (greedy is top-k 1),
//   whatever the other settings are (no filter can remove the top token, so the result does
//   not depend on them or on the order).
// - top-k: 0 = off. Keeps exactly the first k tokens of the ranking; tokens tied with the k-th
//   but ranked after it (higher id) are removed. k >= vocabulary size keeps everything.
// - top-p: 1 = off. Walking the ranking, keeps tokens until the cumulative probability of the
//   kept ones (renormalized over the tokens still in play) reaches p, so the smallest such
//   prefix, at least one token. A cumulative probability exactly equal to p reaches it: the
//   walk stops there. "Exactly" is within kBoundaryEps (1e-6, about float precision: the
//   settings and the logits are floats), so a boundary exact in real numbers (1/3 + 1/3 with
//   top_p = 0.6666667f) is not lost to rounding. p = 0 keeps one token.
// - min-p: 0 = off. Keeps tokens with p >= min_p * p_max - kBoundaryEps, p being the
//   probabilities (renormalized over the tokens still in play) at that step. min_p = 1 keeps
//   the top token and every token tied with it.
// - Orders. HuggingFace: temperature, then top-k, top-p, min-p on the tempered probabilities
//   (as transformers' logits warpers). LlamaCpp: top-k, top-p, min-p on the un-tempered
//   probabilities, then temperature over the survivors (as llama.cpp's default sampler chain).
//   A token removed by several filters is labelled with the first one that removed it.
// - Softmax subtracts the max logit and sums in double. Logits may be -inf (a masked token);
//   NaN, +inf, or all -inf, and settings out of range throw ps::Error.
#pragma once

#include <cstdint>
#include <random>
#include <vector>

namespace ps {

enum class SamplingOrder { HuggingFace, LlamaCpp };
// Greedy: temperature 0 keeps only the top token (no filter removed the others).
enum class RemovedBy : uint8_t { None, TopK, TopP, MinP, Greedy };

// nullptr for None, else "top_k", "top_p", "min_p", "greedy".
const char* removed_by_name(RemovedBy r);
// "hf" / "llamacpp" and back (nullptr / false for anything else).
const char* sampling_order_name(SamplingOrder o);
bool parse_sampling_order(const char* name, SamplingOrder* out);

// Tolerance for "exactly on a boundary" in top-p and min-p, in probability units.
inline constexpr double kBoundaryEps = 1e-6;

struct SamplingSettings {
    float temperature = 1.0f;  // >= 0; 0 = greedy
    int top_k = 0;             // >= 0; 0 = off
    float top_p = 1.0f;        // [0, 1]; 1 = off
    float min_p = 0.0f;        // [0, 1]; 0 = off
    SamplingOrder order = SamplingOrder::HuggingFace;
};

struct Distribution {
    std::vector<float> p_raw;    // softmax(logits) at temperature 1, no filtering, full vocabulary
    std::vector<float> p_final;  // after temperature and filters, renormalized; 0 when removed
    std::vector<RemovedBy> removed_by;
    std::vector<int> ranked;  // token ids by logit descending (ties: lower id first)
    double entropy_raw_bits = 0, entropy_final_bits = 0;
    int kept = 0;  // tokens not removed: ranked[0..kept)
};

// Throws ps::Error("sampling: ...") naming the token when a logit is NaN or +inf, or when
// every logit is -inf (nothing could be drawn).
void check_logits(const float* logits, int vocab_size);

// Throws ps::Error("sampling: ...") for bad logits or settings.
Distribution apply_sampling(const float* logits, int vocab_size, const SamplingSettings& s);

// Draws a token from d.p_final with a uniform number u in [0,1): the first token, in `ranked`
// order, whose cumulative p_final exceeds u (the last kept token if rounding leaves the total
// just under u).
int sample_token(const Distribution& d, double u);

// A seeded generator so a seed reproduces the same samples everywhere (CLI, GUI, any standard
// library: the uniform is built from the raw 64-bit output, not std::uniform_real_distribution).
class Sampler {
  public:
    explicit Sampler(uint64_t seed) : rng_(seed) {}
    // A uniform double in [0,1) from the top 53 bits of the next mt19937_64 output.
    double next_uniform() { return static_cast<double>(rng_() >> 11) * 0x1.0p-53; }
    int sample(const Distribution& d) { return sample_token(d, next_uniform()); }

  private:
    std::mt19937_64 rng_;
};

}  // namespace ps
