#include "core/formats/gguf.h"

#include <algorithm>
#include <cstring>
#include <numeric>
#include <unordered_set>

#include "core/error.h"
#include "core/tensor/quant.h"

namespace ps {

const char* gguf_type_name(GgufType t) {
    static const char* names[] = {"u8",   "i8",     "u16",   "i16", "u32", "i32", "f32",
                                  "bool", "string", "array", "u64", "i64", "f64"};
    const auto i = static_cast<uint32_t>(t);
    return i < sizeof names / sizeof names[0] ? names[i] : "unknown";
}

namespace {

constexpr uint64_t kMaxDims = 4;             // GGML_MAX_DIMS
constexpr int kMaxArrayDepth = 8;            // nested arrays deeper than this are rejected
constexpr uint64_t kMinKvBytes = 8 + 4 + 1;  // empty key, type, a one-byte value
constexpr uint64_t kMinTensorInfoBytes = 8 + 4 + 8 + 4 + 8;  // name, n_dims, 1 dim, type, offset

bool is_integer(GgufType t) {
    switch (t) {
        case GgufType::U8:
        case GgufType::I8:
        case GgufType::U16:
        case GgufType::I16:
        case GgufType::U32:
        case GgufType::I32:
        case GgufType::U64:
        case GgufType::I64:
            return true;
        default:
            return false;
    }
}

// Bytes of a fixed-size scalar, 0 for string and array.
uint64_t scalar_size(GgufType t) {
    switch (t) {
        case GgufType::U8:
        case GgufType::I8:
        case GgufType::Bool:
            return 1;
        case GgufType::U16:
        case GgufType::I16:
            return 2;
        case GgufType::U32:
        case GgufType::I32:
        case GgufType::F32:
            return 4;
        case GgufType::U64:
        case GgufType::I64:
        case GgufType::F64:
            return 8;
        default:
            return 0;
    }
}

// Smallest encoding of one value of type t: a string is at least its length, an array its
// element type and count.
uint64_t min_value_size(GgufType t) {
    if (t == GgufType::String) return 8;
    if (t == GgufType::Array) return 12;
    return scalar_size(t);
}

// A bounds-checked cursor over the file. `what` callbacks build the error text only when
// a read fails, so walking a 50,000-string array costs no string building.
class Reader {
  public:
    explicit Reader(const MappedFile& f) : f_(f) {}
    uint64_t pos = 0;

    uint64_t remaining() const { return f_.size() - pos; }

    template <typename What>
    void need(uint64_t n, What what) const {
        if (n > remaining())
            fail(f_.path(), "truncated: " + what() + " needs " + std::to_string(n) +
                                " bytes at offset " + std::to_string(pos) + ", but the file has " +
                                std::to_string(f_.size()) + " bytes");
    }
    template <typename T, typename What>
    T scalar(What what) {
        need(sizeof(T), what);
        T v;
        std::memcpy(&v, f_.data() + pos, sizeof(T));
        pos += sizeof(T);
        return v;
    }
    template <typename What>
    uint64_t string_length(What what) {
        const uint64_t n = scalar<uint64_t>(what);
        if (n > remaining())
            fail(f_.path(), what() + ": string length " + std::to_string(n) + " at offset " +
                                std::to_string(pos - 8) + " is beyond the file's " +
                                std::to_string(f_.size()) + " bytes");
        return n;
    }
    template <typename What>
    std::string string(What what) {
        const uint64_t n = string_length(what);
        std::string s(reinterpret_cast<const char*>(f_.data() + pos), n);
        pos += n;
        return s;
    }
    template <typename What>
    void skip_string(What what) {
        pos += string_length(what);
    }

