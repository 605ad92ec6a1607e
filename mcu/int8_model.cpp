#include "mcu/int8_model.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "mcu/requantize.h"
#include "nn/io/error.h"

namespace agilenn::mcu {

int64_t Int8Conv::macs() const {
  int64_t per_out = kind == ConvKind::Depthwise ? int64_t(kh) * kw : int64_t(in_c);
  return int64_t(out_h) * out_w * out_c * per_out;
}

namespace {

struct ActQuant {
  double scale;
  int32_t zero_point;
};

// Asymmetric int8 parameters for a real range; the range is widened to contain 0 so that 0 is
// exactly representable (the zero padding and ReLU's lower bound).
ActQuant act_quant_for_range(double lo, double hi) {
  lo = std::min(lo, 0.0);
  hi = std::max(hi, 0.0);
  if (hi - lo < 1e-8) hi = lo + 1e-8;
  double scale = (hi - lo) / 255.0;
  long zp = std::lround(-128.0 - lo / scale);
  return {scale, int32_t(std::clamp(zp, -128L, 127L))};
}

int32_t quantize_bias(double real, double scale, const std::string& where) {
  double q = std::round(real / scale);
  if (!(std::fabs(q) <= double(std::numeric_limits<int32_t>::max())))
    throw error_at(where, "bias " + std::to_string(real) + " does not fit int32 at scale " +
                              std::to_string(scale));
  return int32_t(q);
}

struct Group {
  size_t conv = 0;  // index of the conv layer in the extractor
  int bn = -1;      // index of the folded BatchNorm or -1
  bool relu6 = false;
  size_t last = 0;  // index of the group's last layer (its output is the quantized activation)
};

std::vector<Group> group_extractor(const FrozenModel& m) {
  std::vector<Group> groups;
  const auto& L = m.extractor;
  for (size_t i = 0; i < L.size();) {
    std::string where = "frozen model: extractor[" + std::to_string(i) + "]";
    if (L[i].kind != FrozenLayerKind::DepthwiseConv && L[i].kind != FrozenLayerKind::Conv)
      throw error_at(where, std::string("the MCU path expects a conv here, found ") +
                                frozen_layer_kind_name(L[i].kind));
    if (L[i].kind == FrozenLayerKind::Conv &&
        (L[i].kh != 1 || L[i].kw != 1 || L[i].stride != 1 || L[i].pad_top || L[i].pad_left))
      throw error_at(where, "the MCU path supports 1x1 stride-1 convs and depthwise convs only");
    Group g;
    g.conv = g.last = i++;
    if (i < L.size() && L[i].kind == FrozenLayerKind::BatchNorm) g.bn = int(g.last = i++);
    if (i < L.size() && L[i].kind == FrozenLayerKind::Relu6) {
      g.relu6 = true;
      g.last = i++;
    }
    groups.push_back(g);
  }
  if (groups.empty()) throw Error("frozen model: the extractor is empty");
  if (m.extractor[groups.front().conv].kind != FrozenLayerKind::DepthwiseConv)
    throw Error(
        "frozen model: extractor[0]: the MCU path needs a depthwise conv first (it reads "
        "raw uint8 pixels)");
  if (m.extractor[groups.back().conv].kind != FrozenLayerKind::Conv)
    throw Error(
        "frozen model: the extractor's last conv must be pointwise (it is fused with the "
        "split, quantizer and encoder)");
  return groups;
}

}  // namespace

Int8Quantizer make_int8_quantizer(std::span<const float> centroids, double scale,
                                  int32_t zero_point) {
  size_t c = centroids.size();
  if (c < 2 || c > 256) throw Error("int8 quantizer: need 2..256 centroids");
  std::vector<uint8_t> order(c);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint8_t a, uint8_t b) { return centroids[a] < centroids[b]; });
  std::vector<int> pos_of_index(c);
  for (size_t p = 0; p < c; ++p) pos_of_index[order[p]] = int(p);
  Int8Quantizer q;
  q.index_of_pos = order;
  q.thresholds.assign(c - 1, 128);
  int prev = 0;
  for (int v = -128; v <= 127; ++v) {
    int pos = pos_of_index[nearest_centroid(centroids, scale * (v - zero_point))];
    if (pos < prev) throw Error("int8 quantizer: nearest centroid is not monotone in the value");
    for (int j = prev + 1; j <= pos; ++j) q.thresholds[j - 1] = int16_t(v);
    prev = pos;
  }
  q.bits = 1;
  while ((size_t(1) << q.bits) < c) ++q.bits;
  return q;
}

