#include "mcu/c_layout.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>

#include "nn/io/error.h"

namespace agilenn::mcu {

namespace {
int32_t fold_offset(int32_t bias, int64_t offset, int64_t weight_sum) {
  int64_t b = int64_t(bias) + offset * weight_sum;
  if (b > std::numeric_limits<int32_t>::max() || b < std::numeric_limits<int32_t>::min())
    throw Error("c layout: bias with the input offset folded in does not fit int32");
  return int32_t(b);
}
}  // namespace

CPointwiseLayout c_pointwise_layout(const Int8Conv& op) {
  if (op.kind != ConvKind::Pointwise) throw Error("c layout: expected a pointwise conv");
  for (int32_t off : op.input_offset)
    if (off != op.input_offset[0])
      throw Error("c layout: a pointwise conv needs one input offset for all channels");
  CPointwiseLayout l;
  l.weight.resize(op.weight.size());
  l.bias.resize(op.out_c);
  for (int o = 0; o < op.out_c; ++o) {
    int64_t sum = 0;
    for (int c = 0; c < op.in_c; ++c) {
      int8_t w = op.weight[size_t(c) * op.out_c + o];
      l.weight[size_t(o) * op.in_c + c] = w;
      sum += w;
    }
    l.bias[o] = fold_offset(op.bias[o], op.input_offset[0], sum);
    // Every accumulator the reference (bias + sum (x + off) w) or the kernel (bias' + sum x w) can
    // form stays inside int32: no overflow on either side.
    int64_t abs_w = 0;
    for (int c = 0; c < op.in_c; ++c) abs_w += std::abs(int(op.weight[size_t(c) * op.out_c + o]));
    int64_t bound =
        std::max(std::abs(int64_t(op.bias[o])), std::abs(int64_t(l.bias[o]))) + 255 * abs_w;
    if (bound >= std::numeric_limits<int32_t>::max())
      throw Error("c layout: pointwise channel " + std::to_string(o) +
                  " may overflow its int32 accumulator");
  }
  return l;
}

CDenseLayout c_dense_layout(const Int8Dense& d) {
  CDenseLayout l;
  l.weight.resize(d.weight.size());
  l.bias.resize(d.out);
  for (int o = 0; o < d.out; ++o) {
    int64_t sum = 0;
    for (int i = 0; i < d.in; ++i) {
      int8_t w = d.weight[size_t(i) * d.out + o];
      l.weight[size_t(o) * d.in + i] = w;
      sum += w;
    }
    l.bias[o] = fold_offset(d.bias[o], d.input_offset, sum);
  }
  return l;
}

std::vector<int16_t> c_depthwise_offsets(const Int8Conv& op) {
  std::vector<int16_t> out;
  for (int32_t off : op.input_offset) {
    if (off < -32768 || off > 32767)
      throw Error("c layout: input offset " + std::to_string(off) + " does not fit int16");
    out.push_back(int16_t(off));
  }
  return out;
}

CContextOffsets c_context_offsets(const codec::ContextModel& m) {
  if (m.init_probs().size() > 65535)
    throw Error("context coder: table of " + std::to_string(m.init_probs().size()) +
                " entries does not fit 16-bit offsets");
  const uint32_t L = m.config().levels, G = m.config().groups, R = m.channels();
  const uint32_t nodes = uint32_t(m.nodes()), C = m.alphabet();
  CContextOffsets o;
  for (uint32_t r = 0; r < R; ++r) o.group.push_back(uint16_t(r * G / R * L * L * L * nodes));
  for (uint32_t v = 0; v < C; ++v) {
    const uint32_t q = std::min(v, L - 1);
    o.left.push_back(uint16_t(q * L * L * nodes));
    o.up.push_back(uint16_t(q * L * nodes));
    o.prev.push_back(uint16_t(q * nodes));
  }
  return o;
}

}  // namespace agilenn::mcu