  private:
    const MappedFile& f_;
};

std::string key_what(const std::string& key) {
    return "key '" + key + "'";
}

// Skips (validating) one value of type `t` at r.pos; arrays recurse into their elements.
void skip_value(Reader& r, const std::string& path, const std::string& key, GgufType t, int depth);

// Reads an array header and checks its elements can fit in the rest of the file before
// walking them (an element count of 10^12 fails here, at once).
void read_array_header(Reader& r, const std::string& path, const std::string& key, int depth,
                       GgufType* elem_type, uint64_t* count) {
    auto what = [&] { return key_what(key) + " array header"; };
    if (depth > kMaxArrayDepth)
        fail(path, key_what(key) + ": arrays nested deeper than " + std::to_string(kMaxArrayDepth) +
                       " levels");
    const uint32_t et = r.scalar<uint32_t>(what);
    if (et > static_cast<uint32_t>(GgufType::F64))
        fail(path, key_what(key) + ": unknown array element type " + std::to_string(et));
    *elem_type = static_cast<GgufType>(et);
    *count = r.scalar<uint64_t>(what);
    if (*count > r.remaining() / min_value_size(*elem_type))
        fail(path, key_what(key) + ": array of " + std::to_string(*count) + " " +
                       gguf_type_name(*elem_type) + " elements cannot fit in the " +
                       std::to_string(r.remaining()) + " bytes left in the file's " +
                       std::to_string(r.pos + r.remaining()) + " bytes");
}

void skip_array_elements(Reader& r, const std::string& path, const std::string& key,
                         GgufType elem_type, uint64_t count, int depth) {
    if (const uint64_t size = scalar_size(elem_type)) {
        r.pos += size * count;  // in range: read_array_header checked count * size
        return;
    }
    for (uint64_t i = 0; i < count; ++i) skip_value(r, path, key, elem_type, depth + 1);
}

void skip_value(Reader& r, const std::string& path, const std::string& key, GgufType t, int depth) {
    if (t == GgufType::String) {
        r.skip_string([&] { return key_what(key) + " string"; });
    } else if (t == GgufType::Array) {
        GgufType et;
        uint64_t n;
        read_array_header(r, path, key, depth, &et, &n);
        skip_array_elements(r, path, key, et, n, depth);
    } else {
        r.need(scalar_size(t), [&] { return key_what(key) + " value"; });
        r.pos += scalar_size(t);
    }
}

// Decodes one scalar of type t at r.pos into kv.
void read_scalar(Reader& r, GgufKv& kv) {
    auto what = [&] { return key_what(kv.key) + " value"; };
    switch (kv.type) {
        case GgufType::U8:
            kv.int_value = r.scalar<uint8_t>(what);
            break;
        case GgufType::I8:
            kv.int_value = r.scalar<int8_t>(what);
            break;
        case GgufType::U16:
            kv.int_value = r.scalar<uint16_t>(what);
            break;
        case GgufType::I16:
            kv.int_value = r.scalar<int16_t>(what);
            break;
        case GgufType::U32:
            kv.int_value = r.scalar<uint32_t>(what);
            break;
        case GgufType::I32:
            kv.int_value = r.scalar<int32_t>(what);
            break;
        case GgufType::U64:
            kv.int_value = static_cast<int64_t>(r.scalar<uint64_t>(what));
            break;
        case GgufType::I64:
            kv.int_value = r.scalar<int64_t>(what);
            break;
        case GgufType::F32:
            kv.float_value = r.scalar<float>(what);
            break;
        case GgufType::F64:
            kv.float_value = r.scalar<double>(what);
            break;
        case GgufType::Bool:
            kv.bool_value = r.scalar<uint8_t>(what) != 0;
            break;
        case GgufType::String:
            kv.string_value = r.string(what);
            break;
        case GgufType::Array:
            break;
    }
}

GgufKv read_kv(Reader& r, const std::string& path, uint64_t index) {
    GgufKv kv;
    kv.key = r.string([&] { return "key of metadata entry " + std::to_string(index); });
    const uint32_t type = r.scalar<uint32_t>([&] { return key_what(kv.key) + " type"; });
    if (type > static_cast<uint32_t>(GgufType::F64))
        fail(path, key_what(kv.key) + ": unknown value type " + std::to_string(type));
    kv.type = static_cast<GgufType>(type);
    if (kv.type == GgufType::Array) {
        read_array_header(r, path, kv.key, 1, &kv.elem_type, &kv.count);
        kv.elems_offset = r.pos;
        skip_array_elements(r, path, kv.key, kv.elem_type, kv.count, 1);
    } else {
        read_scalar(r, kv);
    }
    return kv;
}

std::string dims_text(const std::vector<uint64_t>& ne) {
    std::string s = "[";
    for (size_t i = 0; i < ne.size(); ++i) s += (i ? ", " : "") + std::to_string(ne[i]);
    return s + "]";
}

// Reads one tensor info and checks its dims and type: element count and byte size must fit
// in int64, and a block-quantized row must be whole blocks.
GgufTensor read_tensor_info(Reader& r, const std::string& path, uint64_t index) {
    GgufTensor t;
    t.name = r.string([&] { return "name of tensor " + std::to_string(index); });
    auto what = [&] { return "tensor '" + t.name + "' info"; };
    const std::string tw = "tensor '" + t.name + "'";
    const uint32_t n_dims = r.scalar<uint32_t>(what);
    if (n_dims < 1 || n_dims > kMaxDims)
        fail(path, tw + ": n_dims is " + std::to_string(n_dims) + ", expected 1.." +
                       std::to_string(kMaxDims));
    std::vector<uint64_t> ne(n_dims);
    for (uint64_t& d : ne) d = r.scalar<uint64_t>(what);
    int64_t count = 1;
    for (uint64_t d : ne) {
        if (d > static_cast<uint64_t>(INT64_MAX) ||
            __builtin_mul_overflow(count, static_cast<int64_t>(d), &count))
            fail(path, tw + ": dims " + dims_text(ne) +
                           " overflow: the element count does not fit in 64 bits");
        t.ne.push_back(static_cast<int64_t>(d));
    }
    t.count = count;
    t.type = r.scalar<uint32_t>(what);
    const GgmlTypeInfo* info = ggml_type_info(t.type);
    if (!info) fail(path, tw + ": unknown ggml tensor type " + std::to_string(t.type));
    if (t.ne[0] % info->block_size != 0)
        fail(path, tw + ": ne[0] = " + std::to_string(t.ne[0]) + " is not a multiple of the " +
                       info->name + " block size " + std::to_string(info->block_size));
    int64_t nbytes = 0;
    if (__builtin_mul_overflow(count / info->block_size, info->type_size, &nbytes))
        fail(path,
             tw + ": dims " + dims_text(ne) + " overflow: the byte size does not fit in 64 bits");
    t.nbytes = static_cast<uint64_t>(nbytes);
    t.offset = r.scalar<uint64_t>(what);
    return t;
}

}  // namespace

GgufFile::GgufFile(const std::string& path) : file_(std::make_unique<MappedFile>(path)) {
    const MappedFile& f = *file_;
    Reader r(f);

    // Header.
    auto header = [] { return std::string("header"); };
    r.need(4, header);
    if (std::memcmp(f.data(), "GGUF", 4) != 0)
        fail(path, "not a GGUF file: the magic is not \"GGUF\"");
    r.pos = 4;
    version_ = r.scalar<uint32_t>(header);
    if (version_ != 2 && version_ != 3)
        fail(path, "GGUF version " + std::to_string(version_) +
                       " is not supported (expected 2 or 3" +
                       (version_ == 1 ? "; version 1 files predate August 2023, re-convert them"
                        : version_ >= 0x01000000 ? "; a big-endian file?"
                                                 : "") +
                       ")");
    const uint64_t n_tensors = r.scalar<uint64_t>(header);
    const uint64_t n_kv = r.scalar<uint64_t>(header);
    if (n_kv > r.remaining() / kMinKvBytes)
        fail(path, "metadata count " + std::to_string(n_kv) + " cannot fit in the file's " +
                       std::to_string(f.size()) + " bytes (a corrupt header or a truncated file)");
    if (n_tensors > r.remaining() / kMinTensorInfoBytes)
        fail(path, "tensor count " + std::to_string(n_tensors) + " cannot fit in the file's " +
                       std::to_string(f.size()) + " bytes (a corrupt header or a truncated file)");

    // Metadata.
    std::unordered_set<std::string> keys;
    // Counts are only bounded by the file size, and an entry takes more memory than file bytes:
    // reserve no more than a real file has, and let a (real) longer list grow.
    kvs_.reserve(std::min<uint64_t>(n_kv, 4096));
    for (uint64_t i = 0; i < n_kv; ++i) {
        GgufKv kv = read_kv(r, path, i);
        if (!keys.insert(kv.key).second) fail(path, key_what(kv.key) + ": duplicate key");
        kvs_.push_back(std::move(kv));
    }
    if (const GgufKv* a = find("general.alignment")) {
        if (a->type != GgufType::U32) wrong_type(*a, "u32");
        const auto v = static_cast<uint64_t>(a->int_value);
        if (v == 0 || (v & (v - 1)) != 0)
            fail(path, "key 'general.alignment': " + std::to_string(v) + " is not a power of two");
        alignment_ = v;
    }

    // Tensor infos.
    std::unordered_set<std::string> names;
    tensors_.reserve(std::min<uint64_t>(n_tensors, 4096));
    for (uint64_t i = 0; i < n_tensors; ++i) {
        GgufTensor t = read_tensor_info(r, path, i);
        if (!names.insert(t.name).second) fail(path, "tensor '" + t.name + "': duplicate name");
        tensors_.push_back(std::move(t));
    }

    // Data: each tensor aligned, inside the file, and not overlapping another.
    data_start_ = (r.pos + alignment_ - 1) / alignment_ * alignment_;
    for (GgufTensor& t : tensors_) {
        const std::string tw = "tensor '" + t.name + "'";
        if (t.offset % alignment_ != 0)
            fail(path, tw + ": data offset " + std::to_string(t.offset) +
                           " is not a multiple of the alignment " + std::to_string(alignment_));
        if (t.offset > f.size())
            fail(path, tw + ": data offset " + std::to_string(t.offset) + " is beyond the file's " +
                           std::to_string(f.size()) + " bytes");
        const uint64_t begin = data_start_ + t.offset;  // both <= file size: no overflow
        if (t.nbytes > f.size() || begin + t.nbytes > f.size())
            fail(path, tw + ": data [" + std::to_string(begin) + ", " +
                           std::to_string(begin + t.nbytes) + ") is beyond the file's " +
                           std::to_string(f.size()) + " bytes");
        t.data = f.data() + begin;
    }
    std::vector<size_t> order(tensors_.size());
    std::iota(order.begin(), order.end(), size_t{0});
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return tensors_[a].offset < tensors_[b].offset; });
    for (size_t i = 1; i < order.size(); ++i) {
        const GgufTensor& prev = tensors_[order[i - 1]];
        const GgufTensor& cur = tensors_[order[i]];
        if (prev.nbytes > 0 && cur.nbytes > 0 && cur.offset < prev.offset + prev.nbytes)
            fail(path, "tensor '" + cur.name + "': data [" + std::to_string(cur.offset) + ", " +
                           std::to_string(cur.offset + cur.nbytes) + ") overlaps tensor '" +
                           prev.name + "' [" + std::to_string(prev.offset) + ", " +
                           std::to_string(prev.offset + prev.nbytes) + ")");
    }
}

