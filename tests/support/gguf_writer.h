// A tiny GGUF v3 writer for tests: builds valid files (metadata of the common types, F32/F16
// or raw tensors with ggml dims), and, through bytes() + layout() + patch_*(), deliberately
// broken ones.
//
//   ps::test::GgufWriter w;
//   w.set_string("general.architecture", "gpt2");
//   w.set_u32("gpt2.block_count", 2);
//   w.set_f32("gpt2.attention.layer_norm_epsilon", 1e-5f);
//   w.set_string_array("tokenizer.ggml.tokens", pieces);
//   w.add_tensor_f32("token_embd.weight", {dim, vocab}, data);  // ggml order: ne[0] fastest
//   w.write(path);
//
// Corrupting a file:
//   std::vector<uint8_t> b = w.bytes();
//   GgufWriter::Layout at = w.layout();
//   GgufWriter::patch_u64(b, at.tensor_count, 1000000000);
//   GgufWriter::write_bytes(path, b);
//
// The layout follows the GGUF spec: "GGUF", u32 version, u64 tensor_count, u64 kv_count, then
// kv_count {string key, u32 type, value}, then tensor_count {string name, u32 n_dims,
// u64 dims[n_dims], u32 ggml_type, u64 offset}, zero padding to `alignment`, then the data
// section; each tensor starts at a multiple of `alignment` relative to the data section and
// is padded to it (as ggml writes it). Strings are a u64 length and bytes, no terminator.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ps::test {

// GGUF metadata value types.
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

// ggml tensor types used in tests (values as in ggml.h).
namespace ggml_type {
constexpr uint32_t F32 = 0, F16 = 1, Q4_0 = 2, Q4_1 = 3, Q5_0 = 6, Q5_1 = 7, Q8_0 = 8, Q2_K = 10,
                   Q3_K = 11, Q4_K = 12, Q5_K = 13, Q6_K = 14, IQ2_XXS = 16, IQ4_NL = 20,
                   IQ4_XS = 23, BF16 = 30;
}

class GgufWriter {
  public:
    uint32_t version = 3;
    // Alignment of the tensor data. Changing it does not write general.alignment: call
    // set_u32("general.alignment", n) too (or deliberately don't, to build a broken file).
    uint64_t alignment = 32;

    // Metadata, written in call order (setting a key twice writes it twice).
    void set_u8(const std::string& key, uint8_t v);
    void set_i8(const std::string& key, int8_t v);
    void set_u16(const std::string& key, uint16_t v);
    void set_i16(const std::string& key, int16_t v);
    void set_u32(const std::string& key, uint32_t v);
    void set_i32(const std::string& key, int32_t v);
    void set_u64(const std::string& key, uint64_t v);
    void set_i64(const std::string& key, int64_t v);
    void set_f32(const std::string& key, float v);
    void set_f64(const std::string& key, double v);
    void set_bool(const std::string& key, bool v);
    void set_string(const std::string& key, const std::string& v);
    void set_string_array(const std::string& key, const std::vector<std::string>& v);
    void set_f32_array(const std::string& key, const std::vector<float>& v);
    void set_i32_array(const std::string& key, const std::vector<int32_t>& v);
    void set_u32_array(const std::string& key, const std::vector<uint32_t>& v);
    // Any value: `type` and its already-encoded payload (for arrays: u32 element type,
    // u64 count, elements), e.g. nested arrays or a string whose length field lies.
    void set_raw(const std::string& key, GgufType type, std::vector<uint8_t> payload);

    // Tensors. `ggml_dims` are in ggml order (ne[0], the fastest-varying, first), so a
    // row-major [out, in] matrix has ggml_dims {in, out}. Data is copied.
    void add_tensor_f32(const std::string& name, const std::vector<int64_t>& ggml_dims,
                        const float* data);
    // Stores `data` rounded to IEEE half.
    void add_tensor_f16(const std::string& name, const std::vector<int64_t>& ggml_dims,
                        const float* data);
    // Any ggml type with its raw bytes (quantized blocks, or a size that doesn't match).
    // The tensor info's offset is the next aligned position unless `offset` is given
    // (e.g. to make two tensors overlap); `bytes` are then written at that position anyway.
    void add_tensor_raw(const std::string& name, const std::vector<int64_t>& ggml_dims,
                        uint32_t type, std::vector<uint8_t> bytes, int64_t offset = -1);

    // Where things are in bytes(), for patching. All offsets are absolute file offsets.
    struct Layout {
        size_t version = 4, tensor_count = 8, kv_count = 16;
        std::vector<size_t> kv;             // start of each KV (its key's length field)
        std::vector<size_t> kv_value;       // start of each KV's value type field
        std::vector<size_t> tensor_info;    // start of each tensor info (its name's length)
        std::vector<size_t> tensor_dims;    // each tensor info's n_dims field
        std::vector<size_t> tensor_type;    // each tensor info's ggml type field
        std::vector<size_t> tensor_offset;  // each tensor info's offset field
        size_t data_start = 0;              // the aligned start of the data section
        std::vector<size_t> tensor_data;    // absolute start of each tensor's data
    };

    std::vector<uint8_t> bytes() const;
    Layout layout() const;
    void write(const std::string& path) const;  // throws std::runtime_error on I/O failure

    static void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes);
    static void patch_u32(std::vector<uint8_t>& bytes, size_t at, uint32_t v);
    static void patch_u64(std::vector<uint8_t>& bytes, size_t at, uint64_t v);
    // Encoding helpers for set_raw payloads.
    static void put_u32(std::vector<uint8_t>& out, uint32_t v);
    static void put_u64(std::vector<uint8_t>& out, uint64_t v);
    static void put_string(std::vector<uint8_t>& out, const std::string& s);

  private:
    struct Kv {
        std::string key;
        GgufType type;
        std::vector<uint8_t> payload;
    };
    struct Tensor {
        std::string name;
        std::vector<int64_t> dims;
        uint32_t type;
        std::vector<uint8_t> bytes;
        int64_t offset;  // -1: automatic
    };
    std::vector<Kv> kvs_;
    std::vector<Tensor> tensors_;

    std::vector<uint8_t> build(Layout* layout) const;
};

}  // namespace ps::test
