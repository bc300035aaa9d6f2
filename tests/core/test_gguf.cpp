// GGUF: the parser on writer-built files, the model loader on tiny synthetic models, and the
// real files in ../shared (stories260K.gguf against the raw llama2.c checkpoint, the F16
// tiny-random llama, the vocabulary-only files). Broken files: test_gguf_errors.cpp;
// dequantization: test_quant.cpp.
#include <QTemporaryDir>
#include <QtTest>
#include <cstring>
#include <fstream>
#include <map>

#include "core/error.h"
#include "core/formats/gguf.h"
#include "core/formats/loader.h"
#include "core/tensor/half.h"
#include "core/tensor/quant.h"
#include "tests/support/gguf_tiny.h"
#include "tests/support/shared_data.h"
#include "tests/support/suite.h"

using ps::test::GgufWriter;
using ps::test::TinyModel;

namespace {

std::vector<uint8_t> read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

const ps::TensorInfo* inventory(const ps::Model& m, const std::string& name) {
    for (const ps::TensorInfo& t : m.tensors)
        if (t.name == name) return &t;
    return nullptr;
}

}  // namespace

class TestGguf : public QObject {
    Q_OBJECT
    QTemporaryDir dir_;
    std::string tmp(const char* name) { return dir_.filePath(name).toStdString(); }

  private slots:
    void metadata_round_trip();
    void tensor_infos_and_alignment();
    void tiny_llama_weights();
    void tiny_gpt2_fused_qkv_and_tied_output();
    void f32_in_place_and_copied_when_misaligned();
    void quantized_tensor_in_a_model();
    void stories260K_matches_llama2c_checkpoint();
    void stories260K_vocab_matches_tok512();
    void stories260K_full_model();
    void tiny_random_f16();
    void vocab_only_files();
};

