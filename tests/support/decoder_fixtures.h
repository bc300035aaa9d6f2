// Small random models of the Llama family (Llama 3, Mistral, Qwen2, Qwen3, Gemma 3, Phi-3) for
// tests: written in Hugging Face layout as transformers saves them, and in GGUF layout as
// llama.cpp's converter writes them (q/k rows permuted for `llama`, Gemma's norm gains + 1, the
// tensor names of gguf-py), and a deliberately naive scalar forward pass in double precision that
// follows each Hugging Face modeling file, to check the engine against.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/naive_hooks.h"

namespace ps::test {

struct DecoderSpec {
    std::string label;
    std::string hf_class;   // "LlamaForCausalLM", "Gemma3ForCausalLM" ...
    std::string gguf_arch;  // "llama", "qwen2" ...; empty: no GGUF layout for this spec
    int dim = 32, hidden = 48, layers = 3, heads = 4, kv_heads = 2;
    int head_dim = 0;  // 0: dim / heads (not written to config.json)
    bool qkv_bias = false, o_bias = false, mlp_bias = false;
    bool tied = false;
    double rope_theta = 10000.0;
    nlohmann::json rope_scaling;         // null, or as in config.json
    double partial_rotary = 1.0;         // Phi-3
    int sliding_window = 0;              // 0: none
    std::vector<int> sliding_layers;     // empty with a window: every layer
    double rope_local_theta = 10000.0;   // Gemma 3's sliding layers
    double query_pre_attn_scalar = 0.0;  // Gemma 3
    double final_softcap = 0.0;          // Gemma 3 (optional)
    double eps = 1e-6;
    nlohmann::json extra;  // more config.json fields

    bool gemma() const { return hf_class == "Gemma3ForCausalLM"; }
    bool phi3() const { return hf_class == "Phi3ForCausalLM"; }
    bool qk_norm() const { return gemma() || hf_class == "Qwen3ForCausalLM"; }
    int hd() const { return head_dim > 0 ? head_dim : dim / heads; }
};

// One small model of each architecture and feature: Llama 3 (llama3 RoPE scaling, biases, tied),
// Mistral (sliding window, linear scaling, wide heads), Qwen2 (+ a windowed variant), Qwen3,
// Gemma 3 (+ a query-scale variant), Phi-3; `gguf_arch` empty where GGUF has no such layout.
std::vector<DecoderSpec> modern_decoder_specs();

// Hugging Face tensors by name, values exactly representable in F16 (multiples of 2^-10), so
// the F32 and F16 files hold the same numbers.
using HfWeights = std::map<std::string, std::vector<float>>;
HfWeights random_decoder_weights(const DecoderSpec& spec, int vocab, unsigned seed);

nlohmann::json hf_decoder_config(const DecoderSpec& spec, int vocab);
// config.json, model.safetensors ("F32" or "F16") and a SentencePiece tokenizer.json, or a copy
// of `tokenizer_json` (whose vocabulary the weights' embedding must match).
void write_hf_decoder(const std::string& dir, const DecoderSpec& spec, const HfWeights& w,
                      const std::string& dtype, const std::string& tokenizer_json = "");
// The same model as a GGUF file, matrices in F32 or F16 (norms and biases stay F32).
void write_gguf_decoder(const std::string& path, const DecoderSpec& spec, const HfWeights& w,
                        bool f16);
// The vocabulary both layouts carry.
int decoder_vocab_size();

// logits [T, vocab] row-major, by the Hugging Face algorithm, scalar, in double, with `hook`
// changing activations on the way.
std::vector<double> naive_decoder_logits(const DecoderSpec& spec, const HfWeights& w,
                                         const std::vector<int>& ids,
                                         const NaiveHook& hook = nullptr);

}  // namespace ps::test
