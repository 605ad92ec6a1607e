// Test-set evaluation of a split model: combined, local-only and remote-only accuracy and, with
// the reference, the importance statistics (skewness, share of samples reaching rho, disorder).
#pragma once
#include "nn/data/augment.h"
#include "nn/data/dataset.h"
#include "xai/importance.h"
#include "xai/split_model.h"

namespace agilenn::xai {

struct AgileEval {
  int64_t samples = 0;
  double accuracy = 0, local_accuracy = 0, remote_accuracy = 0;
  double skewness = NAN, skewness_at_rho = NAN, disorder_violation_rate = NAN;
  double alpha = NAN;
  std::vector<int32_t> predictions;
};

// reference may be empty (no importance statistics). alpha_override NaN keeps the model's.
AgileEval evaluate_split_model(SplitModel& model, const ReferenceFn& reference,
                               const Tensor& baseline_grads, const data::Dataset& ds,
                               const data::Augmenter& aug, double rho, double alpha_override = NAN,
                               XaiMethod method = XaiMethod::IntegratedGradients, int ig_steps = 2,
                               size_t batch_size = 256);

}  // namespace agilenn::xai
