// Broken GGUF files, built with GgufWriter and patched: every one must fail with a ps::Error
// that names the file and the key or tensor at fault — never crash, hang or allocate what a
// corrupt count claims.
#include <QTemporaryDir>
#include <QtTest>
#include <functional>

#include "core/error.h"
#include "core/formats/gguf.h"
#include "core/formats/loader.h"
#include "tests/support/gguf_tiny.h"
#include "tests/support/suite.h"

using ps::test::GgufType;
using ps::test::GgufWriter;
using ps::test::TinyModel;

namespace {

using Load = std::function<void(const std::string&)>;
const Load parse = [](const std::string& p) { ps::GgufFile f(p); };
const Load weights = [](const std::string& p) { ps::load_gguf_weights(p); };
const Load vocab = [](const std::string& p) { ps::read_gguf_vocab(ps::GgufFile(p)); };
const Load model = [](const std::string& p) { ps::load_model(p); };

// Index of the metadata entry `key` in a writer's layout (keys are written in call order).
size_t kv_index(const GgufWriter& w, const std::vector<uint8_t>& bytes, const std::string& key) {
    const GgufWriter::Layout at = w.layout();
    for (size_t i = 0; i < at.kv.size(); ++i) {
        uint64_t n;
        std::memcpy(&n, bytes.data() + at.kv[i], 8);
        if (std::string(reinterpret_cast<const char*>(bytes.data() + at.kv[i] + 8), n) == key)
            return i;
    }
    throw std::runtime_error("no key " + key);
}

}  // namespace

class TestGgufErrors : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    int n_ = 0;

    // Writes `bytes` to a new file, runs `load` on it and checks the ps::Error it must throw
    // names the file and contains `part`.
    void expect(const std::vector<uint8_t>& bytes, const Load& load, const std::string& part) {
        const std::string path = dir_.filePath(QString("bad%1.gguf").arg(n_++)).toStdString();
        GgufWriter::write_bytes(path, bytes);
        try {
            load(path);
        } catch (const ps::Error& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.rfind(path + ": ", 0) == 0,
                     qPrintable("no file name: " + QString(e.what())));
            QVERIFY2(msg.find(part) != std::string::npos,
                     qPrintable(QString("expected '%1' in: %2").arg(part.c_str(), e.what())));
            return;
        }
        QFAIL(qPrintable(QString("no error; expected '%1'").arg(part.c_str())));
    }

    static std::vector<uint8_t> tiny() { return TinyModel().writer().bytes(); }
    static GgufWriter::Layout tiny_layout() { return TinyModel().writer().layout(); }

  private slots:
    void header();
    void truncated();
    void lying_lengths_and_counts();
    void bad_metadata();
    void bad_tensor_infos();
    void bad_tensor_data();
    void bad_models();
    void bad_tokenizers();
};

void TestGgufErrors::header() {
    std::vector<uint8_t> b = tiny();
    b[3] = 'X';
    expect(b, parse, "not a GGUF file");
    for (uint32_t version : {1u, 99u, 0x03000000u}) {
        b = tiny();
        GgufWriter::patch_u32(b, 4, version);
        expect(b, parse, "GGUF version " + std::to_string(version) + " is not supported");
    }
    expect({}, parse, "truncated: header");
    expect({'G', 'G'}, parse, "truncated: header");
}

