#include "mcu/c_layout.h"

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <string>

#include "mcu/requantize.h"
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

std::vector<int32_t> c_depthwise_interior_bias(const Int8Conv& op) {
  if (op.kind != ConvKind::Depthwise) throw Error("c layout: expected a depthwise conv");
  std::vector<int32_t> out(op.out_c);
  for (int o = 0; o < op.out_c; ++o) {
    int64_t sum = 0;
    for (int t = 0; t < op.kh * op.kw; ++t) sum += op.weight[size_t(t) * op.out_c + o];
    out[o] = fold_offset(op.bias[o], op.input_offset[o / op.mult], sum);
  }
  return out;
}

std::vector<int32_t> c_depthwise_weight_pairs(const Int8Conv& op, bool doubled) {
  std::vector<int32_t> out;
  if (op.kind != ConvKind::Depthwise || op.mult != 1 || op.in_c % 4 != 0) return out;
  const int taps = op.kh * op.kw, scale = doubled ? 2 : 1;
  auto pair = [&](int t, int c0, int c1) {
    const uint32_t lo = uint16_t(int16_t(scale * op.weight[size_t(t) * op.out_c + c0]));
    const uint32_t hi = uint16_t(int16_t(scale * op.weight[size_t(t) * op.out_c + c1]));
    return int32_t(lo | (hi << 16));
  };
  for (int c = 0; c < op.in_c; c += 4)
    for (int t = 0; t < taps; ++t) {
      out.push_back(pair(t, c, c + 2));
      out.push_back(pair(t, c + 1, c + 3));
    }
  return out;
}

std::vector<int32_t> c_pointwise_weight_pairs(const CPointwiseLayout& layout, int in_c,
                                              int doubled_channels) {
  std::vector<int32_t> out;
  if (in_c != 3 && in_c != 4) return out;
  for (size_t o = 0; o + in_c <= layout.weight.size(); o += in_c) {
    const int scale = int(o / in_c) < doubled_channels ? 2 : 1;
    auto half = [&](int8_t w) { return uint32_t(uint16_t(int16_t(scale * w))); };
    const int8_t* w = layout.weight.data() + o;
    out.push_back(int32_t(half(w[0]) | (half(w[2]) << 16)));
    out.push_back(int32_t(half(w[1]) | (in_c == 4 ? half(w[3]) << 16 : 0u)));
  }
  return out;
}

bool c_acc_fits_small(const Int8Conv& op, bool uint8_input) {
  const int64_t lo = uint8_input ? 0 : -128, hi = uint8_input ? 255 : 127;
  const int taps = op.kind == ConvKind::Depthwise ? op.kh * op.kw : op.in_c;
  for (int o = 0; o < op.out_c; ++o) {
    if (op.shift[o] < -31 || op.shift[o] > 30) return false;
    int64_t bound = std::abs(int64_t(op.bias[o]));
    for (int t = 0; t < taps; ++t) {
      // depthwise: tap t of channel o (input channel o / mult); pointwise: input channel t
      const int c = op.kind == ConvKind::Depthwise ? o / op.mult : t;
      const int8_t w = op.weight[size_t(t) * op.out_c + o];  // (taps or in_c, out_c) either way
      const int64_t off = op.input_offset[c];
      bound += std::abs(int64_t(w)) * std::max(std::abs(lo + off), std::abs(hi + off));
    }
    if (bound * (int64_t(1) << std::max(op.shift[o], 0)) >= (int64_t(1) << 30)) return false;
  }
  return true;
}

namespace {
// The quantizer's int8 input for accumulator acc (bias included) of output channel o.
int32_t requantized_output(const Int8Conv& op, int o, int64_t acc) {
  const int32_t v = multiply_by_quantized_multiplier(int32_t(acc), op.multiplier[o], op.shift[o]) +
                    op.output_offset;
  return std::clamp(v, op.act_min, op.act_max);
}
}  // namespace

std::vector<int8_t> c_pointwise_lut(const Int8Conv& op) {
  if (op.kind != ConvKind::Pointwise || op.in_c != 1)
    throw Error("c layout: a lookup-table pointwise conv needs one input channel");
  const CPointwiseLayout l = c_pointwise_layout(op);
  std::vector<int8_t> table(size_t(256) * op.out_c);
  for (int v = -128; v <= 127; ++v)
    for (int o = 0; o < op.out_c; ++o)
      table[size_t(v + 128) * op.out_c + o] =
          int8_t(requantized_output(op, o, int64_t(l.bias[o]) + int64_t(v) * l.weight[o]));
  return table;
}

