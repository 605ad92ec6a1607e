// What the edge server runs, separate from the networking: `prepare` checks and decodes one
// codec packet into the remote predictor's input (called on the I/O thread, throws
// agilenn::Error for a bad packet), `infer` runs a batch of prepared inputs (called on the one
// inference thread). Tests plug in a small deterministic backend; `agilenn serve` plugs in the
// model (runtime/model_backend.h).
#pragma once
#include <cstdint>
#include <span>
#include <vector>

namespace agilenn::runtime {

class RemoteBackend {
 public:
  virtual ~RemoteBackend() = default;
  virtual size_t input_size() const = 0;  // floats per prepared request
  virtual int num_classes() const = 0;
  virtual std::vector<float> prepare(std::span<const uint8_t> packet) const = 0;
  // inputs: n * input_size() floats; returns n * num_classes() logits.
  virtual std::vector<float> infer(const std::vector<float>& inputs, size_t n) = 0;
};

}  // namespace agilenn::runtime
