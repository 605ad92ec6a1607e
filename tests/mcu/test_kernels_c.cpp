// Each C kernel (mcu/c/agilenn_kernels.c, the text the generator emits, built for the host)
// against the C++ fixed-point reference on random shapes: odd sizes, strides 1/2/3, padding,
// channel multipliers, input lengths that are not multiples of 4.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <random>

#include "codec/context_coder.h"
#include "codec/packed.h"
#include "mcu/c_layout.h"
#include "mcu/reference.h"
#include "mcu/requantize.h"
#include "nn/io/error.h"

extern "C" {
#include "agilenn_kernels.h"
}

using namespace agilenn::mcu;
namespace codec = agilenn::codec;

namespace {

struct Rng {
  std::mt19937 g;
  explicit Rng(uint32_t seed) : g(seed) {}
  int uni(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(g); }
};

Int8Conv random_conv(Rng& r, ConvKind kind, bool first) {
  Int8Conv op;
  op.kind = kind;
  op.in_h = r.uni(1, 13);
  op.in_w = r.uni(1, 13);
  op.in_c = r.uni(1, 9);
  if (kind == ConvKind::Depthwise) {
    bool common = r.uni(0, 1) == 0;  // half the trials: the 3x3 kernel with its interior fast path
    op.kh = common ? 3 : r.uni(1, 5);
    op.kw = common ? 3 : r.uni(1, 5);
    op.stride = r.uni(1, 3);
    op.pad_top = r.uni(0, op.kh - 1);
    op.pad_left = r.uni(0, op.kw - 1);
    op.mult = common ? 1 : r.uni(1, 2);
    op.out_c = op.in_c * op.mult;
    op.weight.resize(size_t(op.kh) * op.kw * op.out_c);
  } else {
    op.out_c = r.uni(1, 30);
    op.weight.resize(size_t(op.in_c) * op.out_c);
  }
  op.out_h = (op.in_h + op.stride - 1) / op.stride;
  op.out_w = (op.in_w + op.stride - 1) / op.stride;
  for (auto& w : op.weight) w = int8_t(r.uni(-127, 127));
  int32_t off = r.uni(-127, 128);
  for (int c = 0; c < op.in_c; ++c) op.input_offset.push_back(first ? -r.uni(0, 255) : off);
  for (int o = 0; o < op.out_c; ++o) {
    op.bias.push_back(r.uni(-40000, 40000));
    auto qm = quantize_multiplier(std::ldexp(1.0, -r.uni(4, 16)) * (1 + r.uni(0, 1000) / 1000.0));
    op.multiplier.push_back(qm.multiplier);
    op.shift.push_back(qm.shift);
  }
  op.output_offset = r.uni(-128, 127);
  op.act_min = r.uni(-128, -60);
  op.act_max = r.uni(50, 127);
  return op;
}

// The kernel's parameters; bias_interior / pairs empty: no interior fast path / no DSP pairs.
agilenn_dw_params dw_params(const Int8Conv& op, const std::vector<int16_t>& offsets,
                            const std::vector<int32_t>& bias_interior = {},
                            const std::vector<int32_t>& pairs = {}, int32_t small = 0) {
  return {op.in_h,
          op.in_w,
          op.in_c,
          op.mult,
          op.out_h,
          op.out_w,
          op.kh,
          op.kw,
          op.stride,
          op.pad_top,
          op.pad_left,
          offsets.data(),
          op.weight.data(),
          op.bias.data(),
          op.multiplier.data(),
          op.shift.data(),
          op.output_offset,
          op.act_min,
          op.act_max,
          bias_interior.empty() ? nullptr : bias_interior.data(),
          pairs.empty() ? nullptr : pairs.data(),
          small};
}

}  // namespace

BOOST_AUTO_TEST_SUITE(kernels_c)

