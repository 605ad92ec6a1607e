// AgileNN's importance regularisers on per-element importance I (N, H, W, C):
//   channel importance  p_c = sum_hw I / sum_hwc I            (per sample, sums to 1)
//   skewness            s = sum_{c<k} p_c                        (share of the first k channels)
//   L_skewness          = mean_n max(0, rho - s)
//   L_disorder (paper)  = mean_n max(0, max_{c>=k} p_c - min_{c<k} p_c)
//   L_disorder (public) = mean_n max(0, max over remote elements of I - min over local elements
//                         of I) / sum I          (the public code's element-wise form)
// `weights` (N) selects samples (1 used, 0 ignored), for "correctly classified samples only";
// undefined means all.
#pragma once
#include "autograd/tensor.h"

namespace agilenn::xai {

using ag::Tensor;

enum class DisorderForm { Paper, Public };

Tensor channel_importance(const Tensor& importance);  // (N, C), rows sum to 1
Tensor skewness(const Tensor& channel_imp, int k);    // (N)
Tensor skewness_loss(const Tensor& channel_imp, int k, double rho,
                     const Tensor& weights = Tensor());
Tensor disorder_loss(const Tensor& importance, const Tensor& channel_imp, int k, DisorderForm form,
                     const Tensor& weights = Tensor());
// Fraction of samples whose most important remote channel beats their least important local one.
double disorder_violation_rate(const Tensor& channel_imp, int k);

}  // namespace agilenn::xai
