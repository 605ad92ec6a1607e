// matmul: C = op(A) op(B) through OpenBLAS. With A' = op(A), B' = op(B):
//   dA' = G B'^T, dB' = A'^T G, and each transposed case is again one matmul with flags.
#include <cblas.h>

#include "autograd/op_util.h"

namespace agilenn::ag {

using namespace detail;

Tensor matmul(const Tensor& a, const Tensor& b, bool ta, bool tb) {
  check_same_dtype(a, b, "matmul");
  if (a.ndim() != 2 || b.ndim() != 2)
    throw Error("matmul: needs 2-D operands, got " + a.shape().str() + " and " + b.shape().str());
  const int64_t m = ta ? a.dim(1) : a.dim(0), k = ta ? a.dim(0) : a.dim(1);
  const int64_t kb = tb ? b.dim(1) : b.dim(0), n = tb ? b.dim(0) : b.dim(1);
  if (k != kb)
    throw Error("matmul: inner dimensions differ: " + a.shape().str() + (ta ? "^T" : "") + " @ " +
                b.shape().str() + (tb ? "^T" : ""));
  Tensor out = Tensor::empty(Shape{m, n}, a.dtype());
  MacCounter::add(m * n * k);
  const auto TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
  const int lda = int(a.dim(1)), ldb = int(b.dim(1));
  if (m > 0 && n > 0) {
    if (k == 0) {
      out = Tensor::zeros(Shape{m, n}, a.dtype());
    } else if (a.dtype() == DType::F32) {
      cblas_sgemm(CblasRowMajor, TA, TB, int(m), int(n), int(k), 1.0f, a.data<float>(), lda,
                  b.data<float>(), ldb, 0.0f, out.data<float>(), int(n));
    } else {
      cblas_dgemm(CblasRowMajor, TA, TB, int(m), int(n), int(k), 1.0, a.data<double>(), lda,
                  b.data<double>(), ldb, 0.0, out.data<double>(), int(n));
    }
  }
  if (any_requires_grad({&a, &b})) {
    record(out, "matmul", {a, b}, [a, b, ta, tb](Node&, const Tensor& g) {
      Tensor ga, gb;
      if (a.requires_grad()) ga = ta ? matmul(b, g, tb, true) : matmul(g, b, false, !tb);
      if (b.requires_grad()) gb = tb ? matmul(g, a, true, ta) : matmul(a, g, !ta, false);
      return std::vector<Tensor>{ga, gb};
    });
  }
  return out;
}

}  // namespace agilenn::ag