BOOST_AUTO_TEST_CASE(depthwise_u8_and_s8_match_reference) {
  Rng r(21);
  for (int trial = 0; trial < 400; ++trial) {
    bool first = trial % 2 == 0;
    Int8Conv op = random_conv(r, ConvKind::Depthwise, first);
    if (trial % 4 == 1) op.in_c = op.out_c = 4 * r.uni(1, 2), op.mult = 1;  // the DSP layout
    if (trial % 4 == 1) {
      op.weight.resize(size_t(op.kh) * op.kw * op.out_c);
      for (auto& w : op.weight) w = int8_t(r.uni(-127, 127));
      op.input_offset.assign(op.in_c, op.input_offset[0]);
      op.bias.resize(op.out_c, 1234);
      op.multiplier.resize(op.out_c, op.multiplier[0]);
      op.shift.resize(op.out_c, op.shift[0]);
    }
    auto offsets = c_depthwise_offsets(op);
    const auto bias_in = c_depthwise_interior_bias(op);
    const int32_t small = c_acc_fits_small(op, first) ? 1 : 0;
    const auto pairs = c_depthwise_weight_pairs(op, small != 0);
    // Without and with the interior fast path (offsets in the bias, DSP weight pairs, short
    // requantization): the same outputs.
    for (int fast = 0; fast < 2; ++fast) {
      auto p = fast ? dw_params(op, offsets, bias_in, pairs, small) : dw_params(op, offsets);
      std::vector<int8_t> out(size_t(op.out_h) * op.out_w * op.out_c, 99);
      size_t n = size_t(op.in_h) * op.in_w * op.in_c;
      if (first) {
        std::vector<uint8_t> in(n);
        for (auto& v : in) v = uint8_t(r.uni(0, 255));
        agilenn_dwconv_u8(&p, in.data(), out.data());
        BOOST_REQUIRE(out == reference_conv(op, std::span<const uint8_t>(in)));
      } else {
        std::vector<int8_t> in(n);
        for (auto& v : in) v = int8_t(r.uni(-128, 127));
        agilenn_dwconv_s8(&p, in.data(), out.data());
        BOOST_REQUIRE(out == reference_conv(op, std::span<const int8_t>(in)));
      }
    }
  }
}

// The bundle's padded input: a pointwise producer writes rows into the interior of a (hp, wp)
// buffer, agilenn_fill_border puts the input zero point around it, and the depthwise conv reads
// it with no padding of its own (every window interior): the reference's outputs.
BOOST_AUTO_TEST_CASE(depthwise_on_padded_input_matches_reference) {
  Rng r(25);
  for (int trial = 0; trial < 200; ++trial) {
    Int8Conv op = random_conv(r, ConvKind::Depthwise, false);
    op.mult = 1;
    op.in_c = op.out_c = trial % 2 ? 4 * r.uni(1, 2) : r.uni(1, 6);
    op.weight.resize(size_t(op.kh) * op.kw * op.out_c);
    for (auto& w : op.weight) w = int8_t(r.uni(-127, 127));
    op.input_offset.clear();
    for (int c = 0; c < op.in_c; ++c) op.input_offset.push_back(r.uni(-127, 128));
    op.bias.resize(op.out_c, -777);
    op.multiplier.resize(op.out_c, op.multiplier[0]);
    op.shift.resize(op.out_c, op.shift[0]);
    std::vector<int8_t> in(size_t(op.in_h) * op.in_w * op.in_c);
    for (auto& v : in) v = int8_t(r.uni(-128, 127));
    const int hp = std::max(op.pad_top + op.in_h, (op.out_h - 1) * op.stride + op.kh);
    const int wp = std::max(op.pad_left + op.in_w, (op.out_w - 1) * op.stride + op.kw);
    std::vector<int8_t> padded(size_t(hp) * wp * op.in_c, 55), zp;
    for (int32_t off : op.input_offset) zp.push_back(int8_t(-off));
    agilenn_fill_border(padded.data(), hp, wp, op.in_c, op.pad_top, op.pad_left, op.in_h, op.in_w,
                        zp.data());
    for (int y = 0; y < op.in_h; ++y)
      std::copy_n(in.data() + size_t(y) * op.in_w * op.in_c, size_t(op.in_w) * op.in_c,
                  padded.data() + (size_t(y + op.pad_top) * wp + op.pad_left) * op.in_c);
    for (int y = 0; y < hp; ++y)  // the border holds the zero points, nothing else was touched
      for (int x = 0; x < wp; ++x)
        if (y < op.pad_top || y >= op.pad_top + op.in_h || x < op.pad_left ||
            x >= op.pad_left + op.in_w)
          for (int c = 0; c < op.in_c; ++c)
            BOOST_REQUIRE_EQUAL(int(padded[(size_t(y) * wp + x) * op.in_c + c]), int(zp[c]));
    const auto offsets = c_depthwise_offsets(op);
    const auto bias_in = c_depthwise_interior_bias(op);
    const auto pairs = c_depthwise_weight_pairs(op, c_acc_fits_small(op, false));
    Int8Conv padded_op = op;
    padded_op.in_h = hp;
    padded_op.in_w = wp;
    padded_op.pad_top = padded_op.pad_left = 0;
    auto p = dw_params(padded_op, offsets, bias_in, pairs, c_acc_fits_small(op, false) ? 1 : 0);
    std::vector<int8_t> out(size_t(op.out_h) * op.out_w * op.out_c, 99);
    agilenn_dwconv_s8(&p, padded.data(), out.data());
    BOOST_REQUIRE(out == reference_conv(op, std::span<const int8_t>(in)));
  }
}

