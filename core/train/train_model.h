// The GPT-2 the trainer trains: its parameter layout (Hugging Face GPT2LMHeadModel names, one
// flat vector like llm.c), and a forward pass that caches every activation, with a hand-written
// backward pass for each operation. Templated on the scalar type so the gradient check can run
// the very same code in double precision; the trainer uses float.
#pragma once

#include <Eigen/Core>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace ps {

struct Gpt2Shape {
    int vocab_size = 0;
    int context_length = 0;  // n_positions: the longest sequence, and the rows of wpe
    int dim = 0;             // n_embd
    int n_layers = 0;
    int n_heads = 0;
    int hidden_dim() const { return 4 * dim; }
    int head_dim() const { return dim / n_heads; }
};

// Throws ps::Error unless every size is positive, bounded and dim is a multiple of n_heads.
void check_shape(const Gpt2Shape& shape);

// One parameter tensor inside the flat vector, in Hugging Face GPT-2 naming and layout
// (Conv1D weights stored [in, out]).
struct ParamTensor {
    std::string name;  // "wte.weight", "h.0.attn.c_attn.weight", ...
    std::vector<int64_t> shape;
    size_t offset = 0;  // into the flat vector
    size_t count = 0;
    bool decay = false;  // weight decay applies to matrices only (not biases or norm gains)
};

// Every tensor in the order Hugging Face writes them; the offsets tile [0, param_count).
std::vector<ParamTensor> gpt2_layout(const Gpt2Shape& shape);
// vocab*d + context*d + layers*(12d^2 + 13d) + 2d.
size_t gpt2_param_count(const Gpt2Shape& shape);
// Floating-point operations of one training token (forward + backward, sequences of
// context_length): 6 per weight of every matrix product incl. the unembedding (2 forward, 4
// backward), plus 12 * layers * T * d for the T x T attention products as computed (the causal
// mask is applied after full products). Elementwise work is not counted, as in PaLM's MFU.
double gpt2_training_flops_per_token(const Gpt2Shape& shape);

template <class S>
using MatrixR = Eigen::Matrix<S, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class S>
using VectorS = Eigen::Matrix<S, Eigen::Dynamic, 1>;

// The activations of one sequence that the backward pass needs (row t = position t).
template <class S>
struct LayerActs {
    MatrixR<S> x_in;                // residual stream entering the block [T, d]
    MatrixR<S> ln1;                 // ln_1 output [T, d]
    VectorS<S> ln1_mean, ln1_rstd;  // [T]
    MatrixR<S> qkv;                 // c_attn output [T, 3d]
    MatrixR<S> att;                 // softmax weights [H*T, T], head h = rows h*T..
    MatrixR<S> att_y;               // heads' outputs, concatenated [T, d]
    MatrixR<S> x_mid;               // residual after attention [T, d]
    MatrixR<S> ln2;                 // ln_2 output [T, d]
    VectorS<S> ln2_mean, ln2_rstd;  // [T]
    MatrixR<S> fc;                  // c_fc output before GELU [T, 4d]
    MatrixR<S> fc_gelu;             // after GELU [T, 4d]
};

template <class S>
struct SequenceActs {
    std::vector<LayerActs<S>> layers;
    MatrixR<S> x_out;               // residual after the last block [T, d]
    MatrixR<S> lnf;                 // ln_f output [T, d]
    VectorS<S> lnf_mean, lnf_rstd;  // [T]
    MatrixR<S> logits;              // [T, vocab]; the loss turns them into probabilities
};

template <class S>
class Gpt2 {
  public:
    explicit Gpt2(const Gpt2Shape& shape);
    const Gpt2Shape& shape() const { return shape_; }
    const std::vector<ParamTensor>& layout() const { return layout_; }
    size_t param_count() const { return count_; }

    // Logits [T, vocab] of one sequence of T <= context_length ids.
    MatrixR<S> logits(const S* params, const int* ids, int T) const;

    // Mean cross-entropy of predicting targets[b*T + t] from inputs[b*T .. b*T + t], over the
    // B sequences of length T. With `grads` (param_count values), writes the gradient of that
    // mean loss there (overwriting). Sequences are split into `threads` contiguous chunks, each
    // with its own activations and gradient buffer, summed in chunk order: the result depends
    // on the thread count but never on scheduling.
    S loss(const S* params, const int* inputs, const int* targets, int B, int T, S* grads,
           int threads) const;

  private:
    void check_ids(const int* ids, int n) const;  // throws unless every id < vocab_size
    // Forward of one sequence, caching activations; leaves probs = softmax(logits).
    void forward(const S* params, const int* ids, int T, SequenceActs<S>& acts) const;
    // Adds d(loss)/d(params) for one sequence to `grads`; `scale` = 1 / (number of positions).
    void backward(const S* params, const int* ids, const int* targets, int T, S scale,
                  SequenceActs<S>& acts, S* grads) const;

    Gpt2Shape shape_;
    std::vector<ParamTensor> layout_;
    size_t count_ = 0;
    // Offsets of each block's tensors, and of the embeddings and final norm.
    struct LayerOffsets {
        size_t ln1_w, ln1_b, attn_w, attn_b, proj_w, proj_b, ln2_w, ln2_b, fc_w, fc_b, fc2_w, fc2_b;
    };
    std::vector<LayerOffsets> off_;
    size_t wte_ = 0, wpe_ = 0, lnf_w_ = 0, lnf_b_ = 0;
};

extern template class Gpt2<float>;
extern template class Gpt2<double>;

}  // namespace ps
