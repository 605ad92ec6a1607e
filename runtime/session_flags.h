// The flags serve, device and bench-e2e share, defined and read in one place so the three
// commands cannot drift apart (the codec tables and the int8 export must be built the same way
// on both ends of the link).
#pragma once
#include <cxxopts.hpp>
#include <string>

#include "runtime/model_session.h"

namespace agilenn::runtime {

// --model --dataset --data-dir --calib-images --fit-images (all three commands).
void add_model_flags(cxxopts::Options& opts);
// --device-path --limit --mcu-summary --rtt-ms (the commands that run the device half).
void add_device_flags(cxxopts::Options& opts);

// The session options from those flags; `device_flags` says whether add_device_flags was used
// (else the server's defaults: no device, no test split). Throws naming the flag on bad values.
SessionOptions session_options(const cxxopts::ParseResult& r, bool device_flags);

struct DeviceFlags {
  std::string mcu_summary;
  double rtt_ms = 0;
};
DeviceFlags device_flags(const cxxopts::ParseResult& r);

}  // namespace agilenn::runtime
