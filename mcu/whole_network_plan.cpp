#include "mcu/whole_network_plan.h"

#include <algorithm>

#include "nn/io/error.h"

namespace agilenn::mcu {

const char* plan_op_kind_name(PlanOpKind kind) {
  switch (kind) {
    case PlanOpKind::Depthwise:
      return "depthwise";
    case PlanOpKind::Pointwise:
      return "pointwise";
    case PlanOpKind::Add:
      return "add";
    case PlanOpKind::AvgPool:
      return "avgpool";
    case PlanOpKind::Dense:
      return "dense";
  }
  return "?";
}

int64_t WholeNetworkPlan::macs() const {
  int64_t m = 0;
  for (const auto& op : ops) m += op.macs;
  return m;
}

size_t WholeNetworkPlan::param_bytes() const {
  size_t b = 0;
  for (const auto& op : ops) b += op.param_bytes;
  return b;
}

namespace {

// Per output channel of a conv: int32 bias, Q31 multiplier and shift (mcu/codegen's layout).
constexpr size_t kPerChannelBytes = 3 * sizeof(int32_t);
// TFLite Micro's int8 ADD: two input and one output multiplier/shift pairs (int32 each).
constexpr size_t kAddBytes = 6 * sizeof(int32_t);
// Average pooling: one requantization multiplier/shift pair.
constexpr size_t kPoolBytes = 2 * sizeof(int32_t);

struct Builder {
  WholeNetworkPlan plan;
  struct Map {
    int h, w, c, buffer;
  };