void TestGguf::metadata_round_trip() {
    GgufWriter w;
    w.set_u8("a.u8", 200);
    w.set_i8("a.i8", -100);
    w.set_u16("a.u16", 60000);
    w.set_i16("a.i16", -30000);
    w.set_u32("a.u32", 4000000000u);
    w.set_i32("a.i32", -2000000000);
    w.set_u64("a.u64", 1ull << 40);
    w.set_i64("a.i64", -(1ll << 40));
    w.set_f32("a.f32", 0.125f);
    w.set_f64("a.f64", 2.5);
    w.set_bool("a.bool", true);
    w.set_string("a.str", "héllo");
    w.set_string_array("a.strs", {"x", "", "▁the"});
    w.set_f32_array("a.f32s", {1.5f, -2.0f});
    w.set_i32_array("a.i32s", {-1, 7});
    w.set_u32_array("a.u32s", {3, 4000000000u});
    // A nested array: [[1, 2], [3]] of u8, which the parser must walk through.
    std::vector<uint8_t> nested;
    GgufWriter::put_u32(nested, static_cast<uint32_t>(ps::test::GgufType::Array));
    GgufWriter::put_u64(nested, 2);
    for (std::vector<uint8_t> inner : {std::vector<uint8_t>{1, 2}, std::vector<uint8_t>{3}}) {
        GgufWriter::put_u32(nested, static_cast<uint32_t>(ps::test::GgufType::U8));
        GgufWriter::put_u64(nested, inner.size());
        nested.insert(nested.end(), inner.begin(), inner.end());
    }
    w.set_raw("a.nested", ps::test::GgufType::Array, nested);
    w.set_string("a.after", "still read");
    w.write(tmp("meta.gguf"));

    ps::GgufFile f(tmp("meta.gguf"));
    QCOMPARE(f.version(), 3u);
    QCOMPARE(f.kvs().size(), size_t(18));
    QCOMPARE(f.tensors().size(), size_t(0));
    QCOMPARE(f.get_int("a.u8"), int64_t(200));
    QCOMPARE(f.get_int("a.i8"), int64_t(-100));
    QCOMPARE(f.get_int("a.u16"), int64_t(60000));
    QCOMPARE(f.get_int("a.i16"), int64_t(-30000));
    QCOMPARE(f.get_int("a.u32"), int64_t(4000000000));
    QCOMPARE(f.get_int("a.i32"), int64_t(-2000000000));
    QCOMPARE(f.get_int("a.u64"), int64_t(1) << 40);
    QCOMPARE(f.get_int("a.i64"), -(int64_t(1) << 40));
    QCOMPARE(f.get_f32("a.f32"), 0.125f);
    QCOMPARE(f.get_f32("a.f64"), 2.5f);
    QCOMPARE(f.get_bool("a.bool"), true);
    QCOMPARE(f.get_string("a.str"), std::string("héllo"));
    QCOMPARE(f.get_string_array("a.strs"), (std::vector<std::string>{"x", "", "▁the"}));
    QCOMPARE(f.get_f32_array("a.f32s"), (std::vector<float>{1.5f, -2.0f}));
    QCOMPARE(f.get_i32_array("a.i32s"), (std::vector<int32_t>{-1, 7}));
    QCOMPARE(f.array_size("a.nested"), uint64_t(2));
    QCOMPARE(f.find("a.nested")->elem_type, ps::GgufType::Array);
    QCOMPARE(f.get_string("a.after"), std::string("still read"));

    // Optional lookups: absent -> nullopt; present -> the value.
    QVERIFY(!f.opt_int("a.missing").has_value());
    QCOMPARE(f.opt_int("a.u32").value(), int64_t(4000000000));
    QCOMPARE(f.opt_string("a.str").value(), std::string("héllo"));
    QVERIFY(!f.opt_bool("nope").has_value());

    // Wrong types and missing keys name the file and the key.
    auto expect = [&](auto&& call, const char* part) {
        try {
            call();
            QFAIL(qPrintable(QString("no error; expected '%1'").arg(part)));
        } catch (const ps::Error& e) {
            const std::string msg = e.what();
            QVERIFY2(msg.find(tmp("meta.gguf")) != std::string::npos, e.what());
            QVERIFY2(msg.find(part) != std::string::npos, e.what());
        }
    };
    expect([&] { f.get_int("a.str"); }, "key 'a.str': expected an integer, got string");
    expect([&] { f.get_string("a.u32"); }, "key 'a.u32': expected string, got u32");
    expect([&] { f.get_f32("a.bool"); }, "key 'a.bool': expected f32, got bool");
    expect([&] { f.get_bool("a.f32"); }, "key 'a.f32': expected bool, got f32");
    expect([&] { f.get_f32_array("a.strs"); }, "expected array of f32, got array of string");
    expect([&] { f.get_string_array("a.nested"); }, "got array of array");
    expect([&] { f.get_i32_array("a.u32s"); }, "element 1 does not fit in an i32");
    expect([&] { f.get_string("a.absent"); }, "missing key 'a.absent'");
    expect([&] { f.opt_int("a.str"); }, "key 'a.str': expected an integer");
}

void TestGguf::tensor_infos_and_alignment() {
    GgufWriter w;
    w.alignment = 64;
    w.set_u32("general.alignment", 64);
    const std::vector<float> a = ps::test::tiny_values("a", 3 * 5),
                             b = ps::test::tiny_values("b", 7);
    w.add_tensor_f32("a", {3, 5}, a.data());
    w.add_tensor_f32("b", {7}, b.data());
    w.write(tmp("align.gguf"));

    ps::GgufFile f(tmp("align.gguf"));
    QCOMPARE(f.alignment(), uint64_t(64));
    QCOMPARE(f.data_start() % 64, uint64_t(0));
    QCOMPARE(f.data_start(), uint64_t(w.layout().data_start));
    const ps::GgufTensor* ta = f.find_tensor("a");
    const ps::GgufTensor* tb = f.find_tensor("b");
    QVERIFY(ta && tb && !f.find_tensor("c"));
    QCOMPARE(ta->ne, (std::vector<int64_t>{3, 5}));
    QCOMPARE(ta->shape(), (std::vector<int64_t>{5, 3}));
    QCOMPARE(ta->count, int64_t(15));
    QCOMPARE(ta->nbytes, uint64_t(60));
    QCOMPARE(tb->offset, uint64_t(64));  // 60 bytes padded to 64
    QVERIFY(std::memcmp(ta->data, a.data(), 60) == 0);
    QVERIFY(std::memcmp(tb->data, b.data(), 28) == 0);

    // Version 2 has the same layout (v3 only added big-endian files).
    w.version = 2;
    w.write(tmp("v2.gguf"));
    ps::GgufFile v2(tmp("v2.gguf"));
    QCOMPARE(v2.version(), 2u);
    QVERIFY(std::memcmp(v2.find_tensor("b")->data, b.data(), 28) == 0);
}