// The planar padded input of a 3x3 stride-1 depthwise conv: a pointwise producer (a 1->C
// lookup table, or a conv with strides) writes one plane per channel into the interior,
// agilenn_fill_border_planar puts each channel's zero point around it, and
// agilenn_dwconv_s8_planar reads the planes: the reference's outputs for both producers, odd and
// even widths (the last odd output pixel), any channel count (4 channels: the transposed table
// writer), and nothing outside the buffer touched.
BOOST_AUTO_TEST_CASE(planar_padded_depthwise_matches_reference) {
  Rng r(26);
  for (int trial = 0; trial < 200; ++trial) {
    Int8Conv dw = random_conv(r, ConvKind::Depthwise, false);
    dw.kh = dw.kw = 3;
    dw.stride = 1;
    dw.mult = 1;
    dw.pad_top = r.uni(0, 2);
    dw.pad_left = r.uni(0, 2);
    dw.in_h = r.uni(1, 13);
    dw.in_w = r.uni(1, 16);
    dw.out_h = dw.in_h;
    dw.out_w = dw.in_w;
    dw.in_c = dw.out_c = trial % 2 ? 4 : r.uni(1, 6);
    dw.weight.resize(size_t(9) * dw.out_c);
    for (auto& w : dw.weight) w = int8_t(r.uni(-127, 127));
    dw.input_offset.clear();
    for (int c = 0; c < dw.in_c; ++c) dw.input_offset.push_back(r.uni(-127, 128));
    dw.bias.resize(dw.out_c, 555);
    dw.multiplier.resize(dw.out_c, dw.multiplier[0]);
    dw.shift.resize(dw.out_c, dw.shift[0]);
    if (trial % 3 == 0)  // large weights and bias: the long requantization (small_acc 0)
      for (int c = 0; c < dw.out_c; ++c) dw.bias[c] = 1 << 29;
    // The producer: a 1x1 conv with dw.in_c outputs on a (in_h, in_w) map of pw.in_c channels.
    Int8Conv pw = random_conv(r, ConvKind::Pointwise, false);
    const bool lut = trial % 4 < 2;
    pw.in_c = lut ? 1 : r.uni(1, 5);
    pw.out_c = dw.in_c;
    pw.in_h = pw.out_h = dw.in_h;
    pw.in_w = pw.out_w = dw.in_w;
    pw.weight.resize(size_t(pw.in_c) * pw.out_c);
    for (auto& w : pw.weight) w = int8_t(r.uni(-127, 127));
    pw.input_offset.assign(pw.in_c, pw.input_offset[0]);
    pw.bias.resize(pw.out_c, 99);
    pw.multiplier.resize(pw.out_c, pw.multiplier[0]);
    pw.shift.resize(pw.out_c, pw.shift[0]);
    std::vector<int8_t> x(size_t(pw.in_h) * pw.in_w * pw.in_c);
    for (auto& v : x) v = int8_t(r.uni(-128, 127));
    const auto mid = reference_conv(pw, std::span<const int8_t>(x));

    const int hp = std::max(dw.pad_top + dw.in_h, dw.out_h - 1 + 3);
    const int wp = std::max(dw.pad_left + dw.in_w, dw.out_w - 1 + 3);
    const int plane = hp * wp;
    std::vector<int8_t> buf(size_t(plane) * dw.in_c + 8, 55), zp;
    for (int32_t off : dw.input_offset) zp.push_back(int8_t(-off));
    agilenn_fill_border_planar(buf.data(), hp, wp, dw.in_c, dw.pad_top, dw.pad_left, dw.in_h,
                               dw.in_w, zp.data());
    const auto table = lut ? c_pointwise_lut(pw) : std::vector<int8_t>();
    const auto l = c_pointwise_layout(pw);
    const agilenn_pw_params pp{pw.in_w,
                               pw.in_c,
                               pw.out_c,
                               l.weight.data(),
                               l.bias.data(),
                               pw.multiplier.data(),
                               pw.shift.data(),
                               pw.output_offset,
                               pw.act_min,
                               pw.act_max,
                               0,
                               nullptr};
    for (int y = 0; y < dw.in_h; ++y) {
      int8_t* row = buf.data() + size_t(y + dw.pad_top) * wp + dw.pad_left;
      const int8_t* in_row = x.data() + size_t(y) * pw.in_w * pw.in_c;
      if (lut)
        agilenn_pw1_lut_planar(pw.in_w, pw.out_c, table.data(), in_row, row, plane);
      else
        agilenn_pwconv_strided(&pp, in_row, row, 1, plane);
    }
    for (int c = 0; c < dw.in_c; ++c)  // each plane: the producer's channel inside, zp around
      for (int y = 0; y < hp; ++y)
        for (int xx = 0; xx < wp; ++xx) {
          const int iy = y - dw.pad_top, ix = xx - dw.pad_left;
          const bool inside = iy >= 0 && iy < dw.in_h && ix >= 0 && ix < dw.in_w;
          BOOST_REQUIRE_EQUAL(
              int(buf[size_t(c) * plane + size_t(y) * wp + xx]),
              inside ? int(mid[(size_t(iy) * dw.in_w + ix) * dw.in_c + c]) : int(zp[c]));
        }
    for (size_t i = size_t(plane) * dw.in_c; i < buf.size(); ++i)
      BOOST_REQUIRE_EQUAL(int(buf[i]), 55);

    const auto offsets = c_depthwise_offsets(dw);
    const auto bias_in = c_depthwise_interior_bias(dw);
    Int8Conv padded = dw;
    padded.in_h = hp;
    padded.in_w = wp;
    padded.pad_top = padded.pad_left = 0;
    auto p = dw_params(padded, offsets, bias_in, {}, c_acc_fits_small(dw, false) ? 1 : 0);
    std::vector<int8_t> out(size_t(dw.out_h) * dw.out_w * dw.out_c, 99);
    agilenn_dwconv_s8_planar(&p, buf.data(), out.data());
    BOOST_REQUIRE(out == reference_conv(dw, std::span<const int8_t>(mid)));
  }
}