const GgufKv* GgufFile::find(const std::string& key) const {
    for (const GgufKv& kv : kvs_)
        if (kv.key == key) return &kv;
    return nullptr;
}

const GgufTensor* GgufFile::find_tensor(const std::string& name) const {
    for (const GgufTensor& t : tensors_)
        if (t.name == name) return &t;
    return nullptr;
}

void GgufFile::wrong_type(const GgufKv& kv, const char* expected) const {
    std::string got = gguf_type_name(kv.type);
    if (kv.type == GgufType::Array) got += std::string(" of ") + gguf_type_name(kv.elem_type);
    fail(path(), key_what(kv.key) + ": expected " + expected + ", got " + got);
}

const GgufKv& GgufFile::require(const std::string& key) const {
    const GgufKv* kv = find(key);
    if (!kv) fail(path(), "missing key '" + key + "'");
    return *kv;
}

const GgufKv& GgufFile::require_array(const std::string& key, const char* elements) const {
    const GgufKv& kv = require(key);
    if (kv.type != GgufType::Array) wrong_type(kv, elements);
    return kv;
}

std::string GgufFile::get_string(const std::string& key) const {
    const GgufKv& kv = require(key);
    if (kv.type != GgufType::String) wrong_type(kv, "string");
    return kv.string_value;
}

