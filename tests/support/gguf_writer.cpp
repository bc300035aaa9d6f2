#include "tests/support/gguf_writer.h"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <stdexcept>

#include "core/tensor/half.h"

namespace ps::test {

void GgufWriter::put_u32(std::vector<uint8_t>& out, uint32_t v) {
    for (int i = 0; i < 4; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void GgufWriter::put_u64(std::vector<uint8_t>& out, uint64_t v) {
    for (int i = 0; i < 8; ++i) out.push_back(static_cast<uint8_t>(v >> (8 * i)));
}

void GgufWriter::put_string(std::vector<uint8_t>& out, const std::string& s) {
    put_u64(out, s.size());
    out.insert(out.end(), s.begin(), s.end());
}

void GgufWriter::patch_u32(std::vector<uint8_t>& bytes, size_t at, uint32_t v) {
    if (at + 4 > bytes.size()) throw std::runtime_error("patch_u32 beyond the buffer");
    for (int i = 0; i < 4; ++i) bytes[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

void GgufWriter::patch_u64(std::vector<uint8_t>& bytes, size_t at, uint64_t v) {
    if (at + 8 > bytes.size()) throw std::runtime_error("patch_u64 beyond the buffer");
    for (int i = 0; i < 8; ++i) bytes[at + i] = static_cast<uint8_t>(v >> (8 * i));
}

template <typename T>
static std::vector<uint8_t> raw_of(const T& v) {
    std::vector<uint8_t> out(sizeof v);
    std::memcpy(out.data(), &v, sizeof v);
    return out;
}

void GgufWriter::set_raw(const std::string& key, GgufType type, std::vector<uint8_t> payload) {
    kvs_.push_back({key, type, std::move(payload)});
}

void GgufWriter::set_u8(const std::string& k, uint8_t v) {
    set_raw(k, GgufType::U8, raw_of(v));
}
void GgufWriter::set_i8(const std::string& k, int8_t v) {
    set_raw(k, GgufType::I8, raw_of(v));
}
void GgufWriter::set_u16(const std::string& k, uint16_t v) {
    set_raw(k, GgufType::U16, raw_of(v));
}
void GgufWriter::set_i16(const std::string& k, int16_t v) {
    set_raw(k, GgufType::I16, raw_of(v));
}
void GgufWriter::set_u32(const std::string& k, uint32_t v) {
    set_raw(k, GgufType::U32, raw_of(v));
}
void GgufWriter::set_i32(const std::string& k, int32_t v) {
    set_raw(k, GgufType::I32, raw_of(v));
}
void GgufWriter::set_u64(const std::string& k, uint64_t v) {
    set_raw(k, GgufType::U64, raw_of(v));
}
void GgufWriter::set_i64(const std::string& k, int64_t v) {
    set_raw(k, GgufType::I64, raw_of(v));
}
void GgufWriter::set_f32(const std::string& k, float v) {
    set_raw(k, GgufType::F32, raw_of(v));
}
void GgufWriter::set_f64(const std::string& k, double v) {
    set_raw(k, GgufType::F64, raw_of(v));
}
void GgufWriter::set_bool(const std::string& k, bool v) {
    set_raw(k, GgufType::Bool, {static_cast<uint8_t>(v ? 1 : 0)});
}
void GgufWriter::set_string(const std::string& k, const std::string& v) {
    std::vector<uint8_t> p;
    put_string(p, v);
    set_raw(k, GgufType::String, std::move(p));
}

void GgufWriter::set_string_array(const std::string& k, const std::vector<std::string>& v) {
    std::vector<uint8_t> p;
    put_u32(p, static_cast<uint32_t>(GgufType::String));
    put_u64(p, v.size());
    for (const std::string& s : v) put_string(p, s);
    set_raw(k, GgufType::Array, std::move(p));
}

template <typename T>
static std::vector<uint8_t> array_payload(GgufType elem, const std::vector<T>& v) {
    std::vector<uint8_t> p;
    GgufWriter::put_u32(p, static_cast<uint32_t>(elem));
    GgufWriter::put_u64(p, v.size());
    const size_t at = p.size();
    p.resize(at + v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(p.data() + at, v.data(), v.size() * sizeof(T));
    return p;
}

void GgufWriter::set_f32_array(const std::string& k, const std::vector<float>& v) {
    set_raw(k, GgufType::Array, array_payload(GgufType::F32, v));
}
void GgufWriter::set_i32_array(const std::string& k, const std::vector<int32_t>& v) {
    set_raw(k, GgufType::Array, array_payload(GgufType::I32, v));
}
void GgufWriter::set_u32_array(const std::string& k, const std::vector<uint32_t>& v) {
    set_raw(k, GgufType::Array, array_payload(GgufType::U32, v));
}

static int64_t element_count(const std::vector<int64_t>& dims) {
    int64_t n = 1;
    for (int64_t d : dims) n *= d;
    return n;
}

void GgufWriter::add_tensor_f32(const std::string& name, const std::vector<int64_t>& ggml_dims,
                                const float* data) {
    const size_t n = static_cast<size_t>(element_count(ggml_dims));
    std::vector<uint8_t> bytes(n * sizeof(float));
    if (n) std::memcpy(bytes.data(), data, bytes.size());
    add_tensor_raw(name, ggml_dims, ggml_type::F32, std::move(bytes));
}

void GgufWriter::add_tensor_f16(const std::string& name, const std::vector<int64_t>& ggml_dims,
                                const float* data) {
    const size_t n = static_cast<size_t>(element_count(ggml_dims));
    std::vector<uint8_t> bytes(n * 2);
    for (size_t i = 0; i < n; ++i) {
        uint16_t h = f32_to_f16(data[i]);
        std::memcpy(bytes.data() + 2 * i, &h, 2);
    }
    add_tensor_raw(name, ggml_dims, ggml_type::F16, std::move(bytes));
}

void GgufWriter::add_tensor_raw(const std::string& name, const std::vector<int64_t>& ggml_dims,
                                uint32_t type, std::vector<uint8_t> bytes, int64_t offset) {
    tensors_.push_back({name, ggml_dims, type, std::move(bytes), offset});
}

static uint64_t align_up(uint64_t x, uint64_t a) {
    return a ? (x + a - 1) / a * a : x;
}

std::vector<uint8_t> GgufWriter::build(Layout* layout) const {
    Layout at;
    std::vector<uint8_t> out = {'G', 'G', 'U', 'F'};
    put_u32(out, version);
    put_u64(out, tensors_.size());
    put_u64(out, kvs_.size());
    for (const Kv& kv : kvs_) {
        at.kv.push_back(out.size());
        put_string(out, kv.key);
        at.kv_value.push_back(out.size());
        put_u32(out, static_cast<uint32_t>(kv.type));
        out.insert(out.end(), kv.payload.begin(), kv.payload.end());
    }

    // Data offsets (relative to the data section): automatic ones follow each other, each
    // aligned; explicit ones are taken as given.
    std::vector<uint64_t> offsets;
    uint64_t next = 0, data_size = 0;
    for (const Tensor& t : tensors_) {
        uint64_t off = t.offset >= 0 ? static_cast<uint64_t>(t.offset) : next;
        offsets.push_back(off);
        uint64_t end = off + t.bytes.size();
        if (t.offset < 0) next = align_up(end, alignment);
        data_size = std::max(data_size, align_up(end, alignment));
    }

    for (size_t i = 0; i < tensors_.size(); ++i) {
        const Tensor& t = tensors_[i];
        at.tensor_info.push_back(out.size());
        put_string(out, t.name);
        at.tensor_dims.push_back(out.size());
        put_u32(out, static_cast<uint32_t>(t.dims.size()));
        for (int64_t d : t.dims) put_u64(out, static_cast<uint64_t>(d));
        at.tensor_type.push_back(out.size());
        put_u32(out, t.type);
        at.tensor_offset.push_back(out.size());
        put_u64(out, offsets[i]);
    }

    at.data_start = static_cast<size_t>(align_up(out.size(), alignment));
    out.resize(at.data_start + data_size, 0);
    for (size_t i = 0; i < tensors_.size(); ++i) {
        at.tensor_data.push_back(at.data_start + offsets[i]);
        if (!tensors_[i].bytes.empty())
            std::memcpy(out.data() + at.tensor_data.back(), tensors_[i].bytes.data(),
                        tensors_[i].bytes.size());
    }
    if (layout) *layout = std::move(at);
    return out;
}

std::vector<uint8_t> GgufWriter::bytes() const {
    return build(nullptr);
}

GgufWriter::Layout GgufWriter::layout() const {
    Layout at;
    build(&at);
    return at;
}

void GgufWriter::write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
    std::ofstream f(path, std::ios::binary | std::ios::trunc);
    f.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
    f.close();
    if (!f) throw std::runtime_error("cannot write " + path);
}

void GgufWriter::write(const std::string& path) const {
    write_bytes(path, bytes());
}

}  // namespace ps::test