void TestGgufErrors::truncated() {
    // A long description first, so that a cut anywhere after it still leaves room for the
    // header's counts: the parser then reports exactly where the file ends.
    TinyModel t;
    t.description = std::string(2000, 'd');
    const GgufWriter w = t.writer();
    const std::vector<uint8_t> b = w.bytes();
    const GgufWriter::Layout at = w.layout();
    auto cut = [&](size_t n) { return std::vector<uint8_t>(b.begin(), b.begin() + long(n)); };
    const size_t ffn = kv_index(w, b, "llama.feed_forward_length");
    const size_t tokens = kv_index(w, b, "tokenizer.ggml.tokens");
    expect(cut(20), parse, "truncated: header");
    expect(cut(at.kv[0] + 1000), parse, "key 'general.description' value");
    expect(cut(at.kv[ffn] + 5), parse, "truncated: key of metadata entry " + std::to_string(ffn));
    expect(cut(at.kv_value[ffn] + 2), parse, "truncated: key 'llama.feed_forward_length' type");
    expect(cut(at.kv_value[ffn] + 6), parse, "truncated: key 'llama.feed_forward_length' value");
    expect(cut(at.kv_value[tokens] + 60), parse, "key 'tokenizer.ggml.tokens'");
    expect(cut(at.tensor_info[2] + 12), parse, "name of tensor 2");
    expect(cut(at.tensor_dims[2] + 10), parse, "truncated: tensor 'blk.0.attn_q.weight' info");
    expect(cut(at.tensor_offset.back() + 4), parse, "truncated: tensor 'output.weight' info");
    expect(cut(b.size() - 1), parse, "tensor 'output.weight': data [");
    expect(cut(b.size() - 1), parse, ") is beyond the file's " + std::to_string(b.size() - 1));
    expect(cut(at.tensor_data[5] + 3), model, "tensor 'blk.0.attn_output.weight': data [");
    // Without the bulk, a cut early in the metadata shows as counts that can't fit.
    const std::vector<uint8_t> small = tiny();
    expect(std::vector<uint8_t>(small.begin(), small.begin() + 150), parse,
           "metadata count 17 cannot fit in the file's 150 bytes (a corrupt header or a truncated "
           "file)");
}

void TestGgufErrors::lying_lengths_and_counts() {
    const GgufWriter w = TinyModel().writer();
    const GgufWriter::Layout at = w.layout();
    std::vector<uint8_t> b = w.bytes();
    GgufWriter::patch_u64(b, at.kv[0], INT64_MAX);
    expect(b, parse, "key of metadata entry 0: string length 9223372036854775807");

    b = w.bytes();  // general.architecture's value
    GgufWriter::patch_u64(b, at.kv_value[0] + 4, INT64_MAX);
    expect(b, parse, "key 'general.architecture' value: string length 9223372036854775807");

    b = w.bytes();
    const size_t tokens = kv_index(w, b, "tokenizer.ggml.tokens");
    GgufWriter::patch_u64(b, at.kv_value[tokens] + 8, 1000000000000ull);
    expect(b, parse, "key 'tokenizer.ggml.tokens': array of 1000000000000 string elements");

    b = w.bytes();  // an element of the array lies about its length
    GgufWriter::patch_u64(b, at.kv_value[tokens] + 16 + 8 + 5, uint64_t(1) << 62);
    expect(b, parse, "key 'tokenizer.ggml.tokens' string: string length 4611686018427387904");

    b = w.bytes();
    const size_t scores = kv_index(w, b, "tokenizer.ggml.scores");
    GgufWriter::patch_u64(b, at.kv_value[scores] + 8, 1000000000000ull);
    expect(b, parse, "key 'tokenizer.ggml.scores': array of 1000000000000 f32 elements");

    b = w.bytes();
    GgufWriter::patch_u64(b, at.tensor_count, 1000000000);
    expect(b, parse, "tensor count 1000000000 cannot fit");
    b = w.bytes();
    GgufWriter::patch_u64(b, at.kv_count, UINT64_MAX);
    expect(b, parse, "metadata count 18446744073709551615 cannot fit");
    b = w.bytes();
    GgufWriter::patch_u64(b, at.tensor_info[1], UINT64_MAX);
    expect(b, parse, "name of tensor 1: string length 18446744073709551615");
}