int64_t GgufFile::get_int(const std::string& key) const {
    const GgufKv& kv = require(key);
    if (!is_integer(kv.type)) wrong_type(kv, "an integer");
    if (kv.type == GgufType::U64 && kv.int_value < 0)
        fail(path(), key_what(key) + ": " + std::to_string(static_cast<uint64_t>(kv.int_value)) +
                         " is too large");
    return kv.int_value;
}

float GgufFile::get_f32(const std::string& key) const {
    const GgufKv& kv = require(key);
    if (kv.type != GgufType::F32 && kv.type != GgufType::F64) wrong_type(kv, "f32");
    return static_cast<float>(kv.float_value);
}

bool GgufFile::get_bool(const std::string& key) const {
    const GgufKv& kv = require(key);
    if (kv.type != GgufType::Bool) wrong_type(kv, "bool");
    return kv.bool_value;
}

uint64_t GgufFile::array_size(const std::string& key) const {
    return require_array(key, "an array").count;
}

std::vector<std::string> GgufFile::get_string_array(const std::string& key) const {
    const GgufKv& kv = require_array(key, "array of string");
    if (kv.elem_type != GgufType::String) wrong_type(kv, "array of string");
    // Every length was checked against the file when it was parsed.
    std::vector<std::string> out;
    out.reserve(kv.count);
    const uint8_t* p = file_->data() + kv.elems_offset;
    for (uint64_t i = 0; i < kv.count; ++i) {
        uint64_t n;
        std::memcpy(&n, p, 8);
        out.emplace_back(reinterpret_cast<const char*>(p + 8), n);
        p += 8 + n;
    }
    return out;
}

