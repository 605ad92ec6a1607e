#include "runtime/latency_model.h"

namespace agilenn::runtime {

std::optional<double> LatencyBreakdown::total_ms() const {
  if (!device_ms) return std::nullopt;
  return *device_ms + compressor_ms.value_or(0) + transmission_ms + server_ms;
}

Json LatencyBreakdown::to_json() const {
  Json j;
  j["device_ms"] = device_ms ? Json(*device_ms) : Json();
  j["compressor_ms"] = compressor_ms ? Json(*compressor_ms) : Json();
  j["transmission_ms"] = transmission_ms;
  j["server_ms"] = server_ms;
  auto t = total_ms();
  j["total_ms"] = t ? Json(*t) : Json();
  return j;
}

LatencyBreakdown LatencyModel::breakdown(std::optional<double> device_instructions,
                                         std::optional<double> compressor_instructions,
                                         size_t bytes, double server_ms) const {
  LatencyBreakdown b;
  if (device_instructions) b.device_ms = compute_ms(*device_instructions);
  if (compressor_instructions) b.compressor_ms = compute_ms(*compressor_instructions);
  b.transmission_ms = bytes ? transmission_ms(bytes) : 0.0;
  b.server_ms = server_ms;
  return b;
}

}  // namespace agilenn::runtime
