// C++ fixed-point reference of the quantized device graph (plain loops, unfused): the generated
// C must match it byte for byte (local logits and packet).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

#include "mcu/int8_model.h"

namespace agilenn::mcu {

// in (in_h, in_w, in_c) -> out (out_h, out_w, out_c). For the first op `in` holds uint8 pixels.
std::vector<int8_t> reference_conv(const Int8Conv& op, std::span<const uint8_t> pixels);
std::vector<int8_t> reference_conv(const Int8Conv& op, std::span<const int8_t> in);
// (h, w, c) -> (g, g, c); cells as adaptive_avg_pool2d, TFLite Micro's rounding:
// (sum +- count/2) / count with the sign of sum, truncating division.
std::vector<int8_t> reference_grid_avg_pool(std::span<const int8_t> in, int h, int w, int c, int g);
// (in) -> (out) int32 logits = bias + sum (x + input_offset) * w.
std::vector<int32_t> reference_dense(const Int8Dense& d, std::span<const int8_t> in);

struct ReferenceResult {
  std::vector<int8_t> features;       // (H, W, C) int8 feature map
  std::vector<int32_t> local_logits;  // (num_classes), scale = dense.logit_scale
  std::vector<uint8_t> indices;       // (H, W, C - k)
  std::vector<uint8_t> packet;
};
// with_packet: also encode the packet (needs the model's codec tables); empty otherwise.
ReferenceResult reference_run(const Int8Model& model, std::span<const uint8_t> image,
                              bool with_packet = true);

}  // namespace agilenn::mcu