BOOST_AUTO_TEST_CASE(pointwise_and_fused_split_match_reference) {
  Rng r(22);
  for (int trial = 0; trial < 300; ++trial) {
    Int8Conv op = random_conv(r, ConvKind::Pointwise, false);
    auto layout = c_pointwise_layout(op);
    agilenn_pw_params p{op.in_h * op.in_w,
                        op.in_c,
                        op.out_c,
                        layout.weight.data(),
                        layout.bias.data(),
                        op.multiplier.data(),
                        op.shift.data(),
                        op.output_offset,
                        op.act_min,
                        op.act_max,
                        c_acc_fits_small(op, false) ? 1 : 0,
                        nullptr};  // the host build has no DSP path
    // The DSP path's weight pairs (M7 only; checked end to end by the bundle tests): per output
    // channel, the int16 halves are the row's weights 0, 2 and 1, 3, doubled for the first ones.
    const int doubled = r.uni(0, op.out_c);
    const auto pairs = c_pointwise_weight_pairs(layout, op.in_c, doubled);
    BOOST_REQUIRE_EQUAL(pairs.size(),
                        op.in_c == 4 || op.in_c == 3 ? size_t(2 * op.out_c) : size_t(0));
    for (size_t k = 0; k < pairs.size(); ++k) {  // in_c 3: the fourth weight is 0
      const int8_t* w = layout.weight.data() + (k / 2) * op.in_c + (k % 2);
      const int scale = int(k / 2) < doubled ? 2 : 1;
      BOOST_REQUIRE_EQUAL(int16_t(uint32_t(pairs[k]) & 0xFFFFu), scale * w[0]);
      BOOST_REQUIRE_EQUAL(int16_t(uint32_t(pairs[k]) >> 16),
                          k % 2 && op.in_c == 3 ? 0 : scale * w[2]);
    }
    std::vector<int8_t> in(size_t(op.in_h) * op.in_w * op.in_c);
    for (auto& v : in) v = int8_t(r.uni(-128, 127));
    auto expect = reference_conv(op, std::span<const int8_t>(in));
    std::vector<int8_t> out(expect.size());
    agilenn_pwconv(&p, in.data(), out.data());
    BOOST_REQUIRE(out == expect);
    if (op.out_c < 2) continue;
    // Fused split: the first k channels stored, the rest quantized to the index map.
    int k = r.uni(1, op.out_c - 1);
    std::vector<float> cent;
    for (int j = 0; j < r.uni(2, 9); ++j) cent.push_back(float(r.uni(0, 600)) / 100.f);
    double scale = 0.01 + r.uni(0, 100) / 2000.0;
    int32_t zp = r.uni(-128, 127);
    Int8Quantizer q = make_int8_quantizer(cent, scale, zp);
    std::vector<uint8_t> idx;
    std::vector<int8_t> local_expect;
    size_t pixels = size_t(op.in_h) * op.in_w;
    for (size_t px = 0; px < pixels; ++px)
      for (int o = 0; o < op.out_c; ++o) {
        int8_t v = expect[px * op.out_c + o];
        if (o < k)
          local_expect.push_back(v);
        else
          idx.push_back(q.index_of(v));
      }
    auto table = q.value_table();
    agilenn_quantizer cq{int32_t(q.thresholds.size()), q.thresholds.data(), q.index_of_pos.data(),
                         table.data()};
    for (int v = -128; v <= 127; ++v)  // the C threshold count equals the table and the host rule
      BOOST_REQUIRE_EQUAL(agilenn_quantize_index(&cq, v), uint32_t(q.index_of(int8_t(v))));
    std::vector<int8_t> local(pixels * k);
    std::vector<uint8_t> indices(idx.size() + 4, 0xEE);
    agilenn_pwconv_split(&p, k, in.data(), local.data(), &cq, indices.data());
    BOOST_REQUIRE(local == local_expect);
    BOOST_REQUIRE(std::equal(idx.begin(), idx.end(), indices.begin()));
    BOOST_REQUIRE_EQUAL(int(indices[idx.size()]), 0xEE);  // nothing written past the end
  }
}

