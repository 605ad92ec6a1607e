// The AgileNN training objective for one batch:
//   L = lambda CE(combined) + (1 - lambda) (L_skewness + L_disorder) + B CE(local alone)
// with the importance of the extractor's features taken from the frozen reference network
// (second order: L depends on the reference's gradient at the features). With a teacher
// (--teacher), CE(combined) becomes (1 - beta) CE + beta KD(combined, teacher)
// (nn/distillation.h), and R KD(remote alone, teacher) is added when R > 0.
#pragma once
#include "xai/importance.h"
#include "xai/skewness.h"
#include "xai/split_model.h"

namespace agilenn::xai {

struct AgileLossConfig {
  bool xai = true;  // false: --no-xai (lambda = 1, no importance computed)
  double lambda = 0.8;
  double rho = 0.8;
  int ig_steps = 2;
  XaiMethod method = XaiMethod::IntegratedGradients;
  DisorderForm disorder = DisorderForm::Paper;
  bool correct_only = false;     // importance losses only on samples the reference gets right
  double local_loss_weight = 0;  // B
  double distill_weight = 0.5;   // beta; used only when teacher logits are given
  double distill_temperature = 4;
  double distill_remote_weight = 0;  // R
};

struct AgileLossResult {
  Tensor loss;  // scalar, to differentiate
  double ce = 0, skew_loss = 0, disorder_loss = 0, local_ce = 0, distill = 0;
  double skewness = 0;  // batch mean
  int64_t correct = 0;  // combined predictions right
};

AgileLossResult agile_loss(SplitModel& model, const ReferenceFn& reference,
                           const Tensor& baseline_grads, const Tensor& x, const Tensor& labels,
                           const AgileLossConfig& cfg, const Tensor& teacher_logits = Tensor());

}  // namespace agilenn::xai
