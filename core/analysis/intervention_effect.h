// What an intervention did to one next-token distribution: the KL divergence from the plain
// run's, the change of the most likely token, and the tokens whose probability moved most
// (the Interventions dock and `paramscope dist --intervene`).
#pragma once

#include <vector>

namespace ps {

struct TokenChange {
    int id = -1;
    double p_before = 0, p_after = 0;  // softmax probabilities (temperature 1, no filter)
};

struct InterventionEffect {
    // KL(before || after) = sum_v p_before(v) log(p_before(v) / p_after(v)), in nats, over the
    // whole vocabulary: how surprised the plain run would be by the intervened one.
    double kl_divergence = 0;
    int argmax_before = -1, argmax_after = -1;
    // The top_n tokens of either run, ordered by the larger of their two probabilities.
    std::vector<TokenChange> top;
};

// `before` and `after` are logits rows of `vocab` floats.
InterventionEffect intervention_effect(const float* before, const float* after, int vocab,
                                       int top_n = 10);

}  // namespace ps