// A 1->C pointwise conv as a 256-row table gives the reference's outputs for every input value.
BOOST_AUTO_TEST_CASE(pointwise_lookup_table_matches_reference) {
  Rng r(24);
  for (int trial = 0; trial < 100; ++trial) {
    Int8Conv op = random_conv(r, ConvKind::Pointwise, false);
    op.in_c = 1;
    op.weight.resize(size_t(op.out_c));
    op.input_offset.resize(1);
    BOOST_REQUIRE_THROW(
        [&] {
          Int8Conv two = op;
          two.in_c = 2;
          two.weight.resize(size_t(2) * op.out_c);
          two.input_offset.resize(2, op.input_offset[0]);
          c_pointwise_lut(two);
        }(),
        agilenn::Error);
    std::vector<int8_t> in(256);  // every input value, then a random image
    for (int v = 0; v < 256; ++v) in[v] = int8_t(v - 128);
    for (int i = 0; i < 37; ++i) in.push_back(int8_t(r.uni(-128, 127)));
    op.in_h = 1;
    op.in_w = int(in.size());
    op.out_h = 1;
    op.out_w = op.in_w;
    auto expect = reference_conv(op, std::span<const int8_t>(in));
    auto table = c_pointwise_lut(op);
    std::vector<int8_t> out(expect.size() + 1, 99);
    agilenn_pw1_lut(int32_t(in.size()), op.out_c, table.data(), in.data(), out.data());
    BOOST_REQUIRE(std::equal(expect.begin(), expect.end(), out.begin()));
    BOOST_REQUIRE_EQUAL(int(out.back()), 99);  // nothing written past the end
  }
}

