// The sampler chain (rules in chain.h): the stages (chain_stages.cpp) in the chain's order, with
// what each one did recorded; the presets, the checks and DRY's sequence breakers.
#include "core/sampling/chain.h"

#include <algorithm>
#include <cmath>
#include <set>
#include <sstream>

#include "core/error.h"
#include "core/sampling/chain_stages.h"
#include "core/sampling/sampling.h"
#include "core/tokenizer/tokenizer.h"

namespace ps {

namespace {

using namespace chain;

// The survivors, most likely first, with their probabilities (also returned in double).
std::vector<double> record(StageResult& r, Candidates& cur) {
    drop_masked(cur);
    sort_ranked(cur);
    std::vector<double> p = softmax(cur);
    r.kept = static_cast<int>(cur.c.size());
    r.entropy_bits = entropy_bits(p);
    r.ids.resize(cur.c.size());
    r.p.resize(cur.c.size());
    for (size_t i = 0; i < p.size(); ++i) {
        r.ids[i] = cur.c[i].id;
        r.p[i] = static_cast<float>(p[i]);
    }
    return p;
}

constexpr Stage kStages[] = {Stage::Penalties, Stage::Dry,     Stage::TopNSigma,
                             Stage::TopK,      Stage::Typical, Stage::TopP,
                             Stage::MinP,      Stage::Xtc,     Stage::Temperature};

}  // namespace

const char* stage_name(Stage s) {
    switch (s) {
        case Stage::Penalties:
            return "penalties";
        case Stage::Dry:
            return "dry";
        case Stage::TopNSigma:
            return "top_n_sigma";
        case Stage::TopK:
            return "top_k";
        case Stage::Typical:
            return "typical";
        case Stage::TopP:
            return "top_p";
        case Stage::MinP:
            return "min_p";
        case Stage::Xtc:
            return "xtc";
        case Stage::Temperature:
            return "temperature";
    }
    return "?";
}

Stage parse_stage(const std::string& name) {
    std::string known;
    for (Stage s : kStages) {
        if (name == stage_name(s)) return s;
        known += std::string(known.empty() ? "" : ", ") + stage_name(s);
    }
    fail("--chain", "unknown stage '" + name + "' (known: " + known + ")");
}

ChainSettings llamacpp_chain() {
    ChainSettings s;
    s.stages = {std::begin(kStages), std::end(kStages)};
    s.flavor = ChainFlavor::LlamaCpp;
    return s;  // the member defaults are common_params_sampling's
}

ChainSettings huggingface_chain() {
    ChainSettings s;
    s.stages = {Stage::Penalties, Stage::Temperature, Stage::TopK,
                Stage::TopP,      Stage::MinP,        Stage::Typical};
    s.flavor = ChainFlavor::HuggingFace;
    s.temperature = 1.0f;
    s.top_k = 50;
    s.top_p = 1.0f;
    s.min_p = 0.0f;
    return s;
}

void check_chain(const ChainSettings& s) {
    std::set<Stage> seen;
    for (Stage st : s.stages)
        if (!seen.insert(st).second)
            fail("--chain", std::string("stage '") + stage_name(st) +
                                "' is named twice (each stage runs once, with its one setting)");
    auto bad = [](const char* stage, const std::string& what) {
        fail("--chain", std::string(stage) + ": " + what);
    };
    auto num = [](double v) {
        std::ostringstream text;  // 1.5, not std::to_string's 1.500000
        text << v;
        return text.str();
    };
    if (!(s.repeat_penalty > 0.0f) || !std::isfinite(s.repeat_penalty))
        bad("penalties", "the repeat penalty must be > 0, got " + num(s.repeat_penalty));
    if (!std::isfinite(s.frequency_penalty) || !std::isfinite(s.presence_penalty))
        bad("penalties", "the frequency and presence penalties must be finite");
    if (s.penalty_last_n < 0)
        bad("penalties",
            "the penalty window must be >= 0 tokens, got " + std::to_string(s.penalty_last_n));
    if (!(s.dry_multiplier >= 0.0f) || !std::isfinite(s.dry_multiplier))
        bad("dry", "the multiplier must be >= 0, got " + num(s.dry_multiplier));
    if (!(s.dry_base >= 1.0f) || !std::isfinite(s.dry_base))
        bad("dry", "the base must be >= 1, got " + num(s.dry_base));
    if (s.dry_allowed_length < 0)
        bad("dry", "the allowed length must be >= 0, got " + std::to_string(s.dry_allowed_length));
    if (s.dry_penalty_last_n < 0)
        bad("dry",
            "the penalty window must be >= 0 tokens, got " + std::to_string(s.dry_penalty_last_n));
    if (!std::isfinite(s.top_n_sigma)) bad("top_n_sigma", "n must be finite (<= 0: off)");
    if (s.top_k < 0) bad("top_k", "k must be >= 0 (0: off), got " + std::to_string(s.top_k));
    if (!(s.typical_p >= 0.0f && s.typical_p <= 1.0f))
        bad("typical", "typical-p must be in [0, 1], got " + num(s.typical_p));
    if (!(s.top_p >= 0.0f && s.top_p <= 1.0f))
        bad("top_p", "top-p must be in [0, 1], got " + num(s.top_p));
    if (!(s.min_p >= 0.0f && s.min_p <= 1.0f))
        bad("min_p", "min-p must be in [0, 1], got " + num(s.min_p));
    if (!(s.xtc_probability >= 0.0f && s.xtc_probability <= 1.0f))
        bad("xtc", "the probability must be in [0, 1], got " + num(s.xtc_probability));
    if (!(s.xtc_threshold >= 0.0f && s.xtc_threshold <= 1.0f))
        bad("xtc", "the threshold must be in [0, 1] (above 0.5: off), got " + num(s.xtc_threshold));
    if (!(s.temperature >= 0.0f) || !std::isfinite(s.temperature))
        bad("temperature", "the temperature must be >= 0, got " + num(s.temperature));
}

DryBreakers dry_breakers_from_text(const Tokenizer& tok, const std::vector<std::string>& breakers) {
    // llama.cpp get_overlapping_token_sequences: a token containing the breaker breaks alone;
    // a token ending in a prefix of it needs the rest of the breaker (tokenized) to follow.
    constexpr size_t kMaxChars = 40, kMaxTail = 20;
    DryBreakers out;
    const int vocab = tok.vocab_size();
    for (std::string str : breakers) {
        if (str.empty()) continue;
        if (str.size() > kMaxChars) str.resize(kMaxChars);
        for (int id = 0; id < vocab; ++id) {
            const std::string word = tok.decode({id});
            if (word.find(str) != std::string::npos) {
                out.emplace(id, std::vector<int>());
                continue;
            }
            for (size_t pos = word.find(str[0]); pos != std::string::npos;
                 pos = word.find(str[0], pos + 1)) {
                size_t i = 1;
                bool match = true;
                for (; i < str.size() && i + pos < word.size(); ++i)
                    if (word[pos + i] != str[i]) {
                        match = false;
                        break;
                    }
                if (!match) continue;
                std::vector<int> tail = tok.encode(str.substr(i));
                if (tail.size() > kMaxTail) tail.resize(kMaxTail);
                bool found = false;
                const auto [first, last] = out.equal_range(id);
                for (auto it = first; it != last; ++it) found |= it->second == tail;
                if (!found) out.emplace(id, tail);
            }
        }
    }
    return out;
}

ChainResult apply_chain(const float* logits, int vocab_size, const std::vector<int>& history,
                        const ChainSettings& s, ChainRandom& random) {
    check_chain(s);
    check_logits(logits, vocab_size);
    Candidates cur;
    cur.c.reserve(size_t(vocab_size));
    for (int i = 0; i < vocab_size; ++i) cur.c.push_back({i, logits[i]});
    drop_masked(cur);
    ChainResult out;
    // Each stage's input over the vocabulary (-1: not a candidate): the softmax of the logits,
    // then what the stage before it recorded.
    std::vector<double> p_in(static_cast<size_t>(vocab_size), -1.0);
    auto take_input = [&](const StageResult& r, const std::vector<double>& p) {
        std::fill(p_in.begin(), p_in.end(), -1.0);
        for (size_t i = 0; i < p.size(); ++i) p_in[size_t(r.ids[i])] = p[i];
    };
    StageResult input;
    take_input(input, record(input, cur));
    for (Stage stage : s.stages) {
        StageResult r;
        r.stage = stage;
        switch (stage) {
            case Stage::Penalties:
                penalties(cur, history, s, r.changed);
                break;
            case Stage::Dry:
                dry(cur, history, s, r.changed);
                break;
            case Stage::TopNSigma:
                top_n_sigma(cur, s.top_n_sigma);
                break;
            case Stage::TopK:
                top_k(cur, s.top_k, s.flavor);
                break;
            case Stage::Typical:
                typical(cur, s.typical_p, s.flavor);
                break;
            case Stage::TopP:
                top_p(cur, s.top_p, s.flavor);
                break;
            case Stage::MinP:
                min_p(cur, s.min_p, s.flavor);
                break;
            case Stage::Xtc:
                out.xtc_fired = xtc(cur, s.xtc_probability, s.xtc_threshold, random);
                break;
            case Stage::Temperature:
                temperature(cur, s.temperature);
                break;
        }
        const std::vector<double> p = record(r, cur);
        // What it kept of the mass before it, and what it removed (in id order).
        std::vector<uint8_t> kept(size_t(vocab_size), 0);
        for (int id : r.ids) {
            kept[size_t(id)] = 1;
            r.kept_mass += p_in[size_t(id)];
        }
        for (int id = 0; id < vocab_size; ++id)
            if (p_in[size_t(id)] >= 0 && !kept[size_t(id)]) r.removed.push_back(id);
        std::sort(r.changed.begin(), r.changed.end());
        take_input(r, p);
        out.stages.push_back(std::move(r));
    }
    // The final distribution: what the last stage kept (the logits' softmax without stages).
    const StageResult& last = out.stages.empty() ? input : out.stages.back();
    out.p_final.assign(size_t(vocab_size), 0.0f);
    for (size_t i = 0; i < last.ids.size(); ++i) out.p_final[size_t(last.ids[i])] = last.p[i];
    out.ranked = last.ids;
    out.entropy_final_bits = last.entropy_bits;
    return out;
}

int sample_chain(const ChainResult& r, double u) {
    double cum = 0;
    for (int id : r.ranked) {
        cum += r.p_final[size_t(id)];
        if (u < cum) return id;
    }
    return r.ranked.back();
}

}  // namespace ps
