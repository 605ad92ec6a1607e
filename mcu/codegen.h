// C99 bundle generator for the int8 device graph:
//   agilenn_model.h    the API (agilenn_run, agilenn_local_argmax, agilenn_combine_argmax)
//   agilenn_kernels.h  kernel parameter structs and prototypes (mcu/c/agilenn_kernels.h)
//   agilenn_model.c    the kernels (mcu/c/agilenn_kernels.c) + agilenn_run over a static arena
//   agilenn_weights.c  const weights and layer parameters (flash)
//   README.md          how to add the bundle to an STM32CubeIDE project
// The arena offsets come from plan_arena; the extractor's last pointwise conv is fused with the
// split, the quantizer and the encoder, so the full C-channel feature map is never stored.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "mcu/int8_model.h"
#include "mcu/planner.h"
#include "nn/io/json.h"

namespace agilenn::mcu {

struct StageInfo {
  std::string name;  // e.g. "extractor.0 depthwise 3x3 s2"
  std::string
      kind;  // depthwise | pointwise | pointwise+split+quantize+encode | grid_avg_pool | dense
  int64_t macs = 0;  // multiply-accumulates per image (pool: 0, see `adds`)
  int64_t adds = 0;  // pooling additions per image
  size_t weight_bytes = 0;
  std::string out_shape;
};

struct Bundle {
  std::map<std::string, std::string> files;  // file name -> contents
  std::vector<PlannedBuffer> buffers;
  std::vector<StageInfo> stages;  // in execution order; agilenn_run marks the start of each
  size_t arena_bytes = 0;
  size_t weight_bytes = 0;  // const arrays + parameter structs
  size_t packet_max_bytes = 0;
  size_t input_bytes = 0;
  int num_classes = 0;
  double logit_scale = 1;
  int64_t macs_per_image() const;
};

Bundle generate_bundle(const Int8Model& model);
// Writes every file of the bundle into `dir` (created if missing), atomically per file.
void write_bundle(const Bundle& bundle, const std::string& dir);

// Text of a C source embedded from mcu/c at build time (kernels, QEMU startup, test main).
const char* embedded_c_source(const std::string& name);

}  // namespace agilenn::mcu