std::vector<float> GgufFile::get_f32_array(const std::string& key) const {
    const GgufKv& kv = require_array(key, "array of f32");
    if (kv.elem_type != GgufType::F32) wrong_type(kv, "array of f32");
    std::vector<float> out(kv.count);
    if (kv.count) std::memcpy(out.data(), file_->data() + kv.elems_offset, kv.count * 4);
    return out;
}

std::vector<int32_t> GgufFile::get_i32_array(const std::string& key) const {
    const GgufKv& kv = require_array(key, "array of i32");
    if (!is_integer(kv.elem_type)) wrong_type(kv, "array of i32");
    const uint64_t size = scalar_size(kv.elem_type);
    const bool is_signed = kv.elem_type == GgufType::I8 || kv.elem_type == GgufType::I16 ||
                           kv.elem_type == GgufType::I32 || kv.elem_type == GgufType::I64;
    std::vector<int32_t> out(kv.count);
    const uint8_t* p = file_->data() + kv.elems_offset;
    for (uint64_t i = 0; i < kv.count; ++i, p += size) {
        uint64_t bits = 0;
        std::memcpy(&bits, p, size);  // little-endian: the low bytes
        int64_t v = static_cast<int64_t>(bits);
        if (is_signed && size < 8 && (bits >> (8 * size - 1)) & 1)
            v = static_cast<int64_t>(bits | (~uint64_t{0} << (8 * size)));  // sign-extend
        if (v < INT32_MIN || v > INT32_MAX || (!is_signed && v < 0))
            fail(path(),
                 key_what(key) + ": element " + std::to_string(i) + " does not fit in an i32");
        out[i] = static_cast<int32_t>(v);
    }
    return out;
}

std::optional<std::string> GgufFile::opt_string(const std::string& key) const {
    if (!find(key)) return std::nullopt;
    return get_string(key);
}
std::optional<int64_t> GgufFile::opt_int(const std::string& key) const {
    if (!find(key)) return std::nullopt;
    return get_int(key);
}
std::optional<float> GgufFile::opt_f32(const std::string& key) const {
    if (!find(key)) return std::nullopt;
    return get_f32(key);
}
std::optional<bool> GgufFile::opt_bool(const std::string& key) const {
    if (!find(key)) return std::nullopt;
    return get_bool(key);
}

}  // namespace ps
