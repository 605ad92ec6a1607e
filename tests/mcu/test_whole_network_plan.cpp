// The whole network as an int8 layer graph (bench-e2e's local-only row): its MACs equal the float
// model's (ag::MacCounter over extract + local head + remote), its layer count follows the
// MobileNetV2 block table, and the planned arena holds every live set without overlap.
#include <boost/test/unit_test.hpp>

#include <map>

#include "autograd/graph.h"
#include "mcu/whole_network_plan.h"
#include "nn/io/error.h"
#include "xai/preset.h"

using namespace agilenn;
using namespace agilenn::mcu;

namespace {

int64_t float_model_macs(const xai::SplitConfig& cfg) {
  Rng rng(5);
  xai::SplitModel m(cfg, rng);
  ag::NoGradGuard ng;
  m.eval();
  ag::MacCounter c;
  auto f = m.extract(ag::Tensor::zeros(ag::Shape{1, cfg.height, cfg.width, cfg.in_channels}));
  if (!cfg.unsplit) m.local_predict(f);
  m.remote_predict(f);
  return c.macs();
}

// Expected op count: 4 extractor convs; per block expand (t > 1), depthwise, project, add
// (stride 1, in == out); last 1x1, pool, dense; the split model adds pool + dense.
int expected_layers(const xai::SplitConfig& cfg) {
  int n = 4 + 3 + (cfg.unsplit ? 0 : 2);
  int ch = cfg.unsplit ? cfg.features : cfg.features - cfg.k();
  for (const auto& [t, c, reps, s] : cfg.remote.blocks) {
    const int out = nn::make_divisible(c * cfg.remote.width);
    for (int i = 0; i < reps; ++i) {
      n += (t != 1) + 2 + ((i == 0 ? s : 1) == 1 && ch == out);
      ch = out;
    }
  }
  return n;
}

void check_plan(const xai::SplitConfig& cfg) {
  WholeNetworkPlan plan = plan_whole_network(cfg);
  BOOST_TEST(plan.layers() == expected_layers(cfg));
  BOOST_TEST(plan.macs() == float_model_macs(cfg));
  BOOST_TEST(plan.arena_bytes >= plan.largest_live_bytes);
  BOOST_TEST(!live_buffers_overlap(plan.buffers));
  // Every op's input and output are live together, and a residual block's input is live until
  // its add: the add reads two buffers written by different earlier ops.
  std::map<int, int> writer;
  for (size_t i = 0; i < plan.ops.size(); ++i) {
    const auto& op = plan.ops[i];
    BOOST_REQUIRE_GE(op.output, 0);
    const auto& out = plan.buffers[size_t(op.output)];
    BOOST_TEST(out.first_op == int(i));
    for (int in : op.inputs) {
      const auto& b = plan.buffers[size_t(in)];
      BOOST_TEST(b.first_op <= int(i));
      BOOST_TEST(b.last_op >= int(i));
      const bool disjoint = b.offset + b.size <= out.offset || out.offset + out.size <= b.offset;
      BOOST_TEST(disjoint, op.name << " reads a buffer that shares bytes with its output");
    }
    if (op.kind == PlanOpKind::Add) BOOST_TEST(op.inputs.size() == 2u);
    writer[op.output] = int(i);
  }
  // The largest pair of one op's input and output is a lower bound of the arena.
  size_t pair = 0;
  for (const auto& op : plan.ops) {
    size_t bytes = plan.buffers[size_t(op.output)].size;
    for (int in : op.inputs) bytes += plan.buffers[size_t(in)].size;
    pair = std::max(pair, bytes);
  }
  BOOST_TEST(plan.largest_live_bytes >= pair);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(whole_network_plan)

BOOST_AUTO_TEST_CASE(fashion_preset_unsplit_matches_the_float_model) {
  xai::SplitConfig cfg = xai::get_preset("fashion-mnist").split;
  cfg.unsplit = true;
  check_plan(cfg);
}

BOOST_AUTO_TEST_CASE(split_model_run_whole_and_a_wider_remote_match_too) {
  xai::SplitConfig cfg = xai::get_preset("fashion-mnist").split;
  check_plan(cfg);  // grid:4 local head + remote on F - k channels
  cfg.unsplit = true;
  cfg.remote.width = 1.4;
  check_plan(cfg);
  xai::SplitConfig tiny = xai::get_preset("tiny").split;
  tiny.local_head = "gap";
  check_plan(tiny);
}

BOOST_AUTO_TEST_CASE(flash_counts_int8_weights_and_per_channel_parameters) {
  xai::SplitConfig cfg = xai::get_preset("tiny").split;
  cfg.unsplit = true;
  cfg.remote.blocks = {{1, 8, 1, 1}};
  cfg.remote.last_channels = 16;
  WholeNetworkPlan plan = plan_whole_network(cfg);
  // dw 3x3 on 1 ch, pw 1->4, dw 4, pw 4->24 | dw 24, pw 24->8 | pw 8->16, pool, dense 16->10.
  const size_t expected = (9 + 12) + (4 + 4 * 12) + (36 + 4 * 12) + (96 + 24 * 12) +
                          (216 + 24 * 12) + (192 + 8 * 12) + (128 + 16 * 12) + 8 + (160 + 40);
  BOOST_TEST(plan.param_bytes() == expected);
  BOOST_TEST(plan.layers() == 9);
}

BOOST_AUTO_TEST_CASE(bad_config_is_an_error) {
  xai::SplitConfig cfg = xai::get_preset("tiny").split;
  cfg.local_head = "grid:x";
  BOOST_CHECK_THROW(plan_whole_network(cfg), agilenn::Error);
}

BOOST_AUTO_TEST_SUITE_END()
