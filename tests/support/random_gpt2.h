// A small random GPT-2 for tests, in Hugging Face layout (Conv1D weights stored [in, out]),
// writable as an HF directory's tensors or as a llama.cpp `gpt2` GGUF, with a deliberately
// naive scalar forward pass (plain loops in double) to check engines against.
#pragma once

#include <Eigen/Core>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/hf_writer.h"
#include "tests/support/naive_hooks.h"

namespace ps::test {

struct RandomGpt2 {
    int d = 64, layers = 2, heads = 4, ctx = 64, vocab = 0, hidden = 256;
    float eps = 1e-5f;
    std::vector<float> wte, wpe, lnf_w, lnf_b, lm_head;  // lm_head empty: tied to wte
    struct Layer {
        std::vector<float> ln1_w, ln1_b, attn_w, attn_b, proj_w, proj_b, ln2_w, ln2_b, fc_w, fc_b,
            fcp_w, fcp_b;
    };
    std::vector<Layer> L;

    // Normal weights from a fixed seed, scaled so attention patterns and logits are far from
    // uniform (a bug shows as a large difference).
    void randomize(uint32_t seed);
    // Rounds every weight through `dtype` ("F16" or "BF16"): what a model stored so computes with.
    void round_to(const std::string& dtype);

    nlohmann::json config() const;  // config.json of a GPT2LMHeadModel
    // The HF tensors, names prefixed with `prefix` ("transformer." or ""), including the
    // attn.bias causal-mask buffers transformers saves, and lm_head.weight when untied.
    std::vector<HfTensor> hf_tensors(const std::string& prefix) const;
    // llama.cpp's `gpt2` GGUF: matrices [out, in] (ggml dims {in, out}), tokenizer.ggml.*.
    void write_gguf(const std::string& path, const std::vector<std::string>& tokens,
                    const std::vector<std::string>& merges) const;

    // Logits [T, vocab] of the naive reference, with `hook` changing activations on the way.
    Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> naive_logits(
        const std::vector<int>& ids, const NaiveHook& hook = nullptr) const;
};

}  // namespace ps::test
