#include "mcu/reference.h"

#include <algorithm>
#include <string>

#include "mcu/packet_encoder.h"
#include "mcu/requantize.h"
#include "nn/io/error.h"

namespace agilenn::mcu {

namespace {

template <typename T>
std::vector<int8_t> conv_impl(const Int8Conv& op, std::span<const T> in) {
  size_t n_in = size_t(op.in_h) * op.in_w * op.in_c;
  if (in.size() != n_in)
    throw Error("reference_conv: input has " + std::to_string(in.size()) + " values, expected " +
                std::to_string(n_in));
  std::vector<int8_t> out(size_t(op.out_h) * op.out_w * op.out_c);
  int oc = op.out_c, ic = op.in_c;
  std::vector<int32_t> acc(oc);
  // in (in_h, in_w, in_c), weight dw (kh, kw, in_c*mult) | pw (in_c, out_c) -> out (oh, ow, oc)
  for (int oy = 0; oy < op.out_h; ++oy)
    for (int ox = 0; ox < op.out_w; ++ox) {
      std::copy(op.bias.begin(), op.bias.end(), acc.begin());
      if (op.kind == ConvKind::Depthwise) {
        for (int ky = 0; ky < op.kh; ++ky) {
          int iy = oy * op.stride - op.pad_top + ky;
          if (iy < 0 || iy >= op.in_h) continue;  // padding contributes exactly 0
          for (int kx = 0; kx < op.kw; ++kx) {
            int ix = ox * op.stride - op.pad_left + kx;
            if (ix < 0 || ix >= op.in_w) continue;
            const T* x = &in[(size_t(iy) * op.in_w + ix) * ic];
            const int8_t* wt = &op.weight[(size_t(ky) * op.kw + kx) * oc];
            for (int o = 0; o < oc; ++o)
              acc[o] += (int32_t(x[o / op.mult]) + op.input_offset[o / op.mult]) * wt[o];
          }
        }
      } else {
        const T* x = &in[(size_t(oy) * op.in_w + ox) * ic];
        for (int c = 0; c < ic; ++c)
          for (int o = 0; o < oc; ++o)
            acc[o] += (int32_t(x[c]) + op.input_offset[c]) * op.weight[size_t(c) * oc + o];
      }
      int8_t* y = &out[(size_t(oy) * op.out_w + ox) * oc];
      for (int o = 0; o < oc; ++o) {
        int32_t v = multiply_by_quantized_multiplier(acc[o], op.multiplier[o], op.shift[o]);
        v += op.output_offset;
        y[o] = int8_t(std::clamp(v, op.act_min, op.act_max));
      }
    }
  return out;
}

}  // namespace

std::vector<int8_t> reference_conv(const Int8Conv& op, std::span<const uint8_t> pixels) {
  return conv_impl<uint8_t>(op, pixels);
}
std::vector<int8_t> reference_conv(const Int8Conv& op, std::span<const int8_t> in) {
  return conv_impl<int8_t>(op, in);
}

std::vector<int8_t> reference_grid_avg_pool(std::span<const int8_t> in, int h, int w, int c,
                                            int g) {
  if (g < 1 || g > std::min(h, w))
    throw Error("reference_grid_avg_pool: grid must be in [1, min(H, W)]");
  if (in.size() != size_t(h) * w * c) throw Error("reference_grid_avg_pool: input size mismatch");
  std::vector<int8_t> out(size_t(g) * g * c);
  for (int gy = 0; gy < g; ++gy)
    for (int gx = 0; gx < g; ++gx) {
      int y0 = gy * h / g, y1 = ((gy + 1) * h + g - 1) / g;
      int x0 = gx * w / g, x1 = ((gx + 1) * w + g - 1) / g;
      int32_t count = (y1 - y0) * (x1 - x0);
      for (int ch = 0; ch < c; ++ch) {
        int32_t sum = 0;
        for (int iy = y0; iy < y1; ++iy)
          for (int ix = x0; ix < x1; ++ix) sum += in[(size_t(iy) * w + ix) * c + ch];
        int32_t avg = sum > 0 ? (sum + count / 2) / count : (sum - count / 2) / count;
        out[(size_t(gy) * g + gx) * c + ch] = int8_t(std::clamp(avg, -128, 127));
      }
    }
  return out;
}

std::vector<int32_t> reference_dense(const Int8Dense& d, std::span<const int8_t> in) {
  if (in.size() != size_t(d.in)) throw Error("reference_dense: input size mismatch");
  std::vector<int32_t> out(d.bias);
  for (int i = 0; i < d.in; ++i)
    for (int o = 0; o < d.out; ++o)
      out[o] += (int32_t(in[i]) + d.input_offset) * d.weight[size_t(i) * d.out + o];
  return out;
}

ReferenceResult reference_run(const Int8Model& m, std::span<const uint8_t> image,
                              bool with_packet) {
  ReferenceResult r;
  std::vector<int8_t> x = reference_conv(m.extractor.front(), image);
  for (size_t i = 1; i < m.extractor.size(); ++i) x = reference_conv(m.extractor[i], x);
  r.features = x;
  size_t pixels = size_t(m.feat_h) * m.feat_w;
  int k = m.split_k, c = m.feat_c;
  std::vector<int8_t> local(pixels * k);
  r.indices.resize(pixels * (c - k));
  for (size_t p = 0; p < pixels; ++p) {
    for (int ch = 0; ch < k; ++ch) local[p * k + ch] = x[p * c + ch];
    for (int ch = k; ch < c; ++ch)
      r.indices[p * (c - k) + ch - k] = m.quantizer.index_of(x[p * c + ch]);
  }
  std::vector<int8_t> pooled = reference_grid_avg_pool(local, m.feat_h, m.feat_w, k, m.grid);
  r.local_logits = reference_dense(m.dense, pooled);
  if (with_packet) r.packet = encode_device_packet(m, r.indices);
  return r;
}

}  // namespace agilenn::mcu