// The fused last conv (quantizer on the accumulator, coder fed directly): the reference's local
// outputs, the host quantizer's indices and the C++ codec's payload, row by row; the accumulator
// thresholds agree with requantize + clamp + index_of on every reachable accumulator.
BOOST_AUTO_TEST_CASE(fused_conv_quantizer_coder_matches_reference_and_codec) {
  Rng r(25);
  for (int trial = 0; trial < 80; ++trial) {
    Int8Conv op = random_conv(r, ConvKind::Pointwise, false);
    if (trial % 2 == 0) {  // half the trials: the default extractor's 4 inputs (DSP path)
      op.in_c = 4;
      op.weight.resize(size_t(4) * op.out_c);
      for (auto& w : op.weight) w = int8_t(r.uni(-127, 127));
      op.input_offset.assign(4, op.input_offset[0]);
    }
    if (op.out_c < 2) continue;
    const int k = r.uni(1, op.out_c - 1), R = op.out_c - k;
    // Odd trials: coder 5, some remote channels with all-zero weights (fixed by the bias, so
    // c_constant_remote_indices must find them and the kernel skips them).
    const bool skip_trial = trial % 4 == 1 || trial % 4 == 2;
    std::vector<int> zeroed;
    if (skip_trial)
      for (int o = k; o < op.out_c; ++o)
        if (r.uni(0, 2) == 0) {
          zeroed.push_back(o - k);
          for (int c = 0; c < op.in_c; ++c) op.weight[size_t(c) * op.out_c + o] = 0;
        }
    std::vector<float> cent;
    for (int j = 0, n = r.uni(2, 9); j < n; ++j) cent.push_back(float(r.uni(0, 600)) / 100.f);
    std::sort(cent.begin(), cent.end());
    cent.erase(std::unique(cent.begin(), cent.end()), cent.end());
    if (cent.size() < 2) continue;
    if (trial % 4 >= 2) std::shuffle(cent.begin(), cent.end(), r.g);  // unsorted: index_of_pos
    // A scale that spreads the centroids over the int8 range, so every index occurs.
    Int8Quantizer q = make_int8_quantizer(cent, 6.0 / 255, -128);
    const uint8_t* index_of_pos = quantizer_is_sorted(q) ? nullptr : q.index_of_pos.data();
    auto layout = c_pointwise_layout(op);
    auto thr = c_accumulator_thresholds(op, layout, k, q);
    const uint32_t leaf = 1u << q.bits;
    BOOST_REQUIRE_EQUAL(thr.size(), size_t(R) * leaf);
    // Exhaustive over the reachable accumulators of one channel.
    {
      const int o = k + r.uni(0, R - 1);
      int64_t abs_w = 0;
      for (int c = 0; c < op.in_c; ++c)
        abs_w += std::abs(int(layout.weight[size_t(o) * op.in_c + c]));
      for (int64_t acc = -128 * abs_w; acc <= 127 * abs_w; ++acc) {
        int32_t v = multiply_by_quantized_multiplier(int32_t(acc + layout.bias[o]),
                                                     op.multiplier[o], op.shift[o]) +
                    op.output_offset;
        const unsigned expect = q.index_of(int8_t(std::clamp(v, op.act_min, op.act_max)));
        uint32_t node = 1;
        while (node < leaf) node = 2 * node + (acc >= thr[size_t(o - k) * leaf + node] ? 1 : 0);
        BOOST_REQUIRE_EQUAL(unsigned(q.index_of_pos[node - leaf]), expect);
      }
    }
    // A whole map: local outputs and indices from the reference, payload from the C++ codec.
    std::vector<int8_t> in(size_t(op.in_h) * op.in_w * op.in_c);
    for (auto& v : in) v = int8_t(r.uni(-128, 127));
    auto expect = reference_conv(op, std::span<const int8_t>(in));
    const size_t pixels = size_t(op.in_h) * op.in_w;
    std::vector<int8_t> local_expect;
    std::vector<uint8_t> idx;
    for (size_t px = 0; px < pixels; ++px)
      for (int o = 0; o < op.out_c; ++o) {
        if (o < k)
          local_expect.push_back(expect[px * op.out_c + o]);
        else
          idx.push_back(q.index_of(expect[px * op.out_c + o]));
      }
    const unsigned C = unsigned(cent.size());
    codec::StreamShape shape{uint32_t(op.in_h), uint32_t(op.in_w), uint32_t(R)};
    codec::ContextModel cm = codec::ContextModel::fit(idx, 1, shape, C);
    std::vector<uint8_t> payload = cm.encode_static(idx, shape);
    std::vector<int8_t> skip_index;
    if (skip_trial) {
      const std::vector<int> constant = c_constant_remote_indices(op, layout, k, q);
      BOOST_REQUIRE_EQUAL(constant.size(), size_t(R));
      for (int z : zeroed) BOOST_REQUIRE(constant[z] >= 0);  // zero weights: fixed index
      std::vector<uint8_t> flags;
      for (int v : constant) {
        skip_index.push_back(int8_t(v));
        flags.push_back(v >= 0);
      }
      // The C++ coder checks that every flagged channel is constant (and equal to the claim).
      payload = cm.encode_static_skip(idx, shape, flags);
      const size_t skipped = std::count(flags.begin(), flags.end(), 1);
      const size_t prefix = (size_t(R) + 7) / 8 + (skipped * codec::index_bits(C) + 7) / 8;
      std::vector<uint8_t> values;
      for (int v : constant)
        if (v >= 0) values.push_back(uint8_t(v));
      const auto packed_values = codec::packed_encode(values, C);
      BOOST_REQUIRE(std::equal(packed_values.begin(), packed_values.end(),
                               payload.begin() + (size_t(R) + 7) / 8));
      payload.erase(payload.begin(), payload.begin() + prefix);  // the kernel codes the rest
    }
    CContextOffsets co = c_static_context_offsets(cm);
    const std::vector<uint16_t> cdf = c_static_cdf(cm);
    agilenn_sce_model m{uint32_t(R),
                        uint32_t(op.in_w),
                        cdf.data(),
                        co.group.data(),
                        co.left.data(),
                        co.up.data(),
                        co.prev.data(),
                        cm.config().levels,
                        C + 1,
                        skip_index.empty() ? nullptr : skip_index.data(),
                        c_static_left_shift(cm)};
    for (unsigned v = 0; v < C; ++v)  // the ring's rule: left offset = up offset << left_shift
      BOOST_REQUIRE_EQUAL(co.left[v], co.up[v] << c_static_left_shift(cm));
    agilenn_pw_params p{op.in_w,
                        op.in_c,
                        op.out_c,
                        layout.weight.data(),
                        layout.bias.data(),
                        op.multiplier.data(),
                        op.shift.data(),
                        op.output_offset,
                        op.act_min,
                        op.act_max,
                        c_acc_fits_small(op, false) ? 1 : 0,
                        nullptr};
    const size_t row_bytes = size_t(op.in_w) * R, slot = row_bytes + R;
    std::vector<uint8_t> out(payload.size() + 8, 0xEE);
    std::vector<uint16_t> rows(2 * slot, 0);  // zero pads and row
    std::vector<int8_t> local(pixels * k);
    std::vector<uint16_t> got_offsets, expect_offsets;
    for (size_t j = 0; j < idx.size(); ++j)  // a skipped channel's ring entry stays 0
      expect_offsets.push_back(!skip_index.empty() && skip_index[j % R] >= 0 ? 0 : co.up[idx[j]]);
    agilenn_ce_state st;
    agilenn_sce_begin(&st, out.data(), payload.size() + 8);
    for (int y = 0; y < op.in_h; ++y) {
      uint16_t* row = rows.data() + R + (y & 1) * slot;
      agilenn_pw_quant_sce_row(&p, k, in.data() + size_t(y) * op.in_w * op.in_c,
                               local.data() + size_t(y) * op.in_w * k, thr.data(), index_of_pos,
                               uint32_t(q.bits), &st, &m, row,
                               rows.data() + R + ((y + 1) & 1) * slot);
      got_offsets.insert(got_offsets.end(), row, row + row_bytes);
    }
    const size_t n = agilenn_ce_end(&st);
    BOOST_REQUIRE(local == local_expect);
    BOOST_REQUIRE(got_offsets == expect_offsets);  // the ring: each index's up offset
    BOOST_REQUIRE_EQUAL(n, payload.size());
    BOOST_REQUIRE(std::equal(payload.begin(), payload.end(), out.begin()));
  }
}

