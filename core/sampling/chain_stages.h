// The stages of the sampler chain (core/sampling/chain.h), one function each, named as the math,
// on the candidates as llama.cpp's llama_token_data_array holds them: (id, logit) pairs and
// whether they are in ranking order. Internal to core/sampling.
#pragma once

#include <vector>

#include "core/sampling/chain.h"

namespace ps::chain {

struct Candidate {
    int id;
    float logit;
};

struct Candidates {
    std::vector<Candidate> c;
    bool sorted = false;
};

bool ranks_before(const Candidate& a, const Candidate& b);
void sort_ranked(Candidates& cur);
// softmax of the candidates' logits, in their order (double; -inf gives 0).
std::vector<double> softmax(const Candidates& cur);
double entropy_bits(const std::vector<double>& p);
// Candidates with logit -inf are out: they can never be drawn.
void drop_masked(Candidates& cur);

void penalties(Candidates& cur, const std::vector<int>& history, const ChainSettings& s,
               std::vector<int>& changed);
void dry(Candidates& cur, const std::vector<int>& history, const ChainSettings& s,
         std::vector<int>& changed);
void top_n_sigma(Candidates& cur, float n);
void top_k(Candidates& cur, int k, ChainFlavor flavor);
void typical(Candidates& cur, float mass, ChainFlavor flavor);
void top_p(Candidates& cur, float top, ChainFlavor flavor);
void min_p(Candidates& cur, float min, ChainFlavor flavor);
bool xtc(Candidates& cur, float probability, float threshold, ChainRandom& random);
void temperature(Candidates& cur, float t);

}  // namespace ps::chain
