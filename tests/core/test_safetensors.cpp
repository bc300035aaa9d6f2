// The safetensors reader and writer: round trips, byte-exact agreement with the reference
// serializer's own test vectors, and every kind of broken file rejected with a clear error.
#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "core/formats/safetensors.h"
#include "core/tensor/half.h"
#include "tests/support/expect_error.h"
#include "tests/support/hf_writer.h"
#include "tests/support/suite.h"

namespace fs = std::filesystem;

namespace {

std::string le64(uint64_t v) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[static_cast<size_t>(i)] = static_cast<char>(v >> (8 * i));
    return s;
}

// A safetensors file from a header text and a data section.
std::string raw_file(const std::string& header, const std::string& data) {
    return le64(header.size()) + header + data;
}

std::string read_all(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string floats(std::initializer_list<float> values) {
    std::string s(values.size() * 4, '\0');
    std::memcpy(s.data(), values.begin(), s.size());
    return s;
}

}  // namespace

class TestSafetensors : public QObject {
    Q_OBJECT

    QTemporaryDir tmp_;
    std::string path(const char* name) {
        return (fs::path(tmp_.path().toStdString()) / name).string();
    }

  private slots:
    void round_trip_keeps_dtype_shape_bytes_and_metadata() {
        const std::vector<float> a = {1.5f, -2.25f, 3.0f, 0.1f, 1e-3f, -7.0f};
        const std::vector<uint8_t> h = ps::test::encode_values({0.5f, -1.0f, 65504.0f}, "F16");
        const std::vector<uint8_t> b = ps::test::encode_values({3.140625f, -0.0078125f}, "BF16");
        const int32_t ints[5] = {1, -2, 3, -4, 5};
        const std::string file = path("round.safetensors");
        ps::write_safetensors(file,
                              {{"b.weight", "F32", {2, 3}, a.data(), 24},
                               {"a.half", "F16", {3}, h.data(), 6},
                               {"c.bf", "BF16", {1, 2}, b.data(), 4},
                               {"d.empty", "F32", {0, 4}, nullptr, 0},
                               {"e.int", "I32", {5}, ints, 20}},
                              {{"format", "pt"}, {"note", "hello"}});
        QVERIFY(!fs::exists(file + ".tmp"));

        ps::SafetensorsFile st(file);
        QCOMPARE(st.tensors().size(), size_t(5));
        // Tensors come back in file order, i.e. the order written.
        QCOMPARE(st.tensors()[0].name, std::string("b.weight"));
        QCOMPARE(st.tensors()[4].name, std::string("e.int"));
        QCOMPARE(st.metadata().at("note"), std::string("hello"));
        QCOMPARE(st.metadata().at("format"), std::string("pt"));

        const ps::SafetensorsTensor* t = st.find("b.weight");
        QVERIFY(t);
        QCOMPARE(t->dtype, std::string("F32"));
        QCOMPARE(t->shape, (std::vector<int64_t>{2, 3}));
        QCOMPARE(t->nbytes, uint64_t(24));
        QVERIFY(std::memcmp(t->data, a.data(), 24) == 0);
        QCOMPARE(reinterpret_cast<uintptr_t>(t->data) % 8, uintptr_t(0));  // data 8-aligned

        t = st.find("a.half");
        QVERIFY(t && t->dtype == "F16" && t->nbytes == 6);
        uint16_t raw;
        std::memcpy(&raw, t->data + 4, 2);
        QCOMPARE(ps::f16_to_f32(raw), 65504.0f);
        t = st.find("c.bf");
        QVERIFY(t && t->dtype == "BF16");
        std::memcpy(&raw, t->data, 2);
        QCOMPARE(ps::bf16_to_f32(raw), 3.140625f);
        t = st.find("d.empty");
        QVERIFY(t && t->nbytes == 0 && t->shape == (std::vector<int64_t>{0, 4}));
        t = st.find("e.int");
        QVERIFY(t && std::memcmp(t->data, ints, 20) == 0);
        QVERIFY(st.find("missing") == nullptr);
    }

    // What the reference reader (Rust `safetensors`, behind Python's) insists on: header length
    // a multiple of 8 starting with '{', offsets contiguous from 0, the last ending at EOF.
    void written_layout_is_what_the_reference_reader_requires() {
        const std::vector<float> x = {1, 2, 3};
        const std::string file = path("layout.safetensors");
        ps::write_safetensors(file,
                              {{"x", "F32", {3}, x.data(), 12}, {"y", "F32", {1}, x.data(), 4}});
        const std::string bytes = read_all(file);
        uint64_t n = 0;
        for (int i = 7; i >= 0; --i)
            n = (n << 8) | static_cast<uint8_t>(bytes[static_cast<size_t>(i)]);
        QCOMPARE(n % 8, uint64_t(0));
        QCOMPARE(bytes[8], '{');
        const auto header = nlohmann::json::parse(bytes.substr(8, n));
        QCOMPARE(header["x"]["data_offsets"], nlohmann::json({0, 12}));
        QCOMPARE(header["y"]["data_offsets"], nlohmann::json({12, 16}));
        QCOMPARE(bytes.size(), size_t(8 + n + 16));
    }

