// The generated C's parameter layouts, derived from the int8 graph: pointwise and dense weights
// transposed to (out, in) rows for the dot-product kernels, input offsets folded into the bias
// (bias'[o] = bias[o] + offset * sum_i w[o][i], exact in int32), int16 per-channel offsets.
#pragma once
#include <cstdint>
#include <vector>

#include "mcu/int8_model.h"

namespace agilenn::mcu {

struct CPointwiseLayout {
  std::vector<int8_t> weight;  // (out_c, in_c)
  std::vector<int32_t> bias;   // (out_c), input offset folded in
};
// Throws agilenn::Error if the conv is not pointwise or its input offsets differ per channel.
CPointwiseLayout c_pointwise_layout(const Int8Conv& op);

struct CDenseLayout {
  std::vector<int8_t> weight;  // (out, in)
  std::vector<int32_t> bias;   // (out), input offset folded in
};
CDenseLayout c_dense_layout(const Int8Dense& d);

// Depthwise input offsets as int16 (the kernels' type); throws if one does not fit.
std::vector<int16_t> c_depthwise_offsets(const Int8Conv& op);

}  // namespace agilenn::mcu
