// Accuracy of the full AgileNN pipeline with the int8 device part, against the float model:
//   device: int8 local logits and the packet (C++ fixed-point reference = the generated C)
//   server: codec::decode_packet -> centroid values -> float remote predictor -> remote logits
//   device: alpha * logit_scale * local + (1 - alpha) * remote (or the plain sum) -> argmax
// Every packet must decode to exactly the device's indices (counted in decode_mismatches).
#pragma once
#include <cstddef>

#include "mcu/export.h"
#include "nn/data/dataset.h"

namespace agilenn::mcu {

struct PipelineAccuracy {
  size_t images = 0;
  double float_accuracy = 0, float_local_accuracy = 0;
  double int8_accuracy = 0, int8_local_accuracy = 0;
  double alpha = 1;  // weight of the local logits (1 with the sum combiner, which adds both)
  size_t decode_mismatches = 0;  // packets whose decoded indices differ from the device's
  double mean_packet_bytes = 0;
  size_t context_packets = 0;  // packets coded with the context coder (the rest: packed bits)
};

// `exported` must come from a trained model (exported.trained set).
PipelineAccuracy pipeline_accuracy(const ExportedModel& exported, const data::Dataset& test,
                                   size_t batch_size = 200);

}  // namespace agilenn::mcu
