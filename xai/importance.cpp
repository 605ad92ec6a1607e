#include "xai/importance.h"

#include <cstring>

#include "autograd/engine.h"
#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/io/error.h"

namespace agilenn::xai {

using namespace agilenn::ag;

std::vector<double> trapezoid_weights(int m) {
  if (m < 2) throw Error("--ig-steps must be >= 2, got " + std::to_string(m));
  std::vector<double> w(size_t(m), 1.0 / double(m - 1));
  w.front() *= 0.5;
  w.back() *= 0.5;
  return w;
}

namespace {
// Summed (not averaged) cross-entropy: each sample's gradient is its own dCE/df.
Tensor summed_ce(const Tensor& logits, const Tensor& labels) {
  return mul(cross_entropy(logits, labels), double(logits.dim(0)));
}
}  // namespace

Tensor baseline_gradients(const ReferenceFn& reference, const Shape& hwc, int classes,
                          DType dtype) {
  std::vector<int32_t> lab;
  lab.resize(size_t(classes));
  for (int i = 0; i < classes; ++i) lab[size_t(i)] = i;
  Tensor z = Tensor::zeros(Shape{classes, hwc[0], hwc[1], hwc[2]}, dtype).set_requires_grad(true);
  Tensor loss = summed_ce(reference(z), Tensor::from_ints(lab, Shape{classes}));
  return grad({loss}, {z})[0];
}

ImportanceResult feature_importance(const ReferenceFn& reference, const Tensor& f,
                                    const Tensor& labels, const Tensor& g0, XaiMethod method, int m,
                                    bool create_graph) {
  const int64_t n = f.dim(0);
  ImportanceResult r;
  if (method == XaiMethod::Saliency) {
    Tensor x = create_graph ? f : f.detach().set_requires_grad(true);
    r.logits = reference(x);
    Tensor g = grad({summed_ce(r.logits, labels)}, {x}, {}, create_graph)[0];
    r.importance = abs(g);
    return r;
  }
  const std::vector<double> w = trapezoid_weights(m);
  // Points a_1..a_{m-1} (a_{m-1} = 1 is f itself) in one batch, the last block being f.
  Tensor base = create_graph ? f : f.detach().set_requires_grad(true);
  std::vector<Tensor> points;
  std::vector<Tensor> label_rep;
  for (int j = 1; j < m; ++j) {
    const double a = double(j) / double(m - 1);
    points.push_back(j == m - 1 ? base : mul(base, a));
    label_rep.push_back(labels);
  }
  Tensor x = points.size() == 1 ? points[0] : concat(points, 0);
  Tensor lab = label_rep.size() == 1 ? labels : concat(label_rep, 0);
  Tensor logits = reference(x);
  Tensor gx = grad({summed_ce(logits, lab)}, {x}, {}, create_graph)[0];
  r.logits = points.size() == 1 ? logits : slice(logits, 0, (m - 2) * n, (m - 1) * n);
  // sum_j w_j g(a_j f), with the baseline term w_0 g0[label] as a constant.
  Tensor acc;
  for (int j = 1; j < m; ++j) {
    Tensor gj = points.size() == 1 ? gx : slice(gx, 0, (j - 1) * n, j * n);
    Tensor term = mul(gj, w[size_t(j)]);
    acc = acc.defined() ? add(acc, term) : term;
  }
  if (g0.defined()) {
    const int64_t per = f.numel() / n;
    if (g0.numel() / g0.dim(0) != per)
      throw Error("feature_importance: baseline gradients do not match the features");
    Tensor rows = Tensor::empty(f.shape(), f.dtype());
    const int32_t* lp = labels.data<int32_t>();
    const size_t es = dtype_size(f.dtype());
    for (int64_t i = 0; i < n; ++i) {
      if (lp[i] < 0 || lp[i] >= g0.dim(0)) throw Error("feature_importance: label out of range");
      std::memcpy(static_cast<char*>(rows.raw_data()) + size_t(i * per) * es,
                  static_cast<const char*>(g0.raw_data()) + size_t(lp[i] * per) * es,
                  size_t(per) * es);
    }
    acc = add(acc, mul(rows, w[0]));
  }
  r.importance = abs(mul(base, acc));
  return r;
}

}  // namespace agilenn::xai
