// Parameter edits: scale a tensor, set one value, zero a row or a column (one neuron's input
// weights, one token's embedding row), applied to a copy-on-write overlay of the model. The
// file is never written: an edited model shares everything with the one it was made from but
// the edited tensors, which it holds as f32 copies (a compact tensor is dequantized whole, once,
// when first edited), and dropping it undoes the edits exactly.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/model/model.h"

namespace ps {

struct WeightEdit {
    enum class Kind { Scale, Set };
    Kind kind = Kind::Scale;
    std::string tensor;  // the file's own name, as `paramscope info` lists it
    // Set: the element [row, col] (col -1 for a 1-D tensor); row or col -1 with the other set
    // means the whole column or row; both -1: the whole tensor. Scale acts on the same part.
    int64_t row = -1, col = -1;
    float value = 0.0f;   // Scale's factor or Set's value
    bool enabled = true;  // the app's on/off; edit_weights skips an edit that is off

    // "weight:TENSOR=F", "weight:TENSOR[i,j]=V", "weight:TENSOR[i,:]=V", "weight:TENSOR[:,j]=V",
    // "weight:TENSOR[i]=V" (1-D); "weight:TENSOR[i,:]*F" scales a part.
    std::string spec() const;
};

// Reads one weight edit, checked against `model`'s tensors and shapes (the tensor must exist,
// indices be in range). Throws ps::Error naming the part that is wrong.
WeightEdit parse_weight_edit(const std::string& spec, const Model& model);

// A model that is `base` with the enabled `edits` applied in order. `base` stays as it was.
std::shared_ptr<const Model> edit_weights(std::shared_ptr<const Model> base,
                                          const std::vector<WeightEdit>& edits);

}  // namespace ps