BOOST_AUTO_TEST_CASE(grid_pool_and_dense_match_reference) {
  Rng r(23);
  for (int trial = 0; trial < 300; ++trial) {
    int h = r.uni(1, 17), w = r.uni(1, 17), c = r.uni(1, 7);
    int g = r.uni(1, std::min(h, w));
    std::vector<int8_t> in(size_t(h) * w * c);
    for (auto& v : in) v = int8_t(r.uni(-128, 127));
    auto expect = reference_grid_avg_pool(in, h, w, c, g);
    std::vector<int8_t> out(expect.size());
    agilenn_grid_avg_pool(in.data(), h, w, c, g, out.data());
    BOOST_REQUIRE(out == expect);

    Int8Dense d;
    d.in = int(expect.size());
    d.out = r.uni(1, 12);
    d.input_offset = r.uni(-127, 128);
    for (int i = 0; i < d.in * d.out; ++i) d.weight.push_back(int8_t(r.uni(-127, 127)));
    for (int o = 0; o < d.out; ++o) d.bias.push_back(r.uni(-100000, 100000));
    auto logits = reference_dense(d, expect);
    auto layout = c_dense_layout(d);
    agilenn_dense_params dp{d.in, d.out, layout.weight.data(), layout.bias.data()};
    std::vector<int32_t> got(d.out);
    agilenn_dense(&dp, out.data(), got.data());
    BOOST_REQUIRE(got == logits);
  }
}

