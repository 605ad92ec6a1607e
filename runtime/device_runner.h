// The device clients: each client thread owns a connection (device id = client index) and sends
// its share of the images one at a time (closed loop), through a simulated link.
//
// Time: the radio is *simulated* (runtime/link_emulator.h): uplink and downlink times come from
// the token bucket + RTT/2 + loss, not from sleeps; the loopback round trip to the server
// (decode + batching + inference) is *measured*; the device compute is *modelled* from the MCU
// instruction count at --mcu-mhz (0 when no count is given, said in the summary). The modelled
// latency of a request = device + uplink + measured server round trip + downlink. The device
// waits for the answer in real time only for what is left of the deadline after the modelled
// parts; when the answer misses it, the packet is lost, the server is down or answers an error,
// the device uses its local logits alone (a fallback, counted by reason) and reconnects later.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nn/io/json.h"
#include "runtime/client.h"
#include "runtime/device_compute.h"
#include "runtime/link_emulator.h"

namespace agilenn::runtime {

struct DeviceRunOptions {
  Endpoint server;
  LinkConfig link;
  double mcu_mhz = 216;
  std::optional<double> device_instructions;  // per image; nullopt: device compute not modelled
  double deadline_ms = 100;
  double alpha = 0.5;  // combined = alpha local + (1 - alpha) remote
  int clients = 1;
  double interval_ms = 0;     // a client starts its requests at least this far apart (frame period)
  double reconnect_ms = 250;  // at most one reconnect attempt per client per this interval
  uint32_t first_device_id = 0;
};

struct DeviceRunResult {
  size_t requests = 0, correct = 0, answered = 0, mismatched = 0;
  size_t fallback_deadline = 0, fallback_lost = 0, fallback_server_down = 0, fallback_error = 0;
  size_t reconnects = 0;
  std::vector<double> latency_ms;     // modelled per request
  std::vector<double> server_rtt_ms;  // measured loopback round trips of answered requests
  std::vector<int32_t> predictions;
  size_t fallbacks() const {
    return fallback_deadline + fallback_lost + fallback_server_down + fallback_error;
  }
  Json to_json() const;
};

// outputs[i], packets[i], labels[i] per image (the device half already run).
DeviceRunResult run_devices(const DeviceRunOptions& opts, const std::vector<DeviceOutput>& outputs,
                            const std::vector<std::vector<uint8_t>>& packets,
                            const std::vector<int32_t>& labels);

double percentile_ms(std::vector<double> v, double p);

}  // namespace agilenn::runtime