    // The reference serializer's unit tests (safetensors/src/tensor.rs: test_serialization
    // and test_empty) give the exact bytes for these inputs.
    void matches_reference_serializer_bytes() {
        const std::vector<float> v = {0, 1, 2, 3, 4, 5};
        const std::string file = path("ref.safetensors");
        ps::write_safetensors(file, {{"attn.0", "F32", {1, 2, 3}, v.data(), 24}});
        const std::string header =
            R"({"attn.0":{"dtype":"F32","shape":[1,2,3],"data_offsets":[0,24]}})";
        QCOMPARE(read_all(file), raw_file(header + std::string(64 - header.size(), ' '),
                                          floats({0, 1, 2, 3, 4, 5})));

        ps::write_safetensors(file, {}, {{"framework", "pt"}});
        const std::string meta = R"({"__metadata__":{"framework":"pt"}})";
        QCOMPARE(read_all(file), raw_file(meta + "     ", ""));
        ps::SafetensorsFile st(file);
        QVERIFY(st.tensors().empty());
        QCOMPARE(st.metadata().at("framework"), std::string("pt"));
    }

    void reads_unpadded_headers_and_gaps() {
        // Writers other than the reference may skip the padding; F32 data then is unaligned
        // in the mapping, which the reader allows (the model loader copies such tensors).
        const std::string file = path("unpadded.safetensors");
        ps::test::write_file(file,
                             raw_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                                      "pad!" + floats({7, 8})));
        ps::SafetensorsFile st(file);
        float got[2];
        std::memcpy(got, st.find("w")->data, 8);
        QCOMPARE(got[1], 8.0f);
    }

    void rejects_broken_files() {
        const std::string f = path("bad.safetensors");
        auto write = [&](const std::string& bytes) { ps::test::write_file(f, bytes); };
        const std::string one = floats({1});

        write("abc");
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "too short");
        write(le64(1000) + "{}");
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "header length 1000", "beyond");
        write(le64(UINT64_MAX) + "{}");
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "header length", "beyond");
        write(raw_file(R"({"w":{"dtype":"F32",)", ""));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "invalid JSON header at byte");
        write(raw_file("[1,2]", ""));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "not a JSON object");
        write(raw_file(R"({"w":{"shape":[1],"data_offsets":[0,4]}})", one));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "'w'", "missing field 'dtype'");
        write(raw_file(R"({"w":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", one));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "'w'", "unknown dtype 'F33'");
        write(raw_file(R"({"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", one));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "'w'", "shape", "non-negative");
        write(raw_file(
            R"({"w":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", one));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "'w'", "overflows");
        write(raw_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})", one));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "'w'", "beyond the data section's 4 bytes");
        write(raw_file(R"({"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", one));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "'w'", "needs 8 bytes", "span 4");
        write(raw_file(R"({"w":{"dtype":"F32","shape":[0],"data_offsets":[4,0]}})", one));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "'w'", "end before");
        write(raw_file(R"({"w":{"dtype":"F32","shape":[1],"data_offsets":[0]}})", one));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "'w'", "data_offsets must be [begin, end]");
        write(raw_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}})",
                       floats({1, 2, 3})));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "'a' and 'b' overlap");
        write(raw_file(R"({"__metadata__":{"k":3}})", ""));
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "__metadata__ 'k'", "not a string");
    }

    void rejects_a_truncated_file() {
        const std::vector<float> x(100, 1.0f);
        const std::string f = path("trunc.safetensors");
        ps::write_safetensors(f, {{"x", "F32", {100}, x.data(), 400}});
        fs::resize_file(f, fs::file_size(f) - 1);
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "'x'", "beyond the data section's 399 bytes");
    }

    // A header claiming more than 100 MB is refused before it is parsed (a sparse file makes
    // the claim fit inside the file).
    void rejects_a_giant_header() {
        const std::string f = path("giant.safetensors");
        ps::test::write_file(f, le64(200'000'000) + "{");
        fs::resize_file(f, 200'000'016);
        EXPECT_ERROR(ps::SafetensorsFile{f}, f, "header length 200000000", "limit");
        fs::remove(f);
    }

    void write_errors_leave_no_file() {
        const std::vector<float> x = {1, 2};
        const std::string f = path("nowhere/dir/x.safetensors");
        EXPECT_ERROR(ps::write_safetensors(f, {{"x", "F32", {2}, x.data(), 8}}), "cannot create");
        const std::string g = path("mismatch.safetensors");
        EXPECT_ERROR(ps::write_safetensors(g, {{"x", "F32", {3}, x.data(), 8}}), "'x'", "needs 12");
        QVERIFY(!fs::exists(g) && !fs::exists(g + ".tmp"));
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestSafetensors)
#include "test_safetensors.moc"
