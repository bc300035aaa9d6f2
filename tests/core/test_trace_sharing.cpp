// A trace extended from a shorter one shares its rows instead of copying them
// (core/tensor/activation.h): the shared rows must never change under the older trace, whoever
// appends next and in whatever order traces are dropped, and the result must equal a pass over the
// whole prompt.
#include <QtTest>
#include <thread>
#include "tests/support/suite.h"

#include "core/error.h"
#include "core/model/forward.h"
#include "core/model/random_model.h"

using ps::Activation;
using ps::MatrixRM;

namespace {

MatrixRM rows_of(std::initializer_list<float> values, Eigen::Index cols) {
    MatrixRM m(static_cast<Eigen::Index>(values.size()) / cols, cols);
    std::copy(values.begin(), values.end(), m.data());
    return m;
}

// Every activation of a trace, copied out, in named_activations order.
std::vector<std::vector<float>> snapshot(const ps::Trace& t) {
    std::vector<std::vector<float>> out;
    for (const auto& a : ps::named_activations(t)) {
        int64_t n = 1;
        for (int64_t d : a.shape) n *= d;
        out.emplace_back(a.data, a.data + n);
    }
    return out;
}

double max_difference(const ps::Trace& a, const ps::Trace& b) {
    const auto x = snapshot(a), y = snapshot(b);
    if (x.size() != y.size()) return INFINITY;
    double worst = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        if (x[i].size() != y[i].size()) return INFINITY;
        for (size_t j = 0; j < x[i].size(); ++j)
            worst = std::max(worst, std::abs(double(x[i][j]) - y[i][j]));
    }
    return worst;
}

std::vector<int> prompt(const ps::Model& m, int n, int salt = 0) {
    std::vector<int> ids;
    for (int i = 0; i < n; ++i) ids.push_back((i * 37 + 11 + salt) % m.config.vocab_size);
    return ids;
}

}  // namespace

class TestTraceSharing : public QObject {
    Q_OBJECT

  private slots:
    void extends_in_place_only_at_the_top() {
        const Activation a = Activation::extend(Activation(), 0, rows_of({1, 2, 3, 4}, 2), 4);
        QCOMPARE(a.rows(), Eigen::Index(2));
        // Appending at the top of the buffer writes into it.
        const Activation b = Activation::extend(a, 2, rows_of({5, 6}, 2), 4);
        QVERIFY(b.shares_buffer_with(a));
        QCOMPARE(b(2, 1), 6.0f);
        // A second append to `a` would overwrite b's row 2: it gets a buffer of its own.
        const Activation c = Activation::extend(a, 2, rows_of({7, 8}, 2), 4);
        QVERIFY(!c.shares_buffer_with(a));
        QCOMPARE(b(2, 0), 5.0f);
        QCOMPARE(c(2, 0), 7.0f);
        QCOMPARE(c(1, 1), 4.0f);
        // So does an edit of a's last row, and an append past the capacity.
        const Activation d = Activation::extend(a, 1, rows_of({9, 9}, 2), 4);
        QVERIFY(!d.shares_buffer_with(a));
        QCOMPARE(a(1, 0), 3.0f);
        const Activation e = Activation::extend(b, 3, rows_of({1, 1, 2, 2}, 2), 4);
        QVERIFY(!e.shares_buffer_with(b));
        QCOMPARE(e.rows(), Eigen::Index(5));
        QCOMPARE(e(0, 0), 1.0f);
        const MatrixRM one_row = rows_of({1, 1}, 2), wider = rows_of({1, 1, 1}, 3);
        QVERIFY_THROWS_EXCEPTION(ps::Error, Activation::extend(a, 3, one_row, 4));
        QVERIFY_THROWS_EXCEPTION(ps::Error, Activation::extend(a, 2, wider, 4));
    }

    void rows_come_free_when_their_readers_go() {
        const Activation a = Activation::extend(Activation(), 0, rows_of({1, 2}, 2), 8);
        {
            const Activation b = Activation::extend(a, 1, rows_of({3, 4}, 2), 8);
            QVERIFY(b.shares_buffer_with(a));
            const Activation c = Activation::extend(a, 1, rows_of({5, 6}, 2), 8);
            QVERIFY(!c.shares_buffer_with(a));
            QCOMPARE(b(1, 1), 4.0f);
        }
        {
            const Activation b = Activation::extend(a, 1, rows_of({3, 4}, 2), 8);
            const Activation b_copy = b;
            const Activation c = Activation::extend(b, 2, rows_of({5, 6}, 2), 8);
            QVERIFY(b.shares_buffer_with(a) && c.shares_buffer_with(a));
            // While b (or a copy of it) lives, its row stays put.
            const Activation other = Activation::extend(a, 1, rows_of({9, 9}, 2), 8);
            QVERIFY(!other.shares_buffer_with(a));
            QCOMPARE(b_copy(1, 0), 3.0f);
        }
        // b, its copy and c are gone: a's buffer takes the next append in place again.
        const Activation again = Activation::extend(a, 1, rows_of({9, 9}, 2), 8);
        QVERIFY(again.shares_buffer_with(a));
        QCOMPARE(again(1, 1), 9.0f);
        QCOMPARE(a.rows(), Eigen::Index(1));
    }