void TestGguf::tiny_llama_weights() {
    TinyModel t;  // dim 8, hidden 16, 2 layers, 2 heads, 1 kv head, vocab 10
    t.writer().write(tmp("llama.gguf"));
    auto m = ps::load_gguf_weights(tmp("llama.gguf"));
    const ps::Config& c = m->config;
    QCOMPARE(m->format, std::string("gguf"));
    QCOMPARE(m->name, std::string("tiny-llama"));
    QCOMPARE(c.arch, ps::Arch::Llama);
    QCOMPARE(c.dim, 8);
    QCOMPARE(c.hidden_dim, 16);
    QCOMPARE(c.n_layers, 2);
    QCOMPARE(c.n_heads, 2);
    QCOMPARE(c.n_kv_heads, 1);
    QCOMPARE(c.vocab_size, 10);
    QCOMPARE(c.context_length, 16);
    QCOMPARE(c.norm_eps, 1e-5f);
    QCOMPARE(c.rope_style, ps::RopeStyle::Interleaved);
    QVERIFY(!c.tied_embeddings);
    QCOMPARE(m->tensors.size(), t.tensors().size());

    // Every pointer holds exactly the tensor's values; shapes are outermost-first.
    const ps::LayerWeights& L1 = m->weights.layers[1];
    QCOMPARE(L1.wk.in, 8);
    QCOMPARE(L1.wk.out, 4);
    QVERIFY(!L1.wk.stored_in_out);
    QCOMPARE(L1.wk.w[4 * 8 - 1], ps::test::tiny_value("blk.1.attn_k.weight", 31));
    QCOMPARE(L1.ffn_down.in, 16);
    QCOMPARE(L1.ffn_down.out, 8);
    for (const auto& [name, ne] : t.tensors()) {
        const ps::TensorInfo* info = inventory(*m, name);
        QVERIFY2(info, name.c_str());
        QCOMPARE(info->shape, (std::vector<int64_t>(ne.rbegin(), ne.rend())));
        QCOMPARE(info->dtype, ps::DType::F32);
        QCOMPARE(info->bytes, info->count * 4);
        const std::vector<float> expected = ps::test::tiny_values(name, info->count);
        QVERIFY2(std::memcmp(info->data, expected.data(), size_t(info->bytes)) == 0, name.c_str());
    }
    QCOMPARE(inventory(*m, "blk.1.ffn_up.weight")->layer, 1);
    QCOMPARE(inventory(*m, "output.weight")->layer, -1);
    QCOMPARE(inventory(*m, "token_embd.weight")->kind, ps::ParamKind::Embedding);
    QCOMPARE(inventory(*m, "blk.0.attn_norm.weight")->kind, ps::ParamKind::Norm);
    QCOMPARE(inventory(*m, "blk.0.attn_q.weight")->kind, ps::ParamKind::Weight);
    QCOMPARE(L1.wq.w, inventory(*m, "blk.1.attn_q.weight")->data);
    QCOMPARE(m->weights.unembed.w, inventory(*m, "output.weight")->data);
}