void TestGgufErrors::bad_metadata() {
    GgufWriter w;
    w.set_string("a", "x");
    w.set_u32("b", 1);
    std::vector<uint8_t> b = w.bytes();
    GgufWriter::patch_u32(b, w.layout().kv_value[1], 13);
    expect(b, parse, "key 'b': unknown value type 13");

    w.set_u32("a", 2);
    expect(w.bytes(), parse, "key 'a': duplicate key");

    // Arrays nested 12 deep.
    std::vector<uint8_t> nested;
    for (int i = 0; i < 12; ++i) {
        GgufWriter::put_u32(nested, uint32_t(GgufType::Array));
        GgufWriter::put_u64(nested, 1);
    }
    GgufWriter::put_u32(nested, uint32_t(GgufType::U8));
    GgufWriter::put_u64(nested, 0);
    GgufWriter deep;
    deep.set_raw("deep", GgufType::Array, nested);
    expect(deep.bytes(), parse, "key 'deep': arrays nested deeper than 8 levels");

    GgufWriter bad_elem;
    bad_elem.set_raw("arr", GgufType::Array, {77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
    expect(bad_elem.bytes(), parse, "key 'arr': unknown array element type 77");

    GgufWriter align;
    align.set_u32("general.alignment", 48);
    expect(align.bytes(), parse, "key 'general.alignment': 48 is not a power of two");
    GgufWriter align0;
    align0.set_u32("general.alignment", 0);
    expect(align0.bytes(), parse, "key 'general.alignment': 0 is not a power of two");
    GgufWriter align_type;
    align_type.set_string("general.alignment", "32");
    expect(align_type.bytes(), parse, "key 'general.alignment': expected u32, got string");
}

void TestGgufErrors::bad_tensor_infos() {
    const GgufWriter w = TinyModel().writer();
    const GgufWriter::Layout at = w.layout();
    std::vector<uint8_t> b = w.bytes();
    GgufWriter::patch_u32(b, at.tensor_type[2], 99);
    expect(b, parse, "tensor 'blk.0.attn_q.weight': unknown ggml tensor type 99");
    b = w.bytes();
    GgufWriter::patch_u32(b, at.tensor_type[2], 4);  // Q4_2, removed from ggml
    expect(b, parse, "tensor 'blk.0.attn_q.weight': unknown ggml tensor type 4");
    for (uint32_t n_dims : {0u, 5u}) {
        b = w.bytes();
        GgufWriter::patch_u32(b, at.tensor_dims[0], n_dims);
        expect(
            b, parse,
            "tensor 'token_embd.weight': n_dims is " + std::to_string(n_dims) + ", expected 1..4");
    }
    b = w.bytes();
    GgufWriter::patch_u64(b, at.tensor_dims[0] + 4, uint64_t(1) << 63);
    expect(b, parse, "tensor 'token_embd.weight': dims [9223372036854775808, 10] overflow");

    GgufWriter big;
    big.add_tensor_raw("big", {int64_t(1) << 32, int64_t(1) << 32}, ps::test::ggml_type::F32, {});
    expect(big.bytes(), parse, "tensor 'big': dims [4294967296, 4294967296] overflow");
    GgufWriter bytes_overflow;  // 2^62 elements fit in int64, their 2^64 bytes don't
    bytes_overflow.add_tensor_raw("f64", {int64_t(1) << 31, int64_t(1) << 31}, 28, {});
    expect(bytes_overflow.bytes(), parse, "tensor 'f64': dims [2147483648, 2147483648] overflow");

    GgufWriter partial_block;
    partial_block.add_tensor_raw("q", {16, 2}, ps::test::ggml_type::Q8_0, std::vector<uint8_t>(34));
    expect(partial_block.bytes(), parse,
           "tensor 'q': ne[0] = 16 is not a multiple of the Q8_0 block size 32");

    GgufWriter dup;
    const float one = 1.0f;
    dup.add_tensor_f32("t", {1}, &one);
    dup.add_tensor_f32("t", {1}, &one);
    expect(dup.bytes(), parse, "tensor 't': duplicate name");
}

void TestGgufErrors::bad_tensor_data() {
    const GgufWriter w = TinyModel().writer();
    const GgufWriter::Layout at = w.layout();
    std::vector<uint8_t> b = w.bytes();
    GgufWriter::patch_u64(b, at.tensor_offset[3], uint64_t(1) << 40);
    expect(b, parse,
           "tensor 'blk.0.attn_k.weight': data offset 1099511627776 is beyond the file's");
    b = w.bytes();
    GgufWriter::patch_u64(b, at.tensor_offset[3], UINT64_MAX - 31);
    expect(b, parse, "tensor 'blk.0.attn_k.weight': data offset 18446744073709551584 is beyond");
    b = w.bytes();  // starts inside the file, ends beyond it
    const uint64_t last = b.size() - at.data_start - 32;
    GgufWriter::patch_u64(b, at.tensor_offset[3], last);
    expect(b, parse, "tensor 'blk.0.attn_k.weight': data [" + std::to_string(at.data_start + last));
    b = w.bytes();
    GgufWriter::patch_u64(b, at.tensor_offset[3], 4);
    expect(b, parse,
           "tensor 'blk.0.attn_k.weight': data offset 4 is not a multiple of the alignment 32");
    b = w.bytes();  // attn_k and attn_q share their first bytes
    uint64_t q_offset;
    std::memcpy(&q_offset, b.data() + at.tensor_offset[2], 8);
    GgufWriter::patch_u64(b, at.tensor_offset[3], q_offset + 128);
    expect(b, parse, "overlaps tensor 'blk.0.attn_q.weight'");

    GgufWriter overlap;
    const std::vector<float> v = ps::test::tiny_values("v", 16);
    overlap.add_tensor_f32("first", {16}, v.data());
    overlap.add_tensor_raw("second", {8}, ps::test::ggml_type::F32, std::vector<uint8_t>(32), 32);
    expect(overlap.bytes(), parse,
           "tensor 'second': data [32, 64) overlaps tensor 'first' [0, 64)");
}

void TestGgufErrors::bad_models() {
    TinyModel t;
    t.skip_tensor = "blk.1.ffn_down.weight";
    expect(t.writer().bytes(), weights, "missing tensor 'blk.1.ffn_down.weight'");

    t = TinyModel();
    t.dims["blk.0.attn_k.weight"] = {8, 8};
    expect(t.writer().bytes(), weights,
           "tensor 'blk.0.attn_k.weight': expected dims [8, 4] (ggml order), got [8, 8]");
    t = TinyModel();
    t.dims["output.weight"] = {8, 11};
    expect(t.writer().bytes(), weights, "tensor 'output.weight': expected dims [8, 10]");

    t = TinyModel();
    t.u32["llama.attention.head_count"] = 0;
    expect(t.writer().bytes(), weights, "key 'llama.attention.head_count': 0 is out of range");
    t = TinyModel();
    t.u32["llama.block_count"] = 4000000000u;
    expect(t.writer().bytes(), weights, "key 'llama.block_count': 4000000000 is out of range");
    t = TinyModel();
    t.u32["llama.attention.head_count"] = 3;
    expect(t.writer().bytes(), weights,
           "embedding_length 8 is not a multiple of head_count 3 and there is no "
           "attention.key_length");
    t = TinyModel();
    t.u32["llama.attention.head_count_kv"] = 3;
    t.u32["llama.attention.key_length"] = 4;
    expect(t.writer().bytes(), weights, "head_count 2 is not a multiple of head_count_kv 3");
    t = TinyModel();
    t.arch = "gpt2";
    t.kv_heads = t.heads;
    t.u32["gpt2.embedding_length"] = 0;
    expect(t.writer().bytes(), weights, "key 'gpt2.embedding_length': 0 is out of range");

    GgufWriter w = TinyModel().writer();
    w.set_u32("llama.rope.dimension_count", 2);
    // llama.cpp refuses partial rotary for `llama` (phi3 may rotate fewer dimensions).
    expect(w.bytes(), weights,
           "key 'llama.rope.dimension_count': 2 rotated dimensions of 4 is not supported");
    w = TinyModel().writer();
    w.set_string("llama.rope.scaling.type", "yarn");
    expect(w.bytes(), weights, "RoPE scaling 'yarn' is not supported (supported: none, linear");
    w = TinyModel().writer();
    const float f[4] = {};
    w.add_tensor_f32("rope_freqs.weight", {3}, f);  // one factor per rotated pair: 2
    expect(w.bytes(), weights, "tensor 'rope_freqs.weight': expected dims [2]");
    w = TinyModel().writer();
    w.add_tensor_f32("blk.0.ffn_gate_inp.weight", {4}, f);  // a mixture of experts' router
    expect(w.bytes(), weights,
           "tensor 'blk.0.ffn_gate_inp.weight' is not part of the llama architecture");

    // A tensor of a type ggml has but ParamScope doesn't dequantize (Q8_1, 32 per block).
    t = TinyModel();
    t.dim = 32;
    t.heads = 4;
    t.skip_tensor = "token_embd.weight";
    w = t.writer();
    w.add_tensor_raw("token_embd.weight", {32, 10}, 9, std::vector<uint8_t>(10 * 36));
    expect(w.bytes(), weights, "tensor 'token_embd.weight': type Q8_1 is not supported");

    GgufWriter other;
    other.set_string("general.architecture", "mamba");
    expect(other.bytes(), weights, "key 'general.architecture': 'mamba' is not supported");
    GgufWriter none;
    expect(none.bytes(), weights, "missing key 'general.architecture'");
}

void TestGgufErrors::bad_tokenizers() {
    auto base = [](const std::string& model) {
        GgufWriter w;
        w.set_string("tokenizer.ggml.model", model);
        w.set_string_array("tokenizer.ggml.tokens", {"<unk>", "<s>", "</s>", "a"});
        return w;
    };
    GgufWriter w = base("llama");
    w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0});
    expect(w.bytes(), vocab, "key 'tokenizer.ggml.scores': 3 scores, expected one per token (4)");
    w = base("llama");
    w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, 0});
    w.set_u32("tokenizer.ggml.bos_token_id", 4);
    expect(w.bytes(), vocab,
           "key 'tokenizer.ggml.bos_token_id': token id 4 is outside the vocabulary of 4 tokens");
    w = base("llama");
    w.set_f32_array("tokenizer.ggml.scores", {0, 0, 0, 0});
    w.set_i32_array("tokenizer.ggml.token_type", {2, 3, 3, 9});
    expect(w.bytes(), vocab, "key 'tokenizer.ggml.token_type': token 3 has type 9");
    w = base("llama");
    w.set_string("tokenizer.ggml.scores", "no");
    expect(w.bytes(), vocab, "key 'tokenizer.ggml.scores': expected array of f32, got string");
    w = base("llama");
    expect(w.bytes(), vocab, "missing key 'tokenizer.ggml.scores'");
    w = base("gpt2");
    expect(w.bytes(), vocab, "missing key 'tokenizer.ggml.merges'");
    w = base("gpt2");
    w.set_string("tokenizer.ggml.pre", "no-such-pre");
    expect(w.bytes(), vocab,
           "key 'tokenizer.ggml.pre': pre-tokenizer 'no-such-pre' is not supported; expected one "
           "of default, gpt-2,");
    w = base("bert");
    expect(w.bytes(), vocab, "key 'tokenizer.ggml.model': tokenizer 'bert' is not supported");
    GgufWriter empty;
    empty.set_string("tokenizer.ggml.model", "llama");
    empty.set_string_array("tokenizer.ggml.tokens", {});
    expect(empty.bytes(), vocab, "key 'tokenizer.ggml.tokens': the vocabulary is empty");
}

PARAMSCOPE_TEST_APPLESS_MAIN(TestGgufErrors)
#include "test_gguf_errors.moc"
