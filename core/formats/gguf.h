// GGUF v2/v3, the llama.cpp file format: parsing and validation.
//
// Layout (all little-endian): "GGUF", u32 version, u64 tensor_count, u64 kv_count;
// kv_count x {string key, u32 value_type, value}; tensor_count x {string name, u32 n_dims,
// u64 ne[n_dims], u32 ggml_type, u64 offset}; padding to general.alignment (default 32);
// the data section. A string is a u64 length then bytes; an array is a u32 element type,
// a u64 count, then the elements (arrays may nest). Tensor dims are in ggml order: ne[0]
// varies fastest, so a row-major [out, in] matrix has ne = {in, out}. Tensor offsets are
// relative to the data section and multiples of the alignment.
//
// GgufFile checks every length, count and offset against the file's real size before using
// it, so a corrupt or hostile file fails with a ps::Error naming the file and the key or
// tensor, never with a crash or a huge allocation.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/formats/loader.h"
#include "core/tensor/mapped_file.h"
#include "core/tokenizer/tokenizer.h"

namespace ps {

enum class GgufType : uint32_t {
    U8 = 0,
    I8 = 1,
    U16 = 2,
    I16 = 3,
    U32 = 4,
    I32 = 5,
    F32 = 6,
    Bool = 7,
    String = 8,
    Array = 9,
    U64 = 10,
    I64 = 11,
    F64 = 12,
};

const char* gguf_type_name(GgufType t);  // "u32", "string", "array", ...

// One metadata entry. Scalars are decoded; arrays are validated and located, and decoded on
// demand by the typed getters (a 50,000-entry merges array is not copied twice).
struct GgufKv {
    std::string key;
    GgufType type = GgufType::U8;
    int64_t int_value = 0;  // every integer type (get_int rejects a u64 above INT64_MAX)
    double float_value = 0;
    bool bool_value = false;
    std::string string_value;
    GgufType elem_type = GgufType::U8;  // arrays: element type
    uint64_t count = 0;                 // arrays: element count
    uint64_t elems_offset = 0;          // arrays: file offset of the first element
};

struct GgufTensor {
    std::string name;
    std::vector<int64_t> ne;  // ggml order: ne[0] fastest
    uint32_t type = 0;        // ggml type id
    uint64_t offset = 0;      // relative to the data section
    int64_t count = 0;        // number of elements
    uint64_t nbytes = 0;      // bytes in the file
    const uint8_t* data = nullptr;

    // Outermost-first shape (the reverse of ne), as the inventory shows it.
    std::vector<int64_t> shape() const { return {ne.rbegin(), ne.rend()}; }
};

class GgufFile {
  public:
    // Maps and parses `path`; throws ps::Error naming the file and the field on any problem.
    explicit GgufFile(const std::string& path);

    const std::string& path() const { return file_->path(); }
    uint32_t version() const { return version_; }
    uint64_t alignment() const { return alignment_; }
    uint64_t data_start() const { return data_start_; }
    const std::vector<GgufKv>& kvs() const { return kvs_; }
    const std::vector<GgufTensor>& tensors() const { return tensors_; }

    const GgufKv* find(const std::string& key) const;  // null if absent
    const GgufTensor* find_tensor(const std::string& name) const;

    // Typed getters: throw ps::Error naming the file and key when it is absent or of another
    // type. get_int accepts any integer type, get_f32 f32 or f64.
    std::string get_string(const std::string& key) const;
    int64_t get_int(const std::string& key) const;
    float get_f32(const std::string& key) const;
    bool get_bool(const std::string& key) const;
    std::vector<std::string> get_string_array(const std::string& key) const;
    std::vector<float> get_f32_array(const std::string& key) const;
    std::vector<int32_t> get_i32_array(const std::string& key) const;  // any integer elements
    uint64_t array_size(const std::string& key) const;                 // element count

    // Optional lookups: nullopt when absent, an error when present with the wrong type.
    std::optional<std::string> opt_string(const std::string& key) const;
    std::optional<int64_t> opt_int(const std::string& key) const;
    std::optional<float> opt_f32(const std::string& key) const;
    std::optional<bool> opt_bool(const std::string& key) const;

    // Gives the mapping to a Model so tensor pointers stay valid.
    std::unique_ptr<MappedFile> release_mapping() { return std::move(file_); }

  private:
    std::unique_ptr<MappedFile> file_;
    uint32_t version_ = 0;
    uint64_t alignment_ = 32;
    uint64_t data_start_ = 0;
    std::vector<GgufKv> kvs_;
    std::vector<GgufTensor> tensors_;

    const GgufKv& require(const std::string& key) const;
    const GgufKv& require_array(const std::string& key, const char* elements) const;
    [[noreturn]] void wrong_type(const GgufKv& kv, const char* expected) const;
};

// The tokenizer a GGUF file describes (tokenizer.ggml.*), as plain data: "llama" gives an
// SPM vocabulary, "gpt2" a byte-level BPE one. Throws ps::Error naming the file and key on
// missing or inconsistent fields (e.g. scores shorter than tokens, bos id out of range).
struct GgufVocab {
    std::string model;  // tokenizer.ggml.model
    SpmVocab spm;       // when model == "llama"
    BpeVocab bpe;       // when model == "gpt2"
};
GgufVocab read_gguf_vocab(const GgufFile& f);
// Builds the tokenizer from read_gguf_vocab (make_spm_tokenizer / make_bpe_tokenizer).
std::unique_ptr<Tokenizer> make_gguf_tokenizer(const GgufFile& f);

class Model;
// The config, weights and tensor inventory of a GGUF `llama` or `gpt2` model, every tensor's
// shape checked against the config; no tokenizer yet and not validate()d. load_gguf_model
// (core/formats/loader.h) is this plus make_gguf_tokenizer and Model::validate().
std::unique_ptr<Model> load_gguf_weights(const std::string& path, const LoadOptions& options = {});

}  // namespace ps