Int8Model quantize_model(const FrozenModel& m, std::span<const std::vector<uint8_t>> images,
                         const CalibrationOptions& options) {
  m.validate();
  if (images.empty()) throw Error("quantize_model: no calibration images");
  std::vector<Group> groups = group_extractor(m);
  size_t n_in = size_t(m.in_h) * m.in_w * m.in_c;

  // Calibration: min/max of every group's output over the calibration set (float forward).
  std::vector<double> lo(groups.size(), std::numeric_limits<double>::infinity());
  std::vector<double> hi(groups.size(), -std::numeric_limits<double>::infinity());
  for (size_t n = 0; n < images.size(); ++n) {
    if (images[n].size() != n_in)
      throw Error("quantize_model: calibration image " + std::to_string(n) + " has " +
                  std::to_string(images[n].size()) + " bytes, expected " + std::to_string(n_in));
    std::vector<float> x(n_in);
    for (size_t i = 0; i < n_in; ++i) {
      size_t ch = i % size_t(m.in_c);
      x[i] = (images[n][i] / 255.f - m.input_mean[ch]) / m.input_std[ch];
    }
    int h = m.in_h, w = m.in_w, c = m.in_c;
    size_t g = 0;
    for (size_t i = 0; i < m.extractor.size(); ++i) {
      x = apply_frozen_layer(m.extractor[i], x, h, w, c, &h, &w, &c);
      if (i == groups[g].last) {
        for (float v : x) {
          lo[g] = std::min(lo[g], double(v));
          hi[g] = std::max(hi[g], double(v));
        }
        ++g;
      }
    }
  }

  Int8Model q;
  q.in_h = m.in_h;
  q.in_w = m.in_w;
  q.in_c = m.in_c;
  int h = m.in_h, w = m.in_w, c = m.in_c;
  double in_scale = 1;
  std::vector<int32_t> in_offset(m.in_c);
  std::vector<double> input_residual(m.in_c);  // (m_c - 255*mean_c), folded into the first bias
  for (int ch = 0; ch < m.in_c; ++ch) {
    long rounded_mean = std::lround(255.0 * m.input_mean[ch]);
    in_offset[ch] = -int32_t(rounded_mean);
    input_residual[ch] = double(rounded_mean) - 255.0 * m.input_mean[ch];
  }
  for (size_t gi = 0; gi < groups.size(); ++gi) {
    const Group& g = groups[gi];
    const FrozenLayer& L = m.extractor[g.conv];
    std::string where = "frozen model: extractor[" + std::to_string(g.conv) + "]";
    Int8Conv op;
    op.kind = L.kind == FrozenLayerKind::DepthwiseConv ? ConvKind::Depthwise : ConvKind::Pointwise;
    op.in_h = h;
    op.in_w = w;
    op.in_c = c;
    op.out_h = (h + L.stride - 1) / L.stride;
    op.out_w = (w + L.stride - 1) / L.stride;
    op.out_c = L.cout;
    op.kh = L.kh;
    op.kw = L.kw;
    op.stride = L.stride;
    op.pad_top = L.pad_top;
    op.pad_left = L.pad_left;
    op.mult = op.kind == ConvKind::Depthwise ? L.mult : 1;
    int oc = op.out_c;
    // Real weights and bias with BN (and, for the first op, the input scale) folded in.
    std::vector<double> wr(L.weight.begin(), L.weight.end());
    std::vector<double> br(oc, 0.0);
    for (int o = 0; o < oc; ++o) br[o] = L.bias.empty() ? 0.0 : L.bias[o];
    if (gi == 0) {
      // x_c = (p - m_c) / (255 std_c) + (m_c - 255 mean_c) / (255 std_c): the first factor goes
      // into the weights, the constant second term into the bias (exact away from the border).
      for (size_t i = 0; i < wr.size(); ++i) {
        int ch = int(i % size_t(oc)) / op.mult;
        wr[i] /= 255.0 * m.input_std[ch];
      }
      for (size_t i = 0; i < wr.size(); ++i) {
        int o = int(i % size_t(oc));
        br[o] += wr[i] * input_residual[o / op.mult];
      }
    }
    if (g.bn >= 0) {
      const FrozenLayer& bn = m.extractor[g.bn];
      for (int o = 0; o < oc; ++o) {
        double a = bn.gamma[o] / std::sqrt(double(bn.running_var[o]) + bn.eps);
        br[o] = (br[o] - bn.running_mean[o]) * a + bn.beta[o];
        for (size_t i = o; i < wr.size(); i += oc) wr[i] *= a;
      }
    }
    ActQuant out = g.relu6 && options.relu6_fixed_range ? ActQuant{6.0 / 255.0, -128}
                                                        : act_quant_for_range(lo[gi], hi[gi]);
    op.in_scale = in_scale;
    op.out_scale = out.scale;
    op.output_offset = out.zero_point;
    if (g.relu6) {
      op.act_min = std::max<int32_t>(-128, out.zero_point);
      op.act_max = int32_t(std::min<long>(127, out.zero_point + std::lround(6.0 / out.scale)));
    }
    op.input_offset = in_offset;
    op.w_scale.assign(oc, 0.0);
    for (size_t i = 0; i < wr.size(); ++i)
      op.w_scale[i % oc] = std::max(op.w_scale[i % oc], std::fabs(wr[i]) / 127.0);
    for (double& s : op.w_scale)
      if (s == 0) s = 1;  // an all-zero channel: any scale works
    op.weight.resize(wr.size());
    for (size_t i = 0; i < wr.size(); ++i)
      op.weight[i] = int8_t(std::clamp(std::lround(wr[i] / op.w_scale[i % oc]), -127L, 127L));
    for (int o = 0; o < oc; ++o) {
      op.bias.push_back(quantize_bias(br[o], in_scale * op.w_scale[o], where));
      QuantizedMultiplier qm = quantize_multiplier(in_scale * op.w_scale[o] / out.scale);
      op.multiplier.push_back(qm.multiplier);
      op.shift.push_back(qm.shift);
    }
    h = op.out_h;
    w = op.out_w;
    c = op.out_c;
    in_scale = out.scale;
    in_offset.assign(c, -out.zero_point);
    q.extractor.push_back(std::move(op));
  }
  q.feat_h = h;
  q.feat_w = w;
  q.feat_c = c;
  q.split_k = m.split_k;
  q.feature_scale = in_scale;
  q.feature_zero_point = -in_offset[0];

  // Local head: GridAvgPool -> Dense -> (BatchNorm1d folded into the dense).
  const auto& H = m.local_head;
  size_t i = 0;
  if (i < H.size() && H[i].kind == FrozenLayerKind::GridAvgPool)
    q.grid = H[i++].grid;
  else
    throw Error("frozen model: local_head[0] must be grid_avg_pool for the MCU path");
  if (i >= H.size() || H[i].kind != FrozenLayerKind::Dense)
    throw Error("frozen model: local_head[1] must be dense for the MCU path");
  const FrozenLayer& D = H[i++];
  std::vector<double> wr(D.weight.begin(), D.weight.end());
  std::vector<double> br(D.cout, 0.0);
  for (int o = 0; o < D.cout; ++o) br[o] = D.bias.empty() ? 0.0 : D.bias[o];
  if (i < H.size() && H[i].kind == FrozenLayerKind::BatchNorm) {
    const FrozenLayer& bn = H[i++];
    for (int o = 0; o < D.cout; ++o) {
      double a = bn.gamma[o] / std::sqrt(double(bn.running_var[o]) + bn.eps);
      br[o] = (br[o] - bn.running_mean[o]) * a + bn.beta[o];
      for (size_t j = o; j < wr.size(); j += D.cout) wr[j] *= a;
    }
  }
  if (i != H.size())
    throw Error("frozen model: local_head[" + std::to_string(i) +
                "]: unexpected layer after the dense/batch_norm for the MCU path");
  Int8Dense& d = q.dense;
  d.in = D.cin;
  d.out = D.cout;
  d.input_offset = -q.feature_zero_point;
  double wmax = 0;
  for (double v : wr) wmax = std::max(wmax, std::fabs(v));
  d.w_scale = wmax > 0 ? wmax / 127.0 : 1.0;
  d.logit_scale = q.feature_scale * d.w_scale;
  for (double v : wr)
    d.weight.push_back(int8_t(std::clamp(std::lround(v / d.w_scale), -127L, 127L)));
  for (double b : br)
    d.bias.push_back(quantize_bias(b, d.logit_scale, "frozen model: local_head dense"));

  q.centroids = m.centroids;
  q.quantizer = make_int8_quantizer(m.centroids, q.feature_scale, q.feature_zero_point);
  q.num_classes = m.num_classes;
  return q;
}

}  // namespace agilenn::mcu