// The row-by-row static context coder of the bundle gives the C++ codec's coder-4 payload (and
// coder 5's range stream when a constant channel is skipped; fitted tables, every alphabet size
// up to 2^5, groups and levels > 1, odd shapes), and 0 when
// the capacity is one byte short; packed bits fed row by row give the codec's packed payload.
BOOST_AUTO_TEST_CASE(row_static_context_coder_matches_codec) {
  Rng r(31);
  for (int trial = 0; trial < 60; ++trial) {
    const unsigned C = unsigned(r.uni(2, 32));
    codec::StreamShape shape{uint32_t(r.uni(1, 9)), uint32_t(r.uni(1, 9)), uint32_t(r.uni(1, 7))};
    // Smooth-ish maps (a random walk) so the fit picks L > 1, plus some noise.
    auto make = [&](size_t n) {
      std::vector<uint8_t> v(n * shape.size());
      int cur = 0;
      for (auto& x : v) {
        cur = std::clamp(cur + r.uni(-1, 1), 0, int(C) - 1);
        x = uint8_t(r.uni(0, 9) == 0 ? r.uni(0, int(C) - 1) : cur);
      }
      return v;
    };
    std::vector<uint8_t> fit = make(20), map = make(1);
    // Odd trials: coder 5, channel 0 made constant and skipped (the row coder leaves it out).
    std::vector<int8_t> skip_index;
    if (trial % 2 == 1) {
      const uint8_t v = uint8_t(r.uni(0, int(C) - 1));
      for (size_t pos = 0; pos < map.size(); pos += shape.channels) map[pos] = v;
      skip_index.assign(shape.channels, -1);
      skip_index[0] = int8_t(v);
    }
    codec::ContextModel cm = codec::ContextModel::fit(fit, 20, shape, C);
    std::vector<uint8_t> expect = cm.encode_static(map, shape);
    if (!skip_index.empty()) {  // the range stream behind the mask and the packed value
      std::vector<uint8_t> flags(shape.channels, 0);
      flags[0] = 1;
      expect = cm.encode_static_skip(map, shape, flags);
      const size_t prefix = (shape.channels + 7) / 8 + (codec::index_bits(C) + 7) / 8;
      expect.erase(expect.begin(), expect.begin() + prefix);
    }
    CContextOffsets co = c_static_context_offsets(cm);
    const std::vector<uint16_t> cdf = c_static_cdf(cm);
    agilenn_sce_model m{shape.channels,
                        shape.width,
                        cdf.data(),
                        co.group.data(),
                        co.left.data(),
                        co.up.data(),
                        co.prev.data(),
                        cm.config().levels,
                        C + 1,
                        skip_index.empty() ? nullptr : skip_index.data(),
                        c_static_left_shift(cm)};
    const size_t row = size_t(shape.width) * shape.channels;
    // Each row behind R zero bytes (the first pixel's left neighbours), a zero row above the
    // first (the generated code's ring layout).
    const size_t slot = shape.channels + row;
    std::vector<uint8_t> padded((shape.height + 1) * slot, 0);
    for (uint32_t y = 0; y < shape.height; ++y)
      std::copy(map.begin() + y * row, map.begin() + (y + 1) * row,
                padded.begin() + (y + 1) * slot + shape.channels);
    for (size_t capacity : {expect.size() + 3, expect.size(), expect.size() - 1}) {
      std::vector<uint8_t> out(expect.size() + 4, 0xEE);
      agilenn_ce_state st;
      agilenn_sce_begin(&st, out.data(), capacity);
      for (uint32_t y = 0; y < shape.height; ++y)
        agilenn_sce_row(&st, &m, padded.data() + (y + 1) * slot + shape.channels,
                        padded.data() + y * slot + shape.channels);
      size_t n = agilenn_ce_end(&st);
      if (capacity < expect.size()) {
        BOOST_REQUIRE_EQUAL(n, 0u);
      } else {
        BOOST_REQUIRE_EQUAL(n, expect.size());
        BOOST_REQUIRE(std::equal(expect.begin(), expect.end(), out.begin()));
      }
      BOOST_REQUIRE_EQUAL(int(out[capacity]), 0xEE);  // nothing past the capacity
    }
    // Packed bits, row by row.
    std::vector<uint8_t> packed = codec::packed_encode(map, C);
    std::vector<uint8_t> out(packed.size() + 1, 0xEE);
    agilenn_packed_state pk;
    agilenn_packed_begin(&pk, codec::index_bits(C), out.data());
    for (uint32_t y = 0; y < shape.height; ++y) agilenn_packed_put(&pk, map.data() + y * row, row);
    BOOST_REQUIRE_EQUAL(agilenn_packed_end(&pk), packed.size());
    BOOST_REQUIRE(std::equal(packed.begin(), packed.end(), out.begin()));
  }
}

BOOST_AUTO_TEST_SUITE_END()
