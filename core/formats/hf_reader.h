// What the Hugging Face loaders share (core/formats/hf_model.cpp for the directory and GPT-2,
// core/formats/hf_decoders.cpp for Llama, Mistral, Qwen2, Qwen3, Gemma 3 and Phi-3): typed
// config.json fields, the directory's tensors by name, and their conversion into the model.
#pragma once

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/formats/safetensors.h"
#include "core/model/compact_weights.h"
#include "core/model/model.h"

namespace ps::hf {

using json = nlohmann::json;
using Shape = std::vector<int64_t>;

std::string shape_string(const Shape& shape);

// Typed access to config.json fields; every error names the file and the field.
struct ConfigReader {
    std::string path;
    const json& j;

    bool has(const char* field) const { return j.contains(field) && !j[field].is_null(); }

    int integer(const char* field, int lo, int hi) const {
        if (!has(field)) fail(path, std::string("missing field '") + field + "'");
        const json& v = j[field];
        if (!v.is_number_integer())
            fail(path, std::string("field '") + field + "' must be an integer, got " + v.dump());
        int64_t x = v.get<int64_t>();
        if (x < lo || x > hi)
            fail(path, std::string("field '") + field + "' is " + std::to_string(x) +
                           ", expected " + std::to_string(lo) + ".." + std::to_string(hi));
        return static_cast<int>(x);
    }
    int integer_or(const char* field, int fallback, int lo, int hi) const {
        return has(field) ? integer(field, lo, hi) : fallback;
    }
    float number_or(const char* field, double fallback, double lo, double hi) const {
        if (!has(field)) return static_cast<float>(fallback);
        const json& v = j[field];
        if (!v.is_number())
            fail(path, std::string("field '") + field + "' must be a number, got " + v.dump());
        double x = v.get<double>();
        if (!(x > lo && x <= hi))
            fail(path, std::string("field '") + field + "' is " + v.dump() +
                           ", expected a value in (" + std::to_string(lo) + ", " +
                           std::to_string(hi) + "]");
        return static_cast<float>(x);
    }
    bool boolean_or(const char* field, bool fallback) const {
        if (!has(field)) return fallback;
        if (!j[field].is_boolean())
            fail(path, std::string("field '") + field + "' must be true or false, got " +
                           j[field].dump());
        return j[field].get<bool>();
    }
    std::string string_or(const char* field, const std::string& fallback) const {
        if (!has(field)) return fallback;
        if (!j[field].is_string())
            fail(path,
                 std::string("field '") + field + "' must be a string, got " + j[field].dump());
        return j[field].get<std::string>();
    }
    void unsupported_if(bool condition, const char* field) const {
        if (condition)
            fail(path,
                 std::string("field '") + field + "' = " + j[field].dump() + " is not supported");
    }
};

struct StoredTensor {
    const SafetensorsTensor* tensor;
    const SafetensorsFile* file;
};

// Every tensor of the directory by name, whichever shard it is in.
struct TensorStore {
    std::vector<std::unique_ptr<SafetensorsFile>> files;
    std::map<std::string, StoredTensor> by_name;
    std::string weights_path;  // model.safetensors or the index, for errors about absent tensors

    const StoredTensor* find(const std::string& name) const {
        auto it = by_name.find(name);
        return it == by_name.end() ? nullptr : &it->second;
    }
};

// Whether a tensor stays in the file's F16/BF16 encoding (every matrix but GPT-2's position
// embedding, unless f32 weights were asked for).
bool stays_compact(const std::string& name, const SafetensorsTensor& t, bool compact);

// A tensor as the model uses it: f32 values, or (compact) the file's bytes in `dtype`.
using Stored = StoredMatrix;

// Turns the directory's tensors into f32 pointers or compact matrices and records each in the
// inventory.
struct WeightReader {
    Model& model;
    const TensorStore& store;
    bool compact = true;

