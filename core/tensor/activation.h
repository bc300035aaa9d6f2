// One captured activation of a trace, [rows, cols] row-major, held in a buffer that the trace of
// a longer prompt extends in place: the traces of "The cat" and "The cat sat" share the rows of
// "The cat" instead of each holding a copy. That is what lets appending a token cost one
// position's work, not a copy of the whole trace (80 MB on GPT-2 124M at 128 tokens).
//
// An Activation is an Eigen::Map over its rows, so it reads like a matrix (rows(), row(t),
// (i, j), data(), Eigen expressions). Its values never change once written: a later trace only
// writes rows past the end of every earlier trace's view, so one thread may read an older trace
// while another computes a newer one.
#pragma once

#include <Eigen/Core>
#include <atomic>
#include <memory>
#include <new>

namespace ps {

using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class Activation : public Eigen::Map<const MatrixRM> {
    using View = Eigen::Map<const MatrixRM>;

  public:
    Activation() : View(nullptr, 0, 0) {}
    // A new buffer holding a copy of `values`.
    explicit Activation(const Eigen::Ref<const MatrixRM>& values);
    Activation(const Activation& other) : View(other), claim_(other.claim_) {}
    Activation& operator=(const Activation& other) {
        claim_ = other.claim_;
        reseat(other.data(), other.rows(), other.cols());
        return *this;
    }

    // The first `prefix` rows of `shared` followed by the rows of `fresh` (same width). The new
    // rows go into `shared`'s own buffer when it has room and no living activation holds rows
    // past `prefix`; otherwise into a new buffer of `capacity_rows` rows (at least what is
    // needed) that starts with a copy of the prefix. `shared` may be empty (prefix 0).
    static Activation extend(const Activation& shared, Eigen::Index prefix,
                             const Eigen::Ref<const MatrixRM>& fresh, Eigen::Index capacity_rows);
    // The same with `new_rows` rows of `cols` left for the caller to write, through `rows_out`,
    // before anyone reads them: a big activation is computed in place instead of copied in.
    static Activation extend(const Activation& shared, Eigen::Index prefix, Eigen::Index new_rows,
                             Eigen::Index cols, Eigen::Index capacity_rows, float** rows_out);

    // Whether this activation's rows live in the same buffer as `other`'s (tests, benchmarks).
    bool shares_buffer_with(const Activation& other) const {
        return claim_ && other.claim_ && claim_->buffer == other.claim_->buffer;
    }

  private:
    struct Buffer {
        Buffer(Eigen::Index capacity, Eigen::Index width)
            : values(new float[static_cast<size_t>(capacity * width)]),
              capacity_rows(capacity),
              cols(width) {}
        // Uninitialized: rows never written are never touched, so their pages cost no memory.
        std::unique_ptr<float[]> values;
        Eigen::Index capacity_rows, cols;
        // Every row below this one may be read by a living activation; rows from here on are
        // free, and the next activation may write them, if it starts exactly here.
        std::atomic<Eigen::Index> used_rows{0};
    };
    // Rows start..end-1 of a buffer, written by one activation and read by it and its copies.
    // When the last of them goes, the rows are free again, if no later claim sits above them
    // (claims stack up: one is made only at the top and given back only from the top), so the
    // next append to the shorter trace again extends the buffer in place.
    struct Claim {
        Claim(std::shared_ptr<Buffer> b, Eigen::Index first, Eigen::Index last)
            : buffer(std::move(b)), start(first), end(last) {}
        Claim(const Claim&) = delete;
        Claim& operator=(const Claim&) = delete;
        ~Claim() {
            Eigen::Index top = end;
            buffer->used_rows.compare_exchange_strong(top, start);
        }
        std::shared_ptr<Buffer> buffer;
        Eigen::Index start, end;
    };

    explicit Activation(std::shared_ptr<const Claim> claim)
        : View(claim->buffer->values.get(), claim->end, claim->buffer->cols),
          claim_(std::move(claim)) {}
    // A Map is re-pointed by constructing it anew in place (Eigen's documented way).
    void reseat(const float* data, Eigen::Index rows, Eigen::Index cols) {
        new (static_cast<View*>(this)) View(data, rows, cols);
    }

    std::shared_ptr<const Claim> claim_;
};

}  // namespace ps
