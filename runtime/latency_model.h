// The end-to-end latency model of one inference:
//   device compute = instructions per image / (MHz * 1e6)   (assumes 1 instruction per cycle: the
//                    instruction counts come from QEMU, which counts instructions, not cycles; the
//                    M7 dual-issues some pairs and flash wait states cost cycles, so this is an
//                    estimate, not a measurement on the board)
//   transmission   = packet bits / bandwidth + RTT
//   server         = measured (passed in)
#pragma once
#include <cstddef>
#include <optional>
#include <string>

#include "nn/io/json.h"

namespace agilenn::runtime {

struct LatencyBreakdown {
  std::optional<double> device_ms;      // nullopt: no instruction count available
  std::optional<double> compressor_ms;  // the encoder's share, when counted separately
  double transmission_ms = 0;
  double server_ms = 0;
  // nullopt when any needed part is unknown.
  std::optional<double> total_ms() const;
  Json to_json() const;
};

struct LatencyModel {
  double mcu_mhz = 216;
  double bandwidth_bps = 6e6;
  double rtt_ms = 0;

  double compute_ms(double instructions) const { return instructions / (mcu_mhz * 1e3); }
  double transmission_ms(size_t bytes) const {
    return double(bytes) * 8.0 / bandwidth_bps * 1e3 + rtt_ms;
  }
  LatencyBreakdown breakdown(std::optional<double> device_instructions,
                             std::optional<double> compressor_instructions, size_t bytes,
                             double server_ms) const;
};

}  // namespace agilenn::runtime