bool quantizer_is_sorted(const Int8Quantizer& q) {
  for (size_t i = 0; i < q.index_of_pos.size(); ++i)
    if (q.index_of_pos[i] != i) return false;
  return true;
}

constexpr int32_t kAccThresholdLimit = int32_t(1) << 30;

std::vector<int32_t> c_accumulator_thresholds(const Int8Conv& op, const CPointwiseLayout& layout,
                                              int k, const Int8Quantizer& q) {
  const int bits = q.bits;
  const int alphabet = int(q.index_of_pos.size());
  if (bits < 1 || bits > 8 || alphabet > (1 << bits))
    throw Error("c layout: quantizer with " + std::to_string(alphabet) + " centroids and " +
                std::to_string(bits) + " bits");
  const int leaf = 1 << bits;
  std::vector<int32_t> out;
  for (int o = k; o < op.out_c; ++o) {
    int64_t abs_w = 0;
    for (int c = 0; c < op.in_c; ++c)
      abs_w += std::abs(int(layout.weight[size_t(o) * op.in_c + c]));
    const int64_t lo = -128 * abs_w, hi = 127 * abs_w;  // reachable sum x w, x int8
    if (-lo >= kAccThresholdLimit)
      throw Error("c layout: pointwise channel " + std::to_string(o) +
                  " has accumulators beyond 2^30 (the quantizer's threshold compare)");
    const int64_t bias = layout.bias[o];
    for (int n = 0; n < leaf; ++n) {
      if (n == 0) {
        out.push_back(0);  // unused: nodes start at 1
        continue;
      }
      int depth = 0;
      while ((2 << depth) <= n) ++depth;
      const int mid = ((2 * n + 1) << (bits - depth - 1)) - leaf;  // pos >= mid <=> bit 1
      if (mid >= alphabet) {
        out.push_back(kAccThresholdLimit);
        continue;
      }
      const int32_t t = q.thresholds[mid - 1];
      auto reaches = [&](int64_t acc) { return requantized_output(op, o, acc + bias) >= t; };
      if (!reaches(hi)) {
        out.push_back(kAccThresholdLimit);
      } else if (reaches(lo)) {
        out.push_back(-kAccThresholdLimit);
      } else {                   // smallest acc in (lo, hi] that reaches t
        int64_t a = lo, b = hi;  // !reaches(a), reaches(b)
        while (b - a > 1) {
          const int64_t c = a + (b - a) / 2;
          (reaches(c) ? b : a) = c;
        }
        out.push_back(int32_t(b));
      }
    }
  }
  return out;
}

std::vector<CValueRange> c_output_ranges(const Int8Conv& op,
                                         const std::vector<CValueRange>& in_range) {
  if (in_range.size() != size_t(op.in_c))
    throw Error("c layout: " + std::to_string(in_range.size()) + " input ranges for " +
                std::to_string(op.in_c) + " channels");
  const bool dw = op.kind == ConvKind::Depthwise;
  const int taps = dw ? op.kh * op.kw : op.in_c;
  std::vector<CValueRange> out(op.out_c);
  for (int o = 0; o < op.out_c; ++o) {
    int64_t lo = op.bias[o], hi = op.bias[o];
    for (int t = 0; t < taps; ++t) {
      const int c = dw ? o / op.mult : t;
      const int64_t w = op.weight[size_t(t) * op.out_c + o];  // (taps or in_c, out_c) either way
      const int64_t a = w * (in_range[c].lo + op.input_offset[c]);
      const int64_t b = w * (in_range[c].hi + op.input_offset[c]);
      // A depthwise tap may be padding, which contributes 0.
      lo += std::min({a, b, dw ? int64_t(0) : std::min(a, b)});
      hi += std::max({a, b, dw ? int64_t(0) : std::max(a, b)});
    }
    auto output = [&](int64_t acc) {
      acc = std::clamp<int64_t>(acc, std::numeric_limits<int32_t>::min(),
                                std::numeric_limits<int32_t>::max());
      return requantized_output(op, o, acc);
    };
    out[o] = {output(lo), output(hi)};
  }
  return out;
}

