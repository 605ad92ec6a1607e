// The whole unsplit network (extractor + stem-less MobileNetV2 remote predictor, or a split
// model run whole) described as the int8 layer graph mcu/ uses, without generating it: BN folded
// into each conv, per-channel int8 weights with an int32 bias, Q31 multiplier and shift per output
// channel, ReLU6 as the output clamp, the residual adds as their own ops (TFLite Micro's ADD),
// global average pooling and the final dense layer to int32 logits. Flash = the bytes those
// parameters take; SRAM = the activation arena laid out by mcu/planner (buffers reused, a
// residual block's input live until its add). bench-e2e's local-only row.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mcu/planner.h"
#include "xai/split_model.h"

namespace agilenn::mcu {

enum class PlanOpKind { Depthwise, Pointwise, Add, AvgPool, Dense };
const char* plan_op_kind_name(PlanOpKind kind);

struct PlanOp {
  std::string name;
  PlanOpKind kind = PlanOpKind::Pointwise;
  int in_h = 0, in_w = 0, in_c = 0, out_h = 0, out_w = 0, out_c = 0;
  int kernel = 1, stride = 1;
  int64_t macs = 0;         // multiply-accumulates (as ag::MacCounter counts conv and matmul)
  size_t param_bytes = 0;   // flash: int8 weights + int32 per-channel or scalar parameters
  std::vector<int> inputs;  // buffers read
  int output = -1;          // buffer written
};

struct WholeNetworkPlan {
  std::string description;
  std::vector<PlanOp> ops;
  std::vector<PlannedBuffer> buffers;  // [0] is the uint8 input image; offsets from plan_arena
  size_t arena_bytes = 0;              // plan_arena over `buffers`
  size_t largest_live_bytes = 0;       // max over ops of the bytes live at that op (<= arena)
  int64_t macs() const;
  size_t param_bytes() const;
  int layers() const { return int(ops.size()); }
};

// Throws agilenn::Error for a configuration the int8 graph cannot describe.
WholeNetworkPlan plan_whole_network(const xai::SplitConfig& cfg);

}  // namespace agilenn::mcu
