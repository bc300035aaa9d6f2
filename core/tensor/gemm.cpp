#include "core/tensor/gemm.h"

#include <omp.h>

#include <Eigen/Core>
#include <algorithm>
#include <atomic>

#include "core/error.h"

#ifdef PARAMSCOPE_HAVE_ONEDNN
#include <dnnl.h>
#endif

namespace ps {

namespace {

using MatrixRM = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Stride = Eigen::OuterStride<>;
using ConstMap = Eigen::Map<const MatrixRM, 0, Stride>;
using Map = Eigen::Map<MatrixRM, 0, Stride>;

#ifdef PARAMSCOPE_HAVE_ONEDNN
std::atomic<GemmKernel> g_kernel{GemmKernel::OneDnn};
#else
std::atomic<GemmKernel> g_kernel{GemmKernel::Eigen};
#endif

// Below this many multiply-adds a product is not worth a library call and a parallel region.
constexpr double kSmallProduct = 1 << 18;

// Eigen's kernel, split over blocks of output columns, one block per thread.
void gemm_eigen(float* c, int ldc, const float* a, int lda, const float* b, int ldb, int m, int n,
                int k, bool b_transposed, int threads) {
    ConstMap A(a, m, k, Stride(lda));
    const int block = ((n + threads - 1) / threads + 15) / 16 * 16;
#pragma omp parallel for num_threads(threads) schedule(static) if (threads > 1)
    for (int part = 0; part < threads; ++part) {
        const int begin = part * block;
        const int cols = std::min(block, n - begin);
        if (cols <= 0) continue;
        Map C(c + begin, m, cols, Stride(ldc));
        if (b_transposed)
            C.noalias() =
                A *
                ConstMap(b + static_cast<size_t>(begin) * ldb, cols, k, Stride(ldb)).transpose();
        else
            C.noalias() = A * ConstMap(b + begin, k, cols, Stride(ldb));
    }
}

#ifdef PARAMSCOPE_HAVE_ONEDNN
void gemm_onednn(float* c, int ldc, const float* a, int lda, const float* b, int ldb, int m, int n,
                 int k, bool b_transposed, int threads) {
    // oneDNN runs on the OpenMP runtime the engine uses, with the calling thread's thread count.
    omp_set_num_threads(threads);
    dnnl_status_t status =
        dnnl_sgemm('N', b_transposed ? 'T' : 'N', m, n, k, 1.0f, a, lda, b, ldb, 0.0f, c, ldc);
    if (status != dnnl_success)
        throw Error("oneDNN sgemm failed (status " + std::to_string(status) + ") on a " +
                    std::to_string(m) + "x" + std::to_string(k) + " by " + std::to_string(k) + "x" +
                    std::to_string(n) + " product");
}
#endif

}  // namespace

void gemm(float* c, int ldc, const float* a, int lda, const float* b, int ldb, int m, int n, int k,
          bool b_transposed, int threads) {
    const double work = double(m) * n * k;
#ifdef PARAMSCOPE_HAVE_ONEDNN
    // One row (appending a token) is a matrix-vector product, bound by reading the weights
    // once: Eigen's gemv streams them, where sgemm would first pack them (measured: one appended
    // token on GPT-2 124M took twice the time of reading its weights).
    if (g_kernel.load() == GemmKernel::OneDnn && work >= kSmallProduct && m > 1) {
        gemm_onednn(c, ldc, a, lda, b, ldb, m, n, k, b_transposed, std::max(1, threads));
        return;
    }
#endif
    gemm_eigen(c, ldc, a, lda, b, ldb, m, n, k, b_transposed,
               work >= kSmallProduct ? std::max(1, threads) : 1);
}

GemmKernel gemm_kernel() {
    return g_kernel.load();
}

bool gemm_kernel_available(GemmKernel kernel) {
#ifdef PARAMSCOPE_HAVE_ONEDNN
    (void)kernel;
    return true;
#else
    return kernel == GemmKernel::Eigen;
#endif
}

void set_gemm_kernel(GemmKernel kernel) {
    if (!gemm_kernel_available(kernel))
        throw Error("this build of ParamScope has no oneDNN: only the Eigen kernel is available");
    g_kernel = kernel;
}

std::string gemm_kernel_name(GemmKernel kernel) {
#ifdef PARAMSCOPE_HAVE_ONEDNN
    if (kernel == GemmKernel::OneDnn) {
        const dnnl_version_t* v = dnnl_version();
        return "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
               std::to_string(v->patch) + " sgemm";
    }
#endif
    (void)kernel;
    return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." +
           std::to_string(EIGEN_MAJOR_VERSION) + "." + std::to_string(EIGEN_MINOR_VERSION);
}

}  // namespace ps
