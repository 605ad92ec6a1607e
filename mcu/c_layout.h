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

// A 1x1 conv with one input channel as a table: row v + 128 holds the requantized, clamped
// outputs (out_c) for input value v, what the reference computes. Throws if op.in_c != 1.
std::vector<int8_t> c_pointwise_lut(const Int8Conv& op);

// The fused last conv's quantizer on the accumulator acc = sum_i x_i w[o][i] (bias excluded):
// for remote channel r = o - k and tree node n (1 .. 2^bits - 1, node 2n + bit below n), the
// smallest acc whose centroid position (index_of_pos's argument) has bit 1 at n, given the bits
// above it: pos >= mid(n) <=> clamp(requant(acc + bias') + zp) >= thresholds[mid(n) - 1],
// monotone in acc. -2^30: always 1, 2^30: never (reachable accumulators,
// |acc| <= 128 sum |w|, stay below 2^30, so the C's acc - t cannot overflow). Layout
// (R, 2^bits), entry 0 of each row unused. Throws if an accumulator could reach 2^30.
std::vector<int32_t> c_accumulator_thresholds(const Int8Conv& op, const CPointwiseLayout& layout,
                                              int k, const Int8Quantizer& q);
// Remote channels whose index the weights fix: for remote channel r = o - k, the index every
// reachable accumulator (bias' + sum x w, x in its channel's range, the bound per weight sign)
// maps to if the smallest and the largest give the same quantizer position (requantization, clamp
// and thresholds are monotone), else -1. The device neither computes nor codes those channels
// (codec coder 5 sends them once).
// in_range: the int8 range of each input channel (c_output_ranges of the layers before; empty:
// the whole int8 range).
struct CValueRange {
  int32_t lo = -128, hi = 127;
};
std::vector<int> c_constant_remote_indices(const Int8Conv& op, const CPointwiseLayout& layout,
                                           int k, const Int8Quantizer& q,
                                           const std::vector<CValueRange>& in_range = {});
// Per output channel, the range every output of `op` stays in when each input value of channel c
// lies in in_range[c] (uint8 pixels for the first layer): interval arithmetic on the accumulator
// (padded taps contribute 0), then requantization and clamp, both monotone.
std::vector<CValueRange> c_output_ranges(const Int8Conv& op,
                                         const std::vector<CValueRange>& in_range);
// True if the quantizer's positions are its indices (centroids sorted ascending).
bool quantizer_is_sorted(const Int8Quantizer& q);

// The context coder's offsets into its probability table (codec/context_coder.h):
//   ctx * nodes = group(r) L^3 nodes + q(left) L^2 nodes + q(up) L nodes + q(prev) nodes,
// q(v) = min(v, L - 1), group(r) = r G / R, as tables so the C encoder adds four loads.
struct CContextOffsets {
  std::vector<uint16_t> group;           // (R)
  std::vector<uint16_t> left, up, prev;  // (C)
};
// Throws agilenn::Error if the table is too large for 16-bit offsets.
CContextOffsets c_context_offsets(const codec::ContextModel& model);
// The static coder's table as the device reads it (c_static_cdf): ContextModel::static_cdf()'s
// C + 1 entries per context, laid out with the left neighbour's stride padded from L^2 (C + 1) to
// 2^c_static_left_shift * L (C + 1), a power-of-two multiple of the up neighbour's stride, so the
// fused kernel's left offset is its ring entry (an up offset) shifted, not multiplied; padding 0.
uint32_t c_static_left_shift(const codec::ContextModel& model);
std::vector<uint16_t> c_static_cdf(const codec::ContextModel& model);
// The offsets into c_static_cdf: group[r] = (r G / R) L 2^shift L (C + 1),
// left/up/prev[v] = min(v, L - 1) * (2^shift L, L, 1) * (C + 1).
CContextOffsets c_static_context_offsets(const codec::ContextModel& model);

// A depthwise conv's bias for windows with every tap inside the input (or padded with the input
// zero point): bias[o] + input_offset[c] * sum of channel o's kh*kw weights (o = c*mult + m).
std::vector<int32_t> c_depthwise_interior_bias(const Int8Conv& op);
// The DSP kernel's weights for mult 1 and in_c % 4 == 0: (in_c / 4, kh * kw, 2) words, per 4
// channels c..c+3 and tap the int16 halfword pairs (w[c] | w[c+2] << 16, w[c+1] | w[c+3] << 16).
// Empty when the layout does not apply. doubled (pass the layer's small_acc, c_acc_fits_small):
// the weights times 2, so the kernel's SMLABB/SMLATT sums are 2 * acc, what the short
// requantization feeds SMMULR (agilenn_requantize_off2: one shift fewer per value; |2 acc| < 2^31
// holds only for small layers).
std::vector<int32_t> c_depthwise_weight_pairs(const Int8Conv& op, bool doubled);
// The DSP pointwise kernels' weights for in_c == 4: (out_c, 2) words, per output channel the int16
// halfword pairs (w[0] | w[2] << 16, w[1] | w[3] << 16) of its (out_c, in_c) row, what SXTB16 of
// the row's word and of it rotated by 8 give (one LDRD instead of a load and two extends per dot
// product). in_c == 3: w[3] = 0 (the word's fourth byte, the next pixel's, counts 0). Empty for
// other in_c. The first doubled_channels output channels (the local ones of a
// small fused conv, c_acc_fits_small; 0 otherwise) get doubled weights, as
// c_depthwise_weight_pairs.
std::vector<int32_t> c_pointwise_weight_pairs(const CPointwiseLayout& layout, int in_c,
                                              int doubled_channels);
// True if every accumulator of the conv, |bias + sum (x + off) w| with x over the input's range
// (uint8 for the first layer, int8 otherwise), times 2^max(shift, 0) stays below 2^30 and every
// shift is in [-31, 30]: the kernels may then use agilenn_requantize_small (same values).
bool c_acc_fits_small(const Int8Conv& op, bool uint8_input);

// Depthwise input offsets as int16 (the kernels' type); throws if one does not fit.
std::vector<int16_t> c_depthwise_offsets(const Int8Conv& op);

}  // namespace agilenn::mcu