    // On a whole model: appending a token shares every activation with the shorter trace, leaves
    // that trace's values untouched bit for bit, and gives the full pass's values.
    void forward_appends_in_place() {
        const auto model = ps::make_random_model("gpt2-tiny");
        const std::vector<int> ids = prompt(*model, 24);
        std::vector<int> shorter(ids.begin(), ids.end() - 1);
        const ps::Trace base = ps::forward(*model, shorter);
        const auto before = snapshot(base);

        const ps::Trace appended = ps::forward(*model, ids, ps::TraceOptions(), &base);
        QVERIFY(appended.logits.shares_buffer_with(base.logits));
        QVERIFY(appended.embed.shares_buffer_with(base.embed));
        for (size_t l = 0; l < base.layers.size(); ++l) {
            const ps::LayerTrace &a = appended.layers[l], &b = base.layers[l];
            QVERIFY(a.resid_pre.shares_buffer_with(b.resid_pre));
            QVERIFY(a.k.shares_buffer_with(b.k) && a.v.shares_buffer_with(b.v));
            QVERIFY(a.mlp_post.shares_buffer_with(b.mlp_post));
            QVERIFY(a.pattern.shares_buffer_with(b.pattern));
            QCOMPARE(a.head_pattern(1).topLeftCorner(23, 23), b.head_pattern(1));
            QVERIFY(a.resid_post.shares_buffer_with(b.resid_post));
        }
        const double vs_full = max_difference(appended, ps::forward(*model, ids));
        qInfo("appended vs full pass: max difference %.3g", vs_full);
        QVERIFY(vs_full <= 1e-4);

        // A different last token, while `appended` lives: it must not write into the shared rows.
        std::vector<int> other = ids;
        other.back() = (other.back() + 1) % model->config.vocab_size;
        const ps::Trace sibling = ps::forward(*model, other, ps::TraceOptions(), &base);
        QVERIFY(!sibling.logits.shares_buffer_with(base.logits));
        QVERIFY(max_difference(sibling, ps::forward(*model, other)) <= 1e-4);
        QVERIFY(max_difference(appended, ps::forward(*model, ids)) == vs_full);
        QVERIFY(snapshot(base) == before);
    }

    // Two threads appending to one trace at once (the app's worker while a stale job finishes):
    // at most one writes into the shared buffer, and both results are right.
    void concurrent_appends_stay_correct() {
        const auto model = ps::make_random_model("gpt2-tiny");
        const std::vector<int> shorter = prompt(*model, 30);
        const ps::Trace base = ps::forward(*model, shorter);
        const auto before = snapshot(base);
        std::vector<int> a = shorter, b = shorter;
        a.push_back(5);
        b.push_back(6);
        ps::Trace ta, tb;
        for (int round = 0; round < 20; ++round) {
            std::thread other([&] { tb = ps::forward(*model, b, ps::TraceOptions(), &base); });
            ta = ps::forward(*model, a, ps::TraceOptions(), &base);
            other.join();
            QVERIFY(!(ta.logits.shares_buffer_with(base.logits) &&
                      tb.logits.shares_buffer_with(base.logits)));
        }
        QVERIFY(max_difference(ta, ps::forward(*model, a)) <= 1e-4);
        QVERIFY(max_difference(tb, ps::forward(*model, b)) <= 1e-4);
        QVERIFY(snapshot(base) == before);
    }

    // Generating token by token extends the same buffers until their capacity runs out.
    void growing_one_token_at_a_time_matches_a_full_pass() {
        const auto model = ps::make_random_model("gpt2-tiny");
        const std::vector<int> ids = prompt(*model, 60, 3);
        ps::Trace grown = ps::forward(*model, {ids[0]});
        int shared = 0;
        for (size_t n = 2; n <= ids.size(); ++n) {
            ps::Trace next = ps::forward(*model, std::vector<int>(ids.begin(), ids.begin() + n),
                                         ps::TraceOptions(), &grown);
            shared += next.logits.shares_buffer_with(grown.logits);
            grown = next;
        }
        qInfo("%d of %zu appends extended the buffer in place", shared, ids.size() - 1);
        // The pattern's rows were laid out anew for more keys along the way, at least once.
        QVERIFY(grown.layers[0].pattern.cols() > 2 * grown.layers[0].heads * 17);
        QVERIFY(shared >= int(ids.size()) - 8);  // a copy only when the capacity runs out
        QVERIFY(max_difference(grown, ps::forward(*model, ids)) <= 1e-4);
    }
};

PARAMSCOPE_TEST_APPLESS_MAIN(TestTraceSharing)
#include "test_trace_sharing.moc"
