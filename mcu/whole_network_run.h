// Runs the whole-network int8 layer graph of mcu/whole_network_plan.h as C (plain-loop kernels in
// mcu/c/agilenn_whole.c, one table of ops with the plan's arena offsets and seeded random
// parameters) on the host or on the Cortex-M7 under QEMU, to count its instructions per layer and
// to check the arena plan in execution: the logits with the planned (reused) buffers must equal
// those with every buffer in its own region. Not mcu/'s tuned kernels, not a trained model.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "mcu/whole_network_plan.h"

namespace agilenn::mcu {

struct WholeNetworkRun {
  std::vector<double> op_instructions;  // QEMU: per op, empty-call overhead subtracted
  double instructions = 0;              // their sum (one image)
  std::vector<int32_t> logits;
  size_t table_bytes = 0;   // QEMU: the generated parameter arrays in the ELF (nm sizes)
  size_t kernel_bytes = 0;  // QEMU: agilenn_whole.c's code kept in the ELF
  size_t arena_bytes = 0;   // the arena the program was built with
};

// Writes agilenn_whole_graph.c (+ the kernel sources) for `plan` into `dir`. separate_buffers:
// each buffer at its own offset (no reuse), else the plan's offsets.
void write_whole_network_sources(const WholeNetworkPlan& plan, const std::string& dir,
                                 uint64_t seed, bool separate_buffers);
WholeNetworkRun run_whole_network_on_host(const WholeNetworkPlan& plan, const std::string& dir,
                                          uint64_t seed, bool separate_buffers,
                                          const std::string& cc = "cc");
WholeNetworkRun run_whole_network_on_qemu(const WholeNetworkPlan& plan, const std::string& dir,
                                          uint64_t seed, int timeout_seconds = 300);

}  // namespace agilenn::mcu