  int new_buffer(const std::string& name, size_t bytes) {
    plan.buffers.push_back(PlannedBuffer{name, bytes, int(plan.ops.size()), int(plan.ops.size())});
    return int(plan.buffers.size()) - 1;
  }
  // Appends `op` reading `inputs` and writing a new buffer of `out_bytes`; returns its map.
  Map add(PlanOp op, std::vector<int> inputs, size_t out_bytes) {
    const int index = int(plan.ops.size());
    for (int b : inputs) plan.buffers[size_t(b)].last_op = index;
    op.inputs = std::move(inputs);
    op.output = new_buffer(op.name, out_bytes);
    plan.ops.push_back(op);
    return Map{op.out_h, op.out_w, op.out_c, op.output};
  }
  Map depthwise(const std::string& name, const Map& in, int stride) {
    PlanOp op;
    op.name = name;
    op.kind = PlanOpKind::Depthwise;
    op.in_h = in.h, op.in_w = in.w, op.in_c = in.c;
    op.kernel = 3, op.stride = stride;
    op.out_h = (in.h + stride - 1) / stride, op.out_w = (in.w + stride - 1) / stride;
    op.out_c = in.c;
    op.macs = int64_t(op.out_h) * op.out_w * op.out_c * 9;
    op.param_bytes = size_t(9) * size_t(op.out_c) + kPerChannelBytes * size_t(op.out_c);
    return add(op, {in.buffer}, size_t(op.out_h) * op.out_w * op.out_c);
  }
  Map pointwise(const std::string& name, const Map& in, int out_c) {
    PlanOp op;
    op.name = name;
    op.kind = PlanOpKind::Pointwise;
    op.in_h = op.out_h = in.h, op.in_w = op.out_w = in.w, op.in_c = in.c, op.out_c = out_c;
    op.macs = int64_t(in.h) * in.w * in.c * out_c;
    op.param_bytes = size_t(in.c) * size_t(out_c) + kPerChannelBytes * size_t(out_c);
    return add(op, {in.buffer}, size_t(in.h) * in.w * out_c);
  }
  Map residual_add(const std::string& name, const Map& x, const Map& y) {
    PlanOp op;
    op.name = name;
    op.kind = PlanOpKind::Add;
    op.in_h = op.out_h = y.h, op.in_w = op.out_w = y.w, op.in_c = op.out_c = y.c;
    op.param_bytes = kAddBytes;
    return add(op, {x.buffer, y.buffer}, size_t(y.h) * y.w * y.c);
  }
  // Pools channels [0, channels) of `in` (the local head reads the first k of the features).
  Map avg_pool(const std::string& name, const Map& in, int grid, int channels) {
    PlanOp op;
    op.name = name;
    op.kind = PlanOpKind::AvgPool;
    op.in_h = in.h, op.in_w = in.w, op.in_c = channels;
    op.out_h = op.out_w = grid, op.out_c = channels;
    op.param_bytes = kPoolBytes;
    return add(op, {in.buffer}, size_t(grid) * grid * channels);
  }
  // Dense to int32 logits: int8 weights and an int32 bias (one weight scale, as mcu/'s head).
  Map dense(const std::string& name, const Map& in, int in_features, int out) {
    PlanOp op;
    op.name = name;
    op.kind = PlanOpKind::Dense;
    op.in_h = op.in_w = op.out_h = op.out_w = 1, op.in_c = in_features, op.out_c = out;
    op.macs = int64_t(in_features) * out;
    op.param_bytes = size_t(in_features) * size_t(out) + sizeof(int32_t) * size_t(out);
    return add(op, {in.buffer}, sizeof(int32_t) * size_t(out));
  }
};

}  // namespace

WholeNetworkPlan plan_whole_network(const xai::SplitConfig& cfg) {
  cfg.validate("whole-network plan");
  const nn::MobileNetV2Config& rc = cfg.remote;
  if (rc.width <= 0) throw Error("whole-network plan: remote width must be > 0");
  Builder b;
  Builder::Map x{cfg.height, cfg.width, cfg.in_channels, 0};
  b.plan.buffers.push_back(
      PlannedBuffer{"image (uint8)", size_t(cfg.height) * cfg.width * cfg.in_channels, 0, 0});
  // Extractor: SepConv(3x3 dw stride s, pw -> hidden) -> ReLU6 -> SepConv(3x3 dw, pw -> F) ->
  // ReLU6.
  x = b.depthwise("extractor.0.depthwise", x, cfg.stride);
  x = b.pointwise("extractor.0.pointwise", x, cfg.extractor_hidden);
  x = b.depthwise("extractor.1.depthwise", x, 1);
  x = b.pointwise("extractor.1.pointwise", x, cfg.features);
  const Builder::Map features = x;
  const int k = cfg.k();
  if (!cfg.unsplit) {  // the local head on channels [0, k) of the feature map
    const int g = std::max(cfg.grid(), 1);
    Builder::Map pooled = b.avg_pool("local_head.pool", features, g, k);
    b.dense("local_head.dense", pooled, k * g * g, cfg.num_classes);
  }
  // Remote predictor: stem-less MobileNetV2 on the remote channels (all F when unsplit).
  x.c = cfg.unsplit ? cfg.features : cfg.features - k;
  int block = 0;
  for (const auto& [t, c, n, s] : rc.blocks) {
    const int out = nn::make_divisible(c * rc.width);
    for (int i = 0; i < n; ++i, ++block) {
      const std::string p = "remote.block" + std::to_string(block);
      const int stride = i == 0 ? s : 1;
      const Builder::Map in = x;
      Builder::Map h = in;
      if (t != 1) h = b.pointwise(p + ".expand", h, in.c * t);
      h = b.depthwise(p + ".depthwise", h, stride);
      h = b.pointwise(p + ".project", h, out);
      x = stride == 1 && in.c == out ? b.residual_add(p + ".add", in, h) : h;
    }
  }
  const int last =
      rc.width > 1.0 ? nn::make_divisible(rc.last_channels * rc.width) : rc.last_channels;
  x = b.pointwise("remote.last", x, last);
  x = b.avg_pool("remote.pool", x, 1, last);
  b.dense("remote.dense", x, last, cfg.num_classes);

  WholeNetworkPlan& plan = b.plan;
  plan.description = std::string(cfg.unsplit ? "unsplit network" : "split model run whole") +
                     ": extractor (" + std::to_string(cfg.features) + " channels) + " +
                     (cfg.unsplit ? "" : "local head + ") + "stem-less MobileNetV2 on " +
                     std::to_string(cfg.unsplit ? cfg.features : cfg.features - k) + " channels";
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    size_t live = 0;
    for (const auto& buf : plan.buffers)
      if (buf.first_op <= int(i) && int(i) <= buf.last_op) live += buf.size;
    plan.largest_live_bytes = std::max(plan.largest_live_bytes, live);
  }
  plan.arena_bytes = plan_arena(plan.buffers);
  if (live_buffers_overlap(plan.buffers))
    throw Error("whole-network plan: the planner overlapped two live buffers");
  return plan;
}

}  // namespace agilenn::mcu
