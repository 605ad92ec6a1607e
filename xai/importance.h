// Feature importance from the frozen reference network (AgileNN's XAI step).
//
// Integrated gradients with baseline 0 and m points a_j = j/(m-1), trapezoid weights w_j:
//   I = | f * sum_j w_j g(a_j f) |,   g(z) = d CE(reference(z), label) / dz
// m = 2 is the public code's |0.5 (g(f) + g(0)) f|. The reference is frozen and in eval mode, so
// g(0) depends on the label alone: it is computed once per class (baseline_gradients) and taken
// as a constant. The other points run through the reference in chunks of whole points, their
// gradient taken with create_graph so the training loss can be differentiated through the
// importance.
// Saliency: I = |g(f)|.
#pragma once
#include <functional>

#include "autograd/tensor.h"

namespace agilenn::xai {

using ag::Tensor;

enum class XaiMethod { IntegratedGradients, Saliency };

struct ImportanceResult {
  Tensor importance;  // (N, H, W, C), differentiable w.r.t. f
  Tensor logits;      // reference logits at f (N, classes), for the "correct samples only" option
};

using ReferenceFn =
    std::function<Tensor(const Tensor&)>;  // features (B,H,W,C) -> logits (B,classes)

// g(0) for every class: (classes, H, W, C). No graph.
Tensor baseline_gradients(const ReferenceFn& reference, const ag::Shape& feature_shape_hwc,
                          int classes, ag::DType dtype);

// create_graph: record the gradient so the result can be differentiated (training); false for
// evaluation metrics.
ImportanceResult feature_importance(const ReferenceFn& reference, const Tensor& f,
                                    const Tensor& labels, const Tensor& baseline_grads,
                                    XaiMethod method, int ig_steps, bool create_graph);

// Images per pass of the integrated-gradients points through the reference (default 64: with a
// batch of 64, one point per pass). Whole points only; at least one point per pass.
int ig_chunk_images();
void set_ig_chunk_images(int images);

// Trapezoid weights of m points on [0, 1] (sum 1).
std::vector<double> trapezoid_weights(int m);

}  // namespace agilenn::xai