std::vector<int> c_constant_remote_indices(const Int8Conv& op, const CPointwiseLayout& layout,
                                           int k, const Int8Quantizer& q,
                                           const std::vector<CValueRange>& in_range) {
  if (!in_range.empty() && in_range.size() != size_t(op.in_c))
    throw Error("c layout: " + std::to_string(in_range.size()) + " input ranges for " +
                std::to_string(op.in_c) + " channels");
  std::vector<int> out;
  auto position = [&](int o, int64_t acc) {
    const int32_t v = requantized_output(op, o, acc);
    int pos = 0;
    for (int16_t t : q.thresholds) pos += v >= t ? 1 : 0;
    return pos;
  };
  for (int o = k; o < op.out_c; ++o) {
    int64_t lo = layout.bias[o], hi = layout.bias[o];
    for (int c = 0; c < op.in_c; ++c) {
      const int64_t w = layout.weight[size_t(o) * op.in_c + c];
      const int64_t x_lo = in_range.empty() ? -128 : in_range[c].lo;
      const int64_t x_hi = in_range.empty() ? 127 : in_range[c].hi;
      lo += std::min(x_lo * w, x_hi * w);
      hi += std::max(x_lo * w, x_hi * w);
    }
    const int p_lo = position(o, lo), p_hi = position(o, hi);
    out.push_back(p_lo == p_hi ? int(q.index_of_pos[p_lo]) : -1);
  }
  return out;
}

namespace {
CContextOffsets context_offsets(const codec::ContextModel& m, uint32_t nodes) {
  const size_t entries = m.contexts() * nodes;
  if (entries > 65535)
    throw Error("context coder: table of " + std::to_string(entries) +
                " entries does not fit 16-bit offsets");
  const uint32_t L = m.config().levels, G = m.config().groups, R = m.channels();
  const uint32_t C = m.alphabet();
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
}  // namespace

CContextOffsets c_context_offsets(const codec::ContextModel& m) {
  return context_offsets(m, uint32_t(m.nodes()));
}

uint32_t c_static_left_shift(const codec::ContextModel& m) {
  uint32_t shift = 0;
  while ((1u << shift) < m.config().levels) ++shift;
  return shift;
}

CContextOffsets c_static_context_offsets(const codec::ContextModel& m) {
  const uint32_t L = m.config().levels, G = m.config().groups, R = m.channels();
  const uint32_t S = m.alphabet() + 1, up = L * S, left = up << c_static_left_shift(m);
  const size_t entries = size_t(G) * L * left;
  if (entries > 65535)
    throw Error("context coder: padded static table of " + std::to_string(entries) +
                " entries does not fit 16-bit offsets");
  CContextOffsets o;
  for (uint32_t r = 0; r < R; ++r) o.group.push_back(uint16_t(r * G / R * L * left));
  for (uint32_t v = 0; v < m.alphabet(); ++v) {
    const uint32_t q = std::min(v, L - 1);
    o.left.push_back(uint16_t(q * left));
    o.up.push_back(uint16_t(q * up));
    o.prev.push_back(uint16_t(q * S));
  }
  return o;
}

std::vector<uint16_t> c_static_cdf(const codec::ContextModel& m) {
  const std::vector<uint16_t> dense = m.static_cdf();
  const uint32_t L = m.config().levels, G = m.config().groups, S = m.alphabet() + 1;
  const uint32_t up = L * S, left = up << c_static_left_shift(m);
  if (dense.size() != size_t(G) * L * L * L * S)
    throw Error("context coder: static table of " + std::to_string(dense.size()) +
                " entries, expected " + std::to_string(size_t(G) * L * L * L * S));
  std::vector<uint16_t> out(size_t(G) * L * left, 0);
  for (uint32_t g = 0; g < G; ++g)
    for (uint32_t ql = 0; ql < L; ++ql)
      for (uint32_t rest = 0; rest < L * L * S; ++rest)  // (qu, qp, symbol), contiguous in both
        out[size_t(g) * L * left + size_t(ql) * left + rest] =
            dense[((size_t(g) * L + ql) * L * L * S) + rest];
  return out;
}

}  // namespace agilenn::mcu