    bool has(const std::string& name) const { return store.find(name) != nullptr; }

    // The f32 values of a vector or of the position embedding.
    const float* get(const std::string& name, const Shape& expected, int layer) {
        return get_stored(name, expected, layer).data;
    }

    Stored get_stored(const std::string& name, const Shape& expected, int layer) {
        const StoredTensor* st = store.find(name);
        if (!st)
            fail(store.weights_path,
                 "missing tensor '" + name + "' (expected shape " + shape_string(expected) + ")");
        const SafetensorsTensor& t = *st->tensor;
        const std::string& file = st->file->path();
        if (t.shape != expected)
            fail(file, "tensor '" + name + "': expected shape " + shape_string(expected) +
                           " from config.json, got " + shape_string(t.shape));

        TensorInfo info;
        info.name = name;
        info.shape = t.shape;
        info.kind = classify_tensor(name, t.shape.size());
        info.layer = layer;
        info.count = 1;
        for (int64_t d : t.shape) info.count *= d;
        info.bytes = static_cast<int64_t>(t.nbytes);
        Stored stored;
        if (stays_compact(name, t, compact)) {
            // SafetensorsFile checked that the extent is inside the file and holds `count`
            // values of the type.
            info.dtype = stored.dtype = t.dtype == "F16" ? DType::F16 : DType::BF16;
            info.raw = stored.raw = t.data;
        } else {
            info.data = stored.data = to_f32(t, file, info.dtype);
        }
        model.tensors.push_back(info);
        return stored;
    }

    // F32 in place when aligned; F16 and BF16 widened into storage the model keeps.
    const float* to_f32(const SafetensorsTensor& t, const std::string& file, DType& dtype) {
        const size_t n = t.nbytes / (t.dtype == "F32" ? 4 : 2);
        if (t.dtype == "F32") {
            dtype = DType::F32;
            if (reinterpret_cast<uintptr_t>(t.data) % alignof(float) == 0)
                return reinterpret_cast<const float*>(t.data);
            std::vector<float> copy(n);
            std::memcpy(copy.data(), t.data, t.nbytes);
            return model.keep(std::move(copy));
        }
        if (t.dtype != "F16" && t.dtype != "BF16")
            fail(file, "unsupported dtype " + t.dtype + " for tensor '" + t.name +
                           "' (supported: F32, F16, BF16)");
        dtype = t.dtype == "F16" ? DType::F16 : DType::BF16;
        std::vector<float> values(n);
        // The conversion the forward pass uses on weights kept as stored: the same values.
        dequantize(dtype, t.data, values.data(), static_cast<int64_t>(n));
        return model.keep(std::move(values));
    }

    // Whether two stored tensors hold the same bytes (an untied-looking but tied lm_head).
    bool identical(const std::string& a, const std::string& b) const {
        const StoredTensor* x = store.find(a);
        const StoredTensor* y = store.find(b);
        return x && y && x->tensor->dtype == y->tensor->dtype &&
               x->tensor->shape == y->tensor->shape && x->tensor->nbytes == y->tensor->nbytes &&
               std::memcmp(x->tensor->data, y->tensor->data, x->tensor->nbytes) == 0;
    }
};

// A tensor named "<prefix><N>.<rest>" belongs to block N; blocks past n_layers mean the
// config and the weights disagree.
void check_layer_indices(const TensorStore& store, const std::string& prefix, int n_layers,
                         const std::string& config_path, const char* field);
// The unembedding as the token embedding (tied weights).
Linear tied_unembedding(const Weights& w, int dim, int vocab);
void set_token_embedding(Weights& w, const StoredMatrix& e);

// Llama, Mistral, Qwen2, Qwen3, Gemma 3 (text) and Phi-3 directories
// (core/formats/hf_decoders.cpp).
void load_decoder(Model& m, Arch arch, const ConfigReader& cfg, WeightReader& r,
                  const TensorStore& store);

}  // namespace ps::hf
