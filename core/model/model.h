// The in-memory model every format loads into, and the parameter inventory.
//
// Conventions (the same as llama2.c): activations are row-major [T, dim], one row per token;
// a Linear maps x[in] -> y[out] and is stored either as [out, in] (llama2.c, GGUF, HF Llama)
// or as [in, out] (HF GPT-2 Conv1D), used in place from the file: as f32 values when the file
// holds f32, else (unless the user asks for f32 weights) in the file's own encoding, which the
// forward pass dequantizes a panel at a time (core/model/compact_weights.h).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor/dtype.h"
#include "core/tensor/mapped_file.h"
#include "core/tokenizer/tokenizer.h"

namespace ps {

// The architecture families. Each runs one of two block functions (core/model/blocks.cpp):
// pre-norm (GPT-2, Llama, Mistral, Qwen2, Qwen3, Phi-3) or Gemma 3's sandwich of four norms; what
// else differs (norm kind, gated MLP, biases, q/k norms, RoPE variant, masks) is in Config and
// in which weights are present.
enum class Arch { Llama, Gpt2, Mistral, Qwen2, Qwen3, Gemma3, Phi3 };
// Which pairs of a head's dimensions RoPE rotates together: (2i, 2i+1) in llama2.c and GGUF
// `llama`; (i, i + rotary_dims/2) (rotate-half, "NeoX") in Hugging Face checkpoints, whose q/k rows
// are permuted to match, and in GGUF qwen2, qwen3, gemma3 and phi3.
enum class RopeStyle { Interleaved, Half };
enum class ParamKind { Embedding, Weight, Bias, Norm };

const char* arch_name(Arch a);       // "llama", "gpt2", "mistral", "qwen2", "qwen3", ...
const char* kind_name(ParamKind k);  // "embedding", "weight", "bias", "norm"

// How a long-context model stretches RoPE's frequencies (Hugging Face rope_scaling).
struct RopeScaling {
    enum class Type { None, Linear, Llama3 };
    Type type = Type::None;
    float factor = 1.0f;  // Linear: every frequency / factor; Llama3: the low frequencies'
    float low_freq_factor = 1.0f, high_freq_factor = 4.0f;  // Llama3's band edges
    int original_context = 8192;  // Llama3's original_max_position_embeddings
};

struct Config {
    Arch arch = Arch::Llama;
    int dim = 0;         // residual stream width (d_model)
    int hidden_dim = 0;  // MLP width (d_mlp)
    int n_layers = 0;
    int n_heads = 0;
    int n_kv_heads = 0;  // == n_heads without grouped-query attention
    int vocab_size = 0;
    int context_length = 0;  // longest prompt the model accepts
    float norm_eps = 1e-5f;  // RMSNorm (llama) or LayerNorm (gpt2) epsilon
    float rope_theta = 10000.0f;
    RopeStyle rope_style = RopeStyle::Interleaved;
    bool tied_embeddings = false;  // unembedding shares the token embedding matrix

    int head_size = 0;  // per-head width when it isn't dim / n_heads (Qwen3, Gemma 3); 0: that
    int rope_dims = 0;  // leading dimensions of each head RoPE rotates (Phi-3); 0: all
    RopeScaling rope_scaling;
    float rope_theta_sliding = 0.0f;  // Gemma 3's sliding-window layers: their own unscaled base
    int sliding_window = 0;           // a query at i sees keys j with i - j < window; 0: all keys
    std::vector<uint8_t> sliding_layers;  // which layers use the window; empty: every layer
    float attn_scale = 0.0f;              // query scale; 0: 1/sqrt(head_dim) (Gemma 3: its own)
    float norm_offset = 0.0f;    // RMSNorm multiplies by (norm_offset + gain): HF Gemma's 1
    float embed_scale = 1.0f;    // token embeddings times this (Gemma: sqrt(dim))
    float attn_softcap = 0.0f;   // scores -> cap * tanh(scores / cap); 0: none
    float final_softcap = 0.0f;  // the same on the logits