void TestGguf::tiny_gpt2_fused_qkv_and_tied_output() {
    TinyModel t;
    t.arch = "gpt2";
    t.kv_heads = t.heads;
    t.with_output = false;
    t.writer().write(tmp("gpt2.gguf"));
    auto m = ps::load_gguf_weights(tmp("gpt2.gguf"));
    const ps::Config& c = m->config;
    QCOMPARE(c.arch, ps::Arch::Gpt2);
    QCOMPARE(c.n_kv_heads, 2);
    QVERIFY(c.tied_embeddings);
    QCOMPARE(m->weights.unembed.w, m->weights.token_embedding);
    QVERIFY(!inventory(*m, "output.weight"));
    QCOMPARE(m->tensors.size(), t.tensors().size());
    const float* pos = m->weights.position_embedding;
    QCOMPARE(pos[16 * 8 - 1], ps::test::tiny_value("position_embd.weight", 127));

    // q, k, v are row blocks of the fused [3*dim, dim] matrix; biases slices of its bias.
    const ps::LayerWeights& L = m->weights.layers[1];
    const ps::TensorInfo* qkv = inventory(*m, "blk.1.attn_qkv.weight");
    const ps::TensorInfo* qkv_b = inventory(*m, "blk.1.attn_qkv.bias");
    QCOMPARE(qkv->shape, (std::vector<int64_t>{24, 8}));
    QCOMPARE(L.wq.w, qkv->data);
    QCOMPARE(L.wk.w, qkv->data + 64);
    QCOMPARE(L.wv.w, qkv->data + 128);
    QCOMPARE(L.wq.b, qkv_b->data);
    QCOMPARE(L.wk.b, qkv_b->data + 8);
    QCOMPARE(L.wv.b, qkv_b->data + 16);
    QCOMPARE(L.wv.b[7], ps::test::tiny_value("blk.1.attn_qkv.bias", 23));
    for (const ps::Linear* l : {&L.wq, &L.wk, &L.wv, &L.wo}) {
        QCOMPARE(l->in, 8);
        QCOMPARE(l->out, 8);
        QVERIFY(l->b);
    }
    QCOMPARE(L.ffn_up.out, 16);
    QCOMPARE(L.ffn_down.b, inventory(*m, "blk.1.ffn_down.bias")->data);
    QVERIFY(m->weights.final_norm_bias && L.attn_norm_bias && L.ffn_norm_bias);
    QCOMPARE(inventory(*m, "blk.1.attn_qkv.bias")->kind, ps::ParamKind::Bias);
}

void TestGguf::f32_in_place_and_copied_when_misaligned() {
    TinyModel t;
    t.writer().write(tmp("inplace.gguf"));
    auto m = ps::load_gguf_weights(tmp("inplace.gguf"));
    const uint8_t* begin = m->files.at(0)->data();
    const uint8_t* end = begin + m->files.at(0)->size();
    for (const ps::TensorInfo& info : m->tensors) {
        const auto* p = reinterpret_cast<const uint8_t*>(info.data);
        QVERIFY2(p >= begin && p < end, info.name.c_str());  // no copy
    }
    QVERIFY(m->owned.empty());

    // general.alignment 1 and a data section at an odd offset (a padding key of the right
    // length shifts it): the floats can't be read in place, so they are copied.
    for (int pad = 0; pad < 4; ++pad) {
        GgufWriter w = t.writer();
        w.alignment = 1;
        w.set_u32("general.alignment", 1);
        w.set_string("padding", std::string(size_t(pad), 'x'));
        if (w.layout().data_start % 4 == 0) continue;
        w.write(tmp("odd.gguf"));
        auto odd = ps::load_gguf_weights(tmp("odd.gguf"));
        QCOMPARE(odd->owned.size(), odd->tensors.size());
        for (const ps::TensorInfo& info : odd->tensors) {
            QCOMPARE(reinterpret_cast<uintptr_t>(info.data) % 4, uintptr_t(0));
            const std::vector<float> expected = ps::test::tiny_values(info.name, info.count);
            QVERIFY(std::memcmp(info.data, expected.data(), size_t(info.bytes)) == 0);
        }
        return;
    }
    QFAIL("no padding gave a misaligned data section");
}

void TestGguf::quantized_tensor_in_a_model() {
    // A dim-32 llama whose matrices are F16: kept as stored (the Linear and the inventory point
    // at the file's bytes), or, with f32_weights, dequantized copies; dtype kept as stored.
    TinyModel t;
    t.dim = 32;
    t.heads = 4;
    t.kv_heads = 2;
    t.f16 = true;
    t.writer().write(tmp("f16.gguf"));
    ps::LoadOptions widen;
    widen.f32_weights = true;
    for (bool compact : {true, false}) {
        auto m = ps::load_gguf_weights(tmp("f16.gguf"), compact ? ps::LoadOptions{} : widen);
        const ps::TensorInfo* q = inventory(*m, "blk.0.attn_q.weight");
        QCOMPARE(q->dtype, ps::DType::F16);
        QCOMPARE(q->bytes, q->count * 2);
        QCOMPARE(inventory(*m, "blk.0.attn_norm.weight")->dtype, ps::DType::F32);
        std::vector<float> values(size_t(q->count));
        if (compact) {
            QVERIFY(q->data == nullptr && q->raw != nullptr);
            ps::dequantize(ps::DType::F16, q->raw, values.data(), q->count);
            QCOMPARE(m->weights.layers[0].wq.raw, q->raw);
            QCOMPARE(m->weights.layers[0].wq.dtype, ps::DType::F16);
        } else {
            QVERIFY(q->data != nullptr && q->raw == nullptr);
            values.assign(q->data, q->data + q->count);
            QCOMPARE(m->weights.layers[0].wq.w, q->data);
        }
        for (int64_t i = 0; i < q->count; ++i) {
            const float v = ps::test::tiny_value("blk.0.attn_q.weight", i);
            QCOMPARE(values[size_t(i)], ps::f16_to_f32(ps::f32_to_f16(v)));
        }
    }
}

