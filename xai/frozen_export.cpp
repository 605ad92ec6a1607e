#include "xai/frozen_export.h"

#include <algorithm>
#include <numeric>

#include "nn/io/error.h"

namespace agilenn::xai {

namespace {

std::vector<float> floats(const Tensor& t) {
  std::vector<double> d = t.to_vector();
  return std::vector<float>(d.begin(), d.end());
}

template <typename T>
const T& module_as(const std::shared_ptr<nn::Module>& m, const std::string& where) {
  auto p = std::dynamic_pointer_cast<T>(m);
  if (!p) throw error_at(where, "unexpected layer type for the frozen export");
  return *p;
}

// Appends the conv as a frozen DepthwiseConv or Conv; (h, w, c) is its input, updated to its
// output. `depthwise`: the conv is a separable conv's depthwise half (with one input channel its
// groups is 1, indistinguishable from a plain conv by the spec alone; the MCU path needs it
// depthwise).
void add_conv(const nn::Conv2d& conv, bool depthwise, int& h, int& w, int& c,
              std::vector<FrozenLayer>& out, const std::string& where) {
  const nn::ConvSpec& s = conv.spec();
  if (!s.same) throw error_at(where, "only 'same' padding is supported");
  if (s.in != c) throw error_at(where, "input channels do not match the previous layer");
  FrozenLayer l;
  l.kh = l.kw = s.kernel;
  l.stride = s.stride;
  l.pad_top = same_pad_before(h, s.kernel, s.stride);
  l.pad_left = same_pad_before(w, s.kernel, s.stride);
  l.cin = s.in;
  l.cout = s.out;
  if (s.groups == s.in && s.out % s.in == 0 && (depthwise || s.groups > 1)) {
    l.kind = FrozenLayerKind::DepthwiseConv;
    l.mult = s.out / s.in;
  } else if (s.groups == 1) {
    l.kind = FrozenLayerKind::Conv;
  } else {
    throw error_at(where, "grouped convs other than depthwise are not supported");
  }
  // HWIO (k, k, in/groups, out): for depthwise, out = ci * mult + m, the frozen (KH, KW, C, mult).
  l.weight = floats(conv.weight);
  if (s.bias) l.bias = floats(conv.bias);
  out.push_back(std::move(l));
  h = (h + s.stride - 1) / s.stride;
  w = (w + s.stride - 1) / s.stride;
  c = s.out;
}

FrozenLayer frozen_bn(const nn::BatchNorm& bn) {
  FrozenLayer l;
  l.kind = FrozenLayerKind::BatchNorm;
  l.gamma = floats(bn.gamma);
  l.beta = floats(bn.beta);
  l.running_mean = floats(bn.running_mean);
  l.running_var = floats(bn.running_var);
  l.eps = float(bn.eps);
  return l;
}

}  // namespace

FrozenExport freeze_split_model(const SplitModel& model, const std::vector<float>& mean,
                                const std::vector<float>& std) {
  const SplitConfig& cfg = model.config();
  if (cfg.unsplit) throw Error("frozen export: the unsplit model has no device part");
  FrozenExport e;
  FrozenModel& m = e.model;
  m.in_h = cfg.height;
  m.in_w = cfg.width;
  m.in_c = cfg.in_channels;
  m.input_mean = mean;
  m.input_std = std;
  m.num_classes = cfg.num_classes;
  m.split_k = cfg.k();
  int h = m.in_h, w = m.in_w, c = m.in_c;
  const nn::Sequential& ext = *model.extractor;
  for (size_t i = 0; i < ext.size(); ++i) {
    std::string where = "frozen export: extractor." + std::to_string(i);
    const auto& layer = ext[i];
    if (auto sep = std::dynamic_pointer_cast<nn::SeparableConv2d>(layer)) {
      add_conv(*sep->depthwise, true, h, w, c, m.extractor, where + ".depthwise");
      add_conv(*sep->pointwise, false, h, w, c, m.extractor, where + ".pointwise");
    } else if (auto conv = std::dynamic_pointer_cast<nn::Conv2d>(layer)) {
      add_conv(*conv, false, h, w, c, m.extractor, where);
    } else if (auto bn = std::dynamic_pointer_cast<nn::BatchNorm>(layer)) {
      m.extractor.push_back(frozen_bn(*bn));
    } else if (std::dynamic_pointer_cast<nn::ReLU6>(layer)) {
      FrozenLayer l;
      l.kind = FrozenLayerKind::Relu6;
      m.extractor.push_back(l);
    } else {
      throw error_at(where, "unsupported layer for the frozen export");
    }
  }
  const nn::Sequential& head = *model.local_head;
  for (size_t i = 0; i < head.size(); ++i) {
    std::string where = "frozen export: local_head." + std::to_string(i);
    const auto& layer = head[i];
    if (auto grid = std::dynamic_pointer_cast<nn::GridAvgPool>(layer)) {
      FrozenLayer l;
      l.kind = FrozenLayerKind::GridAvgPool;
      l.grid = grid->grid;
      m.local_head.push_back(l);
    } else if (std::dynamic_pointer_cast<nn::GlobalAvgPool>(layer)) {
      FrozenLayer l;
      l.kind = FrozenLayerKind::GridAvgPool;
      l.grid = 1;  // (N, 1, 1, k) flattened is the (N, k) of global pooling
      m.local_head.push_back(l);
    } else if (auto lin = std::dynamic_pointer_cast<nn::Linear>(layer)) {
      FrozenLayer l;
      l.kind = FrozenLayerKind::Dense;
      l.cin = int(lin->weight.dim(0));
      l.cout = int(lin->weight.dim(1));
      l.weight = floats(lin->weight);  // (in, out)
      if (lin->bias.defined()) l.bias = floats(lin->bias);
      m.local_head.push_back(std::move(l));
    } else if (auto bn = std::dynamic_pointer_cast<nn::BatchNorm>(layer)) {
      m.local_head.push_back(frozen_bn(*bn));
    } else {
      throw error_at(where, "unsupported layer for the frozen export");
    }
  }
  std::vector<float> cents = floats(model.quantizer->centroids());
  e.sorted_to_original.resize(cents.size());
  std::iota(e.sorted_to_original.begin(), e.sorted_to_original.end(), 0);
  std::stable_sort(e.sorted_to_original.begin(), e.sorted_to_original.end(),
                   [&](int a, int b) { return cents[a] < cents[b]; });
  for (int j : e.sorted_to_original) m.centroids.push_back(cents[j]);
  m.validate();
  return e;
}

}  // namespace agilenn::xai
