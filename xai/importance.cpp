#include "xai/importance.h"

#include <algorithm>
#include <cstdlib>
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
int g_chunk_images = 64;
}  // namespace

int ig_chunk_images() {
  return g_chunk_images;
}
void set_ig_chunk_images(int images) {
  if (images < 1) throw Error("ig chunk images must be >= 1, got " + std::to_string(images));
  g_chunk_images = images;
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
  // Points a_1..a_{m-1} (a_{m-1} = 1 is f itself) through the reference in chunks of about
  // ig_chunk_images() images (several points per chunk when the batch is small), each chunk with
  // its own graph: one 448-image pass ran at a worse per-image rate than 64-image passes (the
  // activations of one op no longer fit in cache), and the double backward walks the chunks'
  // graphs one after the other.
  Tensor base = create_graph ? f : f.detach().set_requires_grad(true);
  const int per_chunk =
      int(std::clamp<int64_t>(ig_chunk_images() / std::max<int64_t>(n, 1), 1, int64_t(m - 1)));
  Tensor acc;
  for (int j0 = 1; j0 < m; j0 += per_chunk) {
    const int j1 = std::min(m, j0 + per_chunk);
    std::vector<Tensor> points;
    std::vector<Tensor> label_rep;
    for (int j = j0; j < j1; ++j) {
      const double a = double(j) / double(m - 1);
      points.push_back(j == m - 1 ? base : mul(base, a));
      label_rep.push_back(labels);
    }
    Tensor x = points.size() == 1 ? points[0] : concat(points, 0);
    Tensor lab = label_rep.size() == 1 ? labels : concat(label_rep, 0);
    Tensor logits = reference(x);
    Tensor gx = grad({summed_ce(logits, lab)}, {x}, {}, create_graph)[0];
    if (j1 == m)  // the last point is f itself
      r.logits = points.size() == 1 ? logits : slice(logits, 0, (j1 - 1 - j0) * n, (j1 - j0) * n);
    // sum_j w_j g(a_j f), in the order of j
    for (int j = j0; j < j1; ++j) {
      Tensor gj = points.size() == 1 ? gx : slice(gx, 0, (j - j0) * n, (j - j0 + 1) * n);
      Tensor term = mul(gj, w[size_t(j)]);
      acc = acc.defined() ? add(acc, term) : term;
    }
  }
  // The baseline term w_0 g0[label] as a constant.
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