void TestGguf::stories260K_matches_llama2c_checkpoint() {
    PS_REQUIRE_SHARED(gguf, "models/stories260K/stories260K.gguf");
    PS_REQUIRE_SHARED(bin, "models/stories260K/stories260K.bin");
    auto m = ps::load_gguf_weights(gguf);
    const ps::Config& c = m->config;
    QCOMPARE(c.dim, 64);
    QCOMPARE(c.hidden_dim, 172);
    QCOMPARE(c.n_layers, 5);
    QCOMPARE(c.n_heads, 8);
    QCOMPARE(c.n_kv_heads, 4);
    QCOMPARE(c.vocab_size, 512);
    QCOMPARE(c.context_length, 2048);
    QCOMPARE(c.norm_eps, 1e-5f);
    QCOMPARE(c.rope_theta, 10000.0f);
    QVERIFY(!c.tied_embeddings);  // output.weight is explicit
    QCOMPARE(m->tensors.size(), size_t(48));
    QCOMPARE(m->format, std::string("gguf"));

    // The raw llama2.c checkpoint: 7 int32, then the f32 tensors in their order.
    const std::vector<uint8_t> raw = read_file(bin);
    const int64_t dim = 64, hidden = 172, L = 5, kv = 32, vocab = 512;
    int64_t at = 28;
    auto next = [&](int64_t n) {
        const uint8_t* p = raw.data() + at;
        at += n * 4;
        return p;
    };
    const uint8_t* emb = next(vocab * dim);
    const uint8_t* rms_att = next(L * dim);
    const uint8_t* wq = next(L * dim * dim);
    const uint8_t* wk = next(L * kv * dim);
    const uint8_t* wv = next(L * kv * dim);
    const uint8_t* wo = next(L * dim * dim);
    const uint8_t* rms_ffn = next(L * dim);
    const uint8_t* w1 = next(L * hidden * dim);
    const uint8_t* w2 = next(L * dim * hidden);
    const uint8_t* w3 = next(L * hidden * dim);
    const uint8_t* rms_final = next(dim);
    QVERIFY(size_t(at) <= raw.size());

    std::map<std::string, std::pair<const uint8_t*, int64_t>> expected = {
        {"token_embd.weight", {emb, vocab * dim}},
        {"output.weight", {emb, vocab * dim}},  // the .bin shares its classifier
        {"output_norm.weight", {rms_final, dim}},
    };
    for (int64_t l = 0; l < L; ++l) {
        const std::string p = "blk." + std::to_string(l) + ".";
        expected[p + "attn_norm.weight"] = {rms_att + l * dim * 4, dim};
        expected[p + "attn_q.weight"] = {wq + l * dim * dim * 4, dim * dim};
        expected[p + "attn_k.weight"] = {wk + l * kv * dim * 4, kv * dim};
        expected[p + "attn_v.weight"] = {wv + l * kv * dim * 4, kv * dim};
        expected[p + "attn_output.weight"] = {wo + l * dim * dim * 4, dim * dim};
        expected[p + "ffn_norm.weight"] = {rms_ffn + l * dim * 4, dim};
        expected[p + "ffn_gate.weight"] = {w1 + l * hidden * dim * 4, hidden * dim};
        expected[p + "ffn_down.weight"] = {w2 + l * dim * hidden * 4, dim * hidden};
        expected[p + "ffn_up.weight"] = {w3 + l * hidden * dim * 4, hidden * dim};
    }
    QCOMPARE(expected.size(), size_t(48));
    for (const ps::TensorInfo& t : m->tensors) {
        auto it = expected.find(t.name);
        QVERIFY2(it != expected.end(), t.name.c_str());
        QCOMPARE(t.count, it->second.second);
        QCOMPARE(t.dtype, ps::DType::F32);
        QVERIFY2(std::memcmp(t.data, it->second.first, size_t(t.count) * 4) == 0, t.name.c_str());
    }
    QCOMPARE(inventory(*m, "token_embd.weight")->shape, (std::vector<int64_t>{512, 64}));
    QCOMPARE(inventory(*m, "blk.3.ffn_down.weight")->shape, (std::vector<int64_t>{64, 172}));
    QCOMPARE(m->weights.layers[3].ffn_down.w, inventory(*m, "blk.3.ffn_down.weight")->data);
    QCOMPARE(m->weights.layers[4].wk.w, inventory(*m, "blk.4.attn_k.weight")->data);
    QCOMPARE(m->totals().total(),
             int64_t(512 * 64 * 2 + 64 + 5 * (64 * 2 + 64 * 64 * 2 + 32 * 64 * 2 + 172 * 64 * 3)));
}

