// The whole-network layer table run as C: with the planned arena (buffers reused) it must compute
// the same logits as with every buffer in its own region (host), and the same on the Cortex-M7
// under QEMU, where its instructions are counted and its parameter tables weighed.
#include <boost/test/unit_test.hpp>

#include "mcu/device_harness.h"
#include "mcu/whole_network_run.h"
#include "xai/preset.h"

using namespace agilenn;
using namespace agilenn::mcu;

namespace {
std::string work_dir(const std::string& name) {
  return std::string(AGILENN_BINARY_DIR) + "/test_work/whole_network/" + name;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(whole_network_run)

BOOST_AUTO_TEST_CASE(planned_arena_computes_what_separate_buffers_compute) {
  for (const char* preset : {"tiny", "fashion-mnist"}) {
    xai::SplitConfig cfg = xai::get_preset(preset).split;
    cfg.unsplit = true;
    WholeNetworkPlan plan = plan_whole_network(cfg);
    auto planned =
        run_whole_network_on_host(plan, work_dir(std::string(preset) + "_arena"), 3, false);
    auto separate =
        run_whole_network_on_host(plan, work_dir(std::string(preset) + "_separate"), 3, true);
    BOOST_REQUIRE_EQUAL(planned.logits.size(), size_t(cfg.num_classes));
    BOOST_TEST(planned.logits == separate.logits);
    // Not a constant network: another seed gives other logits.
    auto other = run_whole_network_on_host(plan, work_dir(std::string(preset) + "_seed"), 4, false);
    BOOST_TEST(other.logits != planned.logits);
  }
}

BOOST_AUTO_TEST_CASE(cortex_m7_run_matches_the_host_and_weighs_the_tables) {
  for (const char* tool : {"arm-none-eabi-gcc", "qemu-system-arm"})
    if (!tool_missing_reason(tool).empty()) {
      BOOST_TEST_MESSAGE("skipped: " << tool_missing_reason(tool));
      return;
    }
  xai::SplitConfig cfg = xai::get_preset("tiny").split;
  cfg.unsplit = true;
  WholeNetworkPlan plan = plan_whole_network(cfg);
  auto host = run_whole_network_on_host(plan, work_dir("tiny_host"), 5, false);
  auto m7 = run_whole_network_on_qemu(plan, work_dir("tiny_qemu"), 5);
  BOOST_TEST(m7.logits == host.logits);
  BOOST_REQUIRE_EQUAL(m7.op_instructions.size(), plan.ops.size());
  BOOST_TEST(m7.instructions > double(plan.macs()));  // at least one instruction per MAC
  BOOST_TEST(m7.arena_bytes == plan.arena_bytes);
  // The parameter arrays as built: the plan's bytes plus the op table (and the image).
  BOOST_TEST(m7.table_bytes >= plan.param_bytes());
  BOOST_TEST(m7.table_bytes < plan.param_bytes() + 200 * plan.ops.size() + plan.buffers[0].size);
}

BOOST_AUTO_TEST_SUITE_END()