    int head_dim() const { return head_size > 0 ? head_size : dim / n_heads; }
    int q_dim() const { return head_dim() * n_heads; }  // the queries' (and attention's) width
    int kv_dim() const { return head_dim() * n_kv_heads; }
    int rotary_dims() const { return rope_dims > 0 ? rope_dims : head_dim(); }
    bool rotary() const { return arch != Arch::Gpt2; }
    bool gated_mlp() const { return arch != Arch::Gpt2; }   // act(gate) * up
    bool layer_norm() const { return arch == Arch::Gpt2; }  // LayerNorm, else RMSNorm
    // The window layer `layer` attends through, 0 for all keys.
    int window(int layer) const {
        if (sliding_window <= 0) return 0;
        if (sliding_layers.empty()) return sliding_window;
        return layer >= 0 && layer < static_cast<int>(sliding_layers.size()) &&
                       sliding_layers[static_cast<size_t>(layer)]
                   ? sliding_window
                   : 0;
    }
};

// y = x W^T + b. `w` points at `out` rows of `in` floats (row stride `ld`, default `in`), or,
// when `stored_in_out`, at `in` rows of `out` floats (row stride `ld`, default `out`): that lets
// a column block of a fused [in, 3*dim] GPT-2 c_attn be used in place.
// A compact Linear has no `w`: `raw` points at the same layout in the file's encoding `dtype`
// (F16, BF16 or a ggml block type whose blocks run along the stored rows; `ld` still counts
// values, and a column block needs a type of block size 1).
struct Linear {
    const float* w = nullptr;
    const float* b = nullptr;  // [out] or null, always f32
    int in = 0;
    int out = 0;
    bool stored_in_out = false;
    int ld = 0;                    // row stride in values; 0 means dense
    DType dtype = DType::F32;      // the encoding of `raw`
    const uint8_t* raw = nullptr;  // set instead of `w` when compact
    int row_stride() const { return ld ? ld : (stored_in_out ? out : in); }
    bool compact() const { return raw != nullptr; }
};

struct LayerWeights {
    const float* attn_norm = nullptr;       // [dim] gain
    const float* attn_norm_bias = nullptr;  // [dim], GPT-2 only
    Linear wq, wk, wv, wo;                  // q: dim->q_dim, k/v: dim->kv_dim, o: q_dim->dim
    const float* q_norm = nullptr;  // [head_dim] RMSNorm gain per query head (Qwen3, Gemma 3)
    const float* k_norm = nullptr;  // [head_dim], the same for keys
    const float* post_attn_norm = nullptr;  // [dim] Gemma 3: on the attention output
    const float* ffn_norm = nullptr;        // Gemma 3: pre_feedforward_layernorm
    const float* ffn_norm_bias = nullptr;
    const float* post_ffn_norm = nullptr;  // [dim] Gemma 3: on the MLP output
    Linear ffn_gate;                       // llama w1 (dim->hidden); unused in GPT-2
    Linear ffn_up;                         // llama w3, GPT-2 c_fc (dim->hidden)
    Linear ffn_down;                       // llama w2, GPT-2 mlp.c_proj (hidden->dim)
};

// Norm gains, biases and GPT-2's position embedding are small: they are always f32 (widened
// at load when the file stores them otherwise). The token embedding, like a Linear, may be
// compact: then only the rows of the prompt's tokens are dequantized (token_embedding_row).
struct Weights {
    const float* token_embedding = nullptr;  // [vocab, dim], or null when compact
    DType token_embedding_dtype = DType::F32;
    const uint8_t* token_embedding_raw = nullptr;  // [vocab, dim] in token_embedding_dtype
    const float* position_embedding = nullptr;     // [context, dim], GPT-2 only
    std::vector<LayerWeights> layers;
    const float* final_norm = nullptr;
    const float* final_norm_bias = nullptr;
    Linear unembed;  // dim -> vocab; w (or raw) may alias the token embedding
    // GGUF rope_freqs.weight [rotary_dims/2]: each frequency is divided by its factor (Llama 3's
    // rope scaling as llama.cpp's converter stores it).
    const float* rope_freq_factors = nullptr;
};

// One tensor as stored in the file, for the inventory and the histograms.
struct TensorInfo {
    std::string name;            // the file's own name, e.g. "blk.0.attn_q.weight"
    std::vector<int64_t> shape;  // outermost first, e.g. [out, in] ([512, 64] for an embedding)
    DType dtype = DType::F32;    // as stored in the file
    ParamKind kind = ParamKind::Weight;
    int layer = -1;                // block index, -1 outside the blocks
    int64_t count = 0;             // number of parameters
    int64_t bytes = 0;             // bytes in the file
    const float* data = nullptr;   // `count` f32 values (mapped or dequantized), or null when
    const uint8_t* raw = nullptr;  // compact: the `count` values as stored, in `dtype`
    int64_t non_finite = 0;        // how many of them are NaN or infinite (note_non_finite_weights)
};

struct KindTotals {
    int64_t embedding = 0, weight = 0, bias = 0, norm = 0;
    int64_t total() const { return embedding + weight + bias + norm; }
};

class Model {
  public:
    std::string path;    // what the user opened
    std::string format;  // "llama2c", "gguf", "hf"
    std::string name;    // a display name (file or directory name, or general.name)
    Config config;
    Weights weights;
    std::vector<TensorInfo> tensors;
    std::shared_ptr<Tokenizer> tokenizer;  // shared with the models edited from this one

    // Problems that don't stop the model from loading, for the user to see: tensors holding
    // NaN or infinite values (load_model fills it with note_non_finite_weights).
    std::vector<std::string> warnings;

    // Storage the pointers above point into.
    std::vector<std::unique_ptr<MappedFile>> files;
    std::vector<std::vector<float>> owned;
    std::vector<std::vector<uint8_t>> owned_raw;  // encoded matrices built in memory
    // The model this one was edited from (core/model/weight_edit.h), whose storage it shares.
    std::shared_ptr<const Model> edited_from;
    std::vector<std::string> weight_edits;  // the edits made since the file, as their specs

    // Keeps `values` alive for the model's lifetime and returns a pointer to them.
    const float* keep(std::vector<float> values);
    const uint8_t* keep_raw(std::vector<uint8_t> bytes);
    // Bytes the model holds beyond the file mappings (`owned` and `owned_raw`).
    int64_t owned_bytes() const;
    // Whether some tensor is kept in the file's encoding rather than as f32.
    bool has_compact_tensors() const;

    // Parameter totals; a tied unembedding is counted once (it is one tensor).
    KindTotals totals() const;
    std::vector<KindTotals> totals_per_layer() const;  // n_layers entries

    // Checks the config is sane and every pointer the forward pass needs is set; throws
    // ps::Error naming `path` and what is missing or wrong.
    void validate() const;
};

// Adds a warning to `model.warnings` for each tensor holding NaN or infinite values. Such a
// model still loads, so the broken tensors can be inspected; what is computed from them is NaN.
void note_non_finite_weights(Model& model);

// Guesses a tensor's kind from its name ("*.bias" -> Bias, norms -> Norm, embeddings ...).
ParamKind classify_tensor(const std::string& name, size_t rank);

}  // namespace ps