void TestGguf::stories260K_vocab_matches_tok512() {
    PS_REQUIRE_SHARED(gguf, "models/stories260K/stories260K.gguf");
    PS_REQUIRE_SHARED(tok, "models/stories260K/tok512.bin");
    ps::GgufFile f(gguf);
    const ps::GgufVocab v = ps::read_gguf_vocab(f);
    QCOMPARE(v.model, std::string("llama"));
    const ps::SpmVocab& s = v.spm;
    QCOMPARE(s.pieces.size(), size_t(512));
    QCOMPARE(s.bos_id, 1);
    QCOMPARE(s.eos_id, 2);
    QCOMPARE(s.unk_id, 0);
    QVERIFY(s.add_bos && s.add_space_prefix);
    QCOMPARE(s.types[0], ps::TokenType::Unknown);
    QCOMPARE(s.types[1], ps::TokenType::Control);
    QCOMPARE(s.types[3], ps::TokenType::Byte);
    QCOMPARE(s.types[300], ps::TokenType::Normal);

    // tok512.bin: int32 max_len, then {f32 score, int32 len, bytes}; "▁" stored as a space.
    const std::vector<uint8_t> raw = read_file(tok);
    size_t at = 4;
    for (int i = 0; i < 512; ++i) {
        float score;
        int32_t len;
        std::memcpy(&score, raw.data() + at, 4);
        std::memcpy(&len, raw.data() + at + 4, 4);
        std::string piece(reinterpret_cast<const char*>(raw.data() + at + 8), size_t(len));
        at += 8 + size_t(len);
        std::string spm;
        for (char ch : piece) spm += ch == ' ' ? std::string("\xE2\x96\x81") : std::string(1, ch);
        QCOMPARE(s.scores[size_t(i)], score);
        // llama2.c's export wrote BOS/EOS as "\n<s>\n" and "\n</s>\n"; GGUF has the real pieces.
        if (i == 1 || i == 2) spm = i == 1 ? "<s>" : "</s>";
        QCOMPARE(s.pieces[size_t(i)], spm);
    }
}

void TestGguf::stories260K_full_model() {
    PS_REQUIRE_SHARED(gguf, "models/stories260K/stories260K.gguf");
    auto m = ps::load_model(gguf);  // detected from the magic
    QCOMPARE(m->format, std::string("gguf"));
    QVERIFY(m->tokenizer);
    QCOMPARE(m->tokenizer->vocab_size(), 512);
    QCOMPARE(m->tokenizer->kind(), std::string("spm"));
    QCOMPARE(m->tokenizer->bos_id, 1);
    QCOMPARE(m->tokenizer->piece(300), ps::read_gguf_vocab(ps::GgufFile(gguf)).spm.pieces[300]);
}

