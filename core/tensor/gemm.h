// The matrix product behind every projection: C[m, n] = A[m, k] · B, all row-major, with B
// given either as [k, n] or as [n, k] to be used transposed (the two layouts weight files use).
//
// Big products run on oneDNN's sgemm when ParamScope is built with it: its kernels are generated
// at run time for the CPU found (AVX-512 here) with no environment variable to set, and on this
// project's machines it is 1.5-3x faster than Eigen's own kernel on the engine's shapes (see
// README, Performance). Small products, and builds without oneDNN, use Eigen. Both kernels are
// always compiled in, so the benchmark and the tests can compare them in one binary.
#pragma once

#include <string>

namespace ps {

enum class GemmKernel { Eigen, OneDnn };

// c = a · b (b_transposed: a · bᵀ). Leading dimensions are row strides in floats. `threads` is
// the number of threads the product may use (1: the calling thread only).
void gemm(float* c, int ldc, const float* a, int lda, const float* b, int ldb, int m, int n, int k,
          bool b_transposed, int threads);

// The kernel gemm() uses for big products; OneDnn by default when available.
GemmKernel gemm_kernel();
// Chooses the kernel (benchmarks, tests); throws ps::Error for OneDnn in a build without it.
void set_gemm_kernel(GemmKernel kernel);
bool gemm_kernel_available(GemmKernel kernel);
// "oneDNN 2.6.3 sgemm" or "Eigen 3.4.0", for reports.
std::string gemm_kernel_name(GemmKernel kernel);

}  // namespace ps
