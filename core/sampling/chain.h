// The sampler chain: logits -> the distribution a token is drawn from, through an ordered list of
// stages, as llama.cpp's sampler chain (src/llama-sampler.cpp, default order in common/common.h)
// and Hugging Face's logits processors (generation/logits_process.py) compute it, recording what
// each stage did: the tokens it removed, the distribution over the survivors after it, its
// entropy.
//
// Stages and their rules (the flavor picks the engine where the two differ; tests in
// tests/core/test_sampler_chain.cpp check each against an independent implementation):
// - penalties: over the last `penalty_last_n` tokens of the history (llama.cpp; Hugging Face:
//   the whole history), each token seen `count` times gets logit <= 0 ? logit * repeat :
//   logit / repeat, then logit -= count * frequency + presence. Off when repeat 1, frequency 0
//   and presence 0, or the window 0.
// - dry: llama.cpp's DRY ("don't repeat yourself"): a token that would extend a repeat of
//   length n >= allowed_length of the last `dry_penalty_last_n` tokens loses
//   multiplier * base^(n - allowed_length); sequence breakers end repeats. Off at multiplier 0.
// - top_n_sigma: keeps logits >= max - n * std of the candidates' logits (population std). Off
//   when n <= 0.
// - top_k: llama.cpp keeps the first k of the ranking (ties past the k-th removed); Hugging Face
//   keeps every token whose logit is >= the k-th's (ties kept). Off at 0.
// - typical: locally typical sampling: tokens sorted by |-ln p - H|, kept while the cumulative
//   probability has not passed typical_p (llama.cpp: until it is > p; Hugging Face: through the
//   first token where it is >= p, and every token tied with it). Off at 1.
// - top_p: llama.cpp keeps the smallest prefix of the ranking whose cumulative probability is
//   >= p; Hugging Face removes from the bottom the tokens whose ascending cumulative
//   probability is <= 1 - p. At least one token. Off at 1.
// - min_p: keeps p >= min_p * p_max (llama.cpp compares logits: logit >= max + ln min_p). Off at
//   0.
// - xtc: "exclude top choices": with probability xtc_probability (one seeded draw per sampling
//   step), removes every token with p >= threshold except the least likely of them. Off when
//   the probability is 0 or the threshold above 0.5.
// - temperature: divides the logits by T; T = 0 keeps only the top token (greedy).
//
// Ranking: logits descending, equal logits by lower id first (llama.cpp leaves the order of
// equal logits to std::partial_sort, which is unspecified; this is the order it has here).
// Probabilities are a softmax of the candidates' logits in double. The chain works on the full
// vocabulary; the history is every token up to and including the selected position (prompt and
// BOS included, as the engines accept them).
#pragma once

#include <cstdint>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace ps {

class Tokenizer;

enum class Stage { Penalties, Dry, TopNSigma, TopK, Typical, TopP, MinP, Xtc, Temperature };
enum class ChainFlavor { LlamaCpp, HuggingFace };

// "penalties", "dry", "top_n_sigma", "top_k", "typical", "top_p", "min_p", "xtc",
// "temperature"; parse_stage throws ps::Error naming the unknown stage and the known ones.
const char* stage_name(Stage s);
Stage parse_stage(const std::string& name);

// DRY's sequence breakers as token sequences: head token -> the tokens that must follow it (an
// empty tail: the head alone breaks), as llama.cpp's get_overlapping_token_sequences builds
// them from strings.
using DryBreakers = std::multimap<int, std::vector<int>>;
DryBreakers dry_breakers_from_text(const Tokenizer& tok, const std::vector<std::string>& breakers);

struct ChainSettings {
    std::vector<Stage> stages;
    ChainFlavor flavor = ChainFlavor::LlamaCpp;
    // penalties
    float repeat_penalty = 1.0f, frequency_penalty = 0.0f, presence_penalty = 0.0f;
    int penalty_last_n = 64;
    // dry
    float dry_multiplier = 0.0f, dry_base = 1.75f;
    int dry_allowed_length = 2, dry_penalty_last_n = 64;
    DryBreakers dry_breakers;
    // filters
    float top_n_sigma = -1.0f;
    int top_k = 40;
    float typical_p = 1.0f, top_p = 0.95f, min_p = 0.05f;
    float xtc_probability = 0.0f, xtc_threshold = 0.1f;
    float temperature = 0.8f;
};

// llama.cpp's default chain with its default values (common/common.h), and Hugging Face
// generate's order (repetition penalty, temperature, top-k, top-p, min-p, typical) with its
// defaults (temperature 1, top-k 50, top-p 1, everything else off).
ChainSettings llamacpp_chain();
ChainSettings huggingface_chain();

// Throws ps::Error naming the stage and the value for a stage named twice or a parameter out of
// its range.
void check_chain(const ChainSettings& s);

// What one stage did.
struct StageResult {
    Stage stage;
    int kept = 0;              // candidates after it
    double kept_mass = 0;      // their probability before it (what it kept of the mass)
    double entropy_bits = 0;   // of the distribution after it
    std::vector<int> removed;  // ids it removed, in id order
    std::vector<int> changed;  // penalties and dry: the ids whose logits it changed (sorted)
    std::vector<int> ids;      // the survivors, most likely first
    std::vector<float> p;      // their probabilities after it (renormalized over them)
};

struct ChainResult {
    std::vector<StageResult> stages;
    std::vector<float> p_final;  // full vocabulary: the distribution drawn from, 0 when removed
    std::vector<int> ranked;     // the survivors, most likely first
    double entropy_final_bits = 0;
    bool xtc_fired = false;  // XTC's draw fell under its probability
};

// Draws from r.p_final with a uniform u in [0, 1): the first survivor, most likely first, whose
// cumulative probability exceeds u (the last one if rounding leaves the total under u).
int sample_chain(const ChainResult& r, double u);

// The per-stage random draws (XTC): one mt19937 seeded with the seed, as llama.cpp seeds each
// stage; the uniform in [0, 1) is built from the top 24 bits of the raw output so every
// standard library gives the same numbers.
class ChainRandom {
  public:
    explicit ChainRandom(uint64_t seed) : xtc_(static_cast<uint32_t>(seed)) {}
    float next_xtc() { return static_cast<float>(xtc_() >> 8) * 0x1.0p-24f; }

  private:
    std::mt19937 xtc_;
};

// Runs the chain on `logits` [vocab_size] with the token history. Throws ps::Error for bad
// logits (NaN, +inf, every one -inf) or settings.
ChainResult apply_chain(const float* logits, int vocab_size, const std::vector<int>& history,
                        const ChainSettings& s, ChainRandom& random);

}  // namespace ps
