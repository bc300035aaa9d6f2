#include "core/tensor/activation.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "core/error.h"

namespace ps {

Activation::Activation(const Eigen::Ref<const MatrixRM>& values) : Activation() {
    *this = extend(Activation(), 0, values, values.rows());
}

Activation Activation::extend(const Activation& shared, Eigen::Index prefix,
                              const Eigen::Ref<const MatrixRM>& fresh, Eigen::Index capacity_rows) {
    float* rows = nullptr;
    Activation a = extend(shared, prefix, fresh.rows(), fresh.cols(), capacity_rows, &rows);
    if (fresh.size() > 0) Eigen::Map<MatrixRM>(rows, fresh.rows(), fresh.cols()) = fresh;
    return a;
}

Activation Activation::extend(const Activation& shared, Eigen::Index prefix, Eigen::Index new_rows,
                              Eigen::Index cols, Eigen::Index capacity_rows, float** rows_out) {
    if (prefix < 0 || prefix > shared.rows() || (prefix > 0 && shared.cols() != cols))
        throw Error("internal: a trace's prefix of " + std::to_string(prefix) +
                    " rows does not fit the " + std::to_string(shared.rows()) + " x " +
                    std::to_string(shared.cols()) + " activation it shares");
    const Eigen::Index rows = prefix + new_rows;
    std::shared_ptr<Buffer> buffer = shared.claim_ ? shared.claim_->buffer : nullptr;
    Eigen::Index claimed = prefix;
    const bool in_place = buffer && buffer->cols == cols && rows <= buffer->capacity_rows &&
                          buffer->used_rows.compare_exchange_strong(claimed, rows);
    if (!in_place) {
        buffer = std::make_shared<Buffer>(std::max(rows, capacity_rows), cols);
        if (prefix > 0)
            std::memcpy(buffer->values.get(), shared.data(),
                        static_cast<size_t>(prefix * cols) * sizeof(float));
        buffer->used_rows = rows;
    }
    *rows_out = buffer->values.get() + prefix * cols;
    // A copied prefix belongs to the new buffer's claim too: it starts at row 0.
    return Activation(std::make_shared<const Claim>(buffer, in_place ? prefix : 0, rows));
}

}  // namespace ps