void TestGguf::tiny_random_f16() {
    PS_REQUIRE_SHARED(path, "models/tiny-random/llama-2-tiny-random.gguf");
    ps::LoadOptions widen;  // the values checked below as f32 (compact: test_compact_weights)
    widen.f32_weights = true;
    auto m = ps::load_gguf_weights(path, widen);
    const ps::Config& c = m->config;
    QCOMPARE(c.dim, 8);
    QCOMPARE(c.hidden_dim, 32);
    QCOMPARE(c.n_layers, 1);
    QCOMPARE(c.n_heads, 2);
    QCOMPARE(c.n_kv_heads, 2);
    QCOMPARE(c.vocab_size, 32000);
    QCOMPARE(m->name, std::string("LLaMA v2"));
    QCOMPARE(m->tensors.size(), size_t(12));
    ps::GgufFile f(path);
    int f16 = 0;
    for (const ps::TensorInfo& t : m->tensors) {
        const ps::GgufTensor* g = f.find_tensor(t.name);
        QVERIFY(g);
        QCOMPARE(t.bytes, int64_t(g->nbytes));
        QCOMPARE(t.dtype, g->type == 1 ? ps::DType::F16 : ps::DType::F32);
        if (t.dtype != ps::DType::F16) continue;
        ++f16;
        bool nonzero = false;
        for (int64_t i = 0; i < t.count; ++i) {
            uint16_t h;
            std::memcpy(&h, g->data + 2 * i, 2);
            QCOMPARE(t.data[i], ps::f16_to_f32(h));
            nonzero = nonzero || t.data[i] != 0.0f;
        }
        QVERIFY2(nonzero, t.name.c_str());
    }
    QCOMPARE(f16, 9);  // token_embd, 7 block matrices, output

    // The whole model, with its 32,000-token tokenizer, passes Model::validate().
    auto full = ps::load_model(path);
    QCOMPARE(full->tokenizer->vocab_size(), 32000);
    QCOMPARE(full->config.vocab_size, 32000);
}

void TestGguf::vocab_only_files() {
    PS_REQUIRE_SHARED(gpt2, "tokenizers/ggml-vocab-gpt-2.gguf");
    PS_REQUIRE_SHARED(spm, "tokenizers/ggml-vocab-llama-spm.gguf");
    ps::GgufFile g(gpt2);
    QCOMPARE(g.tensors().size(), size_t(0));
    const ps::GgufVocab vg = ps::read_gguf_vocab(g);
    QCOMPARE(vg.model, std::string("gpt2"));
    QCOMPARE(vg.bpe.pieces.size(), size_t(50257));
    QCOMPARE(vg.bpe.merges.size(), size_t(50000));
    QCOMPARE(vg.bpe.merges[0], std::string("\xC4\xA0 t"));  // "Ġ t"
    QCOMPARE(vg.bpe.pieces[0], std::string("!"));
    QCOMPARE(vg.bpe.pieces[50256], std::string("<|endoftext|>"));
    QCOMPARE(vg.bpe.bos_id, 50256);
    QCOMPARE(vg.bpe.eos_id, 50256);
    QVERIFY(!vg.bpe.add_bos);
    QCOMPARE(vg.bpe.types.size(), size_t(50257));

    ps::GgufFile s(spm);
    const ps::GgufVocab vs = ps::read_gguf_vocab(s);
    QCOMPARE(vs.model, std::string("llama"));
    QCOMPARE(vs.spm.pieces.size(), size_t(32000));
    QCOMPARE(vs.spm.scores.size(), size_t(32000));
    QCOMPARE(vs.spm.pieces[259], std::string("\xE2\x96\x81\xE2\x96\x81"));  // "▁▁"
    QVERIFY(vs.spm.add_bos);
    QCOMPARE(vs.spm.types[2], ps::TokenType::Control);

    // The tokenizers built from them (the tokenizer helper tests their encodings).
    auto tg = ps::load_gguf_tokenizer(gpt2);
    QCOMPARE(tg->kind(), std::string("gpt2"));
    QCOMPARE(tg->vocab_size(), 50257);
    QCOMPARE(tg->eos_id, 50256);
    QVERIFY(!tg->add_bos);
    auto ts = ps::load_gguf_tokenizer(spm);
    QCOMPARE(ts->kind(), std::string("spm"));
    QCOMPARE(ts->vocab_size(), 32000);
    QCOMPARE(ts->bos_id, 1);
    QVERIFY(ts->add_bos);

    // Not a model: the error names the first missing tensor.
    try {
        ps::load_gguf_weights(spm);
        QFAIL("a vocabulary-only file loaded as a model");
    } catch (const ps::Error& e) {
        QVERIFY2(
            std::string(e.what()).find("missing tensor 'token_embd.weight'") != std::string::npos,
            e.what());
    }
}

PARAMSCOPE_TEST_APPLESS_MAIN(TestGguf)
#include "test_gguf.moc"
