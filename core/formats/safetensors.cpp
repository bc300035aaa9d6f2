// safetensors reader and writer. The reader treats the file as hostile: the header length, every
// shape and every byte range are checked against the file's real length before anything is used.
#include "core/formats/safetensors.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/formats/json_limits.h"

namespace ps {

namespace {

using json = nlohmann::json;

// The reference implementation refuses headers above 100 MB; so do we, before parsing.
constexpr uint64_t kMaxHeaderBytes = 100'000'000;

// Bytes per element of every dtype the format defines; 0 for an unknown name.
uint64_t dtype_size(const std::string& dtype) {
    static const std::map<std::string, uint64_t> sizes = {
        {"BOOL", 1}, {"U8", 1},  {"I8", 1},  {"F8_E5M2", 1}, {"F8_E4M3", 1},
        {"I16", 2},  {"U16", 2}, {"F16", 2}, {"BF16", 2},    {"I32", 4},
        {"U32", 4},  {"F32", 4}, {"F64", 8}, {"I64", 8},     {"U64", 8}};
    auto it = sizes.find(dtype);
    return it == sizes.end() ? 0 : it->second;
}

std::string shape_string(const std::vector<int64_t>& shape) {
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

uint64_t read_u64_le(const uint8_t* p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
    return v;
}

// A non-negative JSON integer, or an error naming the tensor and field.
uint64_t get_count(const std::string& path, const std::string& name, const char* field,
                   const json& v) {
    if (v.is_number_unsigned()) return v.get<uint64_t>();
    if (v.is_number_integer() && v.get<int64_t>() >= 0)
        return static_cast<uint64_t>(v.get<int64_t>());
    fail(path,
         "tensor '" + name + "': " + field + " must hold non-negative integers, got " + v.dump());
}

SafetensorsTensor parse_tensor(const std::string& path, const std::string& name, const json& entry,
                               const uint8_t* data, uint64_t data_bytes, uint64_t& begin_out) {
    if (!entry.is_object()) fail(path, "tensor '" + name + "': header entry is not an object");
    for (const char* key : {"dtype", "shape", "data_offsets"})
        if (!entry.contains(key)) fail(path, "tensor '" + name + "': missing field '" + key + "'");

    SafetensorsTensor t;
    t.name = name;
    const json& dtype = entry["dtype"];
    if (!dtype.is_string()) fail(path, "tensor '" + name + "': dtype is not a string");
    t.dtype = dtype.get<std::string>();
    const uint64_t elem = dtype_size(t.dtype);
    if (elem == 0) fail(path, "tensor '" + name + "': unknown dtype '" + t.dtype + "'");

    // Shape: non-negative dimensions whose product (in bytes) does not overflow.
    const json& shape = entry["shape"];
    if (!shape.is_array()) fail(path, "tensor '" + name + "': shape is not an array");
    uint64_t count = 1;
    for (const json& d : shape) {
        uint64_t dim = get_count(path, name, "shape", d);
        if (dim > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(count, dim, &count))
            fail(path, "tensor '" + name + "': shape " + shape.dump() + " overflows");
        t.shape.push_back(static_cast<int64_t>(dim));
    }
    uint64_t nbytes = 0;
    if (__builtin_mul_overflow(count, elem, &nbytes))
        fail(path, "tensor '" + name + "': shape " + shape.dump() + " overflows");

    // Byte range, relative to the start of the data section.
    const json& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2)
        fail(path,
             "tensor '" + name + "': data_offsets must be [begin, end], got " + offsets.dump());
    uint64_t begin = get_count(path, name, "data_offsets", offsets[0]);
    uint64_t end = get_count(path, name, "data_offsets", offsets[1]);
    if (end < begin)
        fail(path, "tensor '" + name + "': data_offsets [" + std::to_string(begin) + ", " +
                       std::to_string(end) + "] end before they begin");
    if (end > data_bytes)
        fail(path, "tensor '" + name + "': data_offsets [" + std::to_string(begin) + ", " +
                       std::to_string(end) + "] are beyond the data section's " +
                       std::to_string(data_bytes) + " bytes");
    if (end - begin != nbytes)
        fail(path, "tensor '" + name + "': " + t.dtype + " " + shape_string(t.shape) + " needs " +
                       std::to_string(nbytes) + " bytes, but data_offsets span " +
                       std::to_string(end - begin));
    t.data = data + begin;
    t.nbytes = nbytes;
    begin_out = begin;
    return t;
}

void parse_metadata(const std::string& path, const json& meta,
                    std::map<std::string, std::string>& out) {
    if (!meta.is_object()) fail(path, "__metadata__ is not an object");
    for (const auto& [key, value] : meta.items()) {
        if (!value.is_string())
            fail(path, "__metadata__ '" + key + "' is not a string (got " + value.dump() + ")");
        out[key] = value.get<std::string>();
    }
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path)
    : file_(std::make_unique<MappedFile>(path)) {
    const uint8_t* bytes = file_->data();
    const uint64_t size = file_->size();
    if (size < 8)
        fail(path,
             "too short for a safetensors header length (" + std::to_string(size) + " bytes)");
    const uint64_t header_bytes = read_u64_le(bytes);
    if (header_bytes > size - 8)
        fail(path, "header length " + std::to_string(header_bytes) + " is beyond the file's " +
                       std::to_string(size) + " bytes");
    if (header_bytes > kMaxHeaderBytes)
        fail(path, "header length " + std::to_string(header_bytes) + " exceeds the " +
                       std::to_string(kMaxHeaderBytes) + "-byte limit");

    const char* text = reinterpret_cast<const char*>(bytes + 8);
    json header;
    try {
        header = json::parse(text, text + header_bytes, json_depth_limit(path));
    } catch (const json::parse_error& e) {
        fail(path, "invalid JSON header at byte " + std::to_string(e.byte) + " of " +
                       std::to_string(header_bytes) + ": " + e.what());
    } catch (const json::exception& e) {  // e.g. a number too large for a double: 1e999
        fail(path, std::string("invalid JSON header: ") + e.what());
    }
    if (!header.is_object()) fail(path, "header is not a JSON object");

    const uint8_t* data = bytes + 8 + header_bytes;
    const uint64_t data_bytes = size - 8 - header_bytes;
    std::vector<std::pair<uint64_t, size_t>> by_offset;  // (begin, index in tensors_)
    for (const auto& [name, entry] : header.items()) {
        if (name == "__metadata__") {
            parse_metadata(path, entry, metadata_);
            continue;
        }
        uint64_t begin = 0;
        tensors_.push_back(parse_tensor(path, name, entry, data, data_bytes, begin));
        by_offset.emplace_back(begin, tensors_.size() - 1);
    }

    // No two tensors may share bytes: sorted by start, each must begin where the last ended
    // or later. The tensors are then kept in file order.
    std::sort(by_offset.begin(), by_offset.end());
    std::vector<SafetensorsTensor> ordered;
    uint64_t prev_end = 0;
    const SafetensorsTensor* prev = nullptr;
    for (const auto& [begin, index] : by_offset) {
        const SafetensorsTensor& t = tensors_[index];
        ordered.push_back(t);
        if (t.nbytes == 0) continue;  // owns no bytes, overlaps nothing
        if (prev && begin < prev_end)
            fail(path, "tensors '" + prev->name + "' and '" + t.name +
                           "' overlap: data_offsets begin at " + std::to_string(begin) +
                           " before the previous tensor ends at " + std::to_string(prev_end));
        prev_end = begin + t.nbytes;
        prev = &t;
    }
    tensors_ = std::move(ordered);
}

const SafetensorsTensor* SafetensorsFile::find(const std::string& name) const {
    for (const SafetensorsTensor& t : tensors_)
        if (t.name == name) return &t;
    return nullptr;
}

void write_safetensors(const std::string& path, const std::vector<TensorToWrite>& tensors,
                       const std::map<std::string, std::string>& metadata) {
    // Header: {"__metadata__": {...}, "name": {"dtype", "shape", "data_offsets"}, ...} with the
    // data laid out contiguously in the given order, as the reference serializer does.
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty()) header["__metadata__"] = metadata;
    uint64_t offset = 0;
    for (const TensorToWrite& t : tensors) {
        const uint64_t elem = dtype_size(t.dtype);
        if (elem == 0) fail(path, "tensor '" + t.name + "': unknown dtype '" + t.dtype + "'");
        uint64_t count = 1;
        for (int64_t d : t.shape) {
            if (d < 0) fail(path, "tensor '" + t.name + "': negative dimension");
            count *= static_cast<uint64_t>(d);
        }
        if (count * elem != t.nbytes)
            fail(path, "tensor '" + t.name + "': " + t.dtype + " " + shape_string(t.shape) +
                           " needs " + std::to_string(count * elem) + " bytes, got " +
                           std::to_string(t.nbytes));
        if (header.contains(t.name)) fail(path, "tensor '" + t.name + "' written twice");
        header[t.name] = {
            {"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {offset, offset + t.nbytes}}};
        offset += t.nbytes;
    }
    // Pad the header with spaces so the data section starts 8-byte aligned.
    std::string text = header.dump();
    text.append((8 - text.size() % 8) % 8, ' ');

    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out) fail(tmp, "cannot create file");
        uint8_t len[8];
        for (int i = 0; i < 8; ++i) len[i] = static_cast<uint8_t>(text.size() >> (8 * i));
        out.write(reinterpret_cast<const char*>(len), 8);
        out.write(text.data(), static_cast<std::streamsize>(text.size()));
        for (const TensorToWrite& t : tensors)
            out.write(static_cast<const char*>(t.data), static_cast<std::streamsize>(t.nbytes));
        out.close();
        if (!out) {
            std::error_code ec;
            std::filesystem::remove(tmp, ec);
            fail(tmp, "write failed");
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        std::filesystem::remove(tmp, ec);
        fail(path, "cannot rename " + tmp + ": " + ec.message());
    }
}

}  // namespace ps
