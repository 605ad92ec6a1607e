// The int8 device path: Int8Device must give exactly what the MCU's fixed-point reference gives
// (local logits x logit_scale, indices, packet bytes), its packets must decode to its indices,
// and with the server unreachable every request must fall back to its int8 local head.
#include <boost/test/unit_test.hpp>

#include "codec/packet.h"
#include "mcu/export.h"
#include "mcu/images.h"
#include "mcu/reference.h"
#include "nn/io/error.h"
#include "runtime/client.h"
#include "runtime/device_compute.h"
#include "runtime/device_runner.h"

using namespace agilenn;
using namespace agilenn::runtime;

namespace {

std::shared_ptr<const mcu::ExportedModel> random_export() {
  mcu::ExportOptions o;
  o.random_model = true;
  o.seed = 7;
  o.local_head = "grid:2";
  o.calib_source = "random";
  o.calib_images = 16;
  o.codec_fit_images = 24;
  return std::make_shared<mcu::ExportedModel>(mcu::export_device_model(o));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(int8_device)

BOOST_AUTO_TEST_CASE(matches_the_fixed_point_reference_and_decodes) {
  auto e = random_export();
  Int8Device dev(std::shared_ptr<const mcu::Int8Model>(e, &e->int8));
  const mcu::Int8Model& q = e->int8;
  const size_t img = size_t(q.in_h) * q.in_w * q.in_c, n = 6;
  auto images = mcu::random_images(n, img, 99);
  std::vector<uint8_t> flat;
  for (auto& im : images) flat.insert(flat.end(), im.begin(), im.end());
  auto outs = dev.run(flat, n);
  BOOST_REQUIRE(outs.size() == n);
  BOOST_TEST(dev.name() == "int8");
  BOOST_TEST(dev.num_classes() == q.num_classes);
  for (size_t i = 0; i < n; ++i) {
    auto ref = mcu::reference_run(q, images[i]);
    BOOST_REQUIRE(outs[i].local_logits.size() == ref.local_logits.size());
    for (size_t c = 0; c < ref.local_logits.size(); ++c)
      BOOST_TEST(outs[i].local_logits[c] == q.dense.logit_scale * double(ref.local_logits[c]));
    BOOST_TEST(outs[i].indices == ref.indices);
    BOOST_TEST(outs[i].packet == ref.packet);
    BOOST_TEST(outs[i].indices.size() == dev.stream_shape().size());
    auto d = codec::decode_packet(outs[i].packet, q.codec);
    BOOST_TEST(d.indices == outs[i].indices);
    BOOST_TEST((d.header.shape == dev.stream_shape()));
  }
  // A wrong image size is refused, not read out of bounds.
  BOOST_CHECK_THROW(dev.run(std::span<const uint8_t>(flat.data(), img - 1), 1), Error);
}

BOOST_AUTO_TEST_CASE(needs_codec_tables) {
  auto e = random_export();
  auto bare = std::make_shared<mcu::Int8Model>(e->int8);
  bare->codec = codec::CodecTables{};
  BOOST_CHECK_THROW(Int8Device{bare}, Error);
}

BOOST_AUTO_TEST_CASE(server_unreachable_falls_back_to_the_int8_head) {
  auto e = random_export();
  Int8Device dev(std::shared_ptr<const mcu::Int8Model>(e, &e->int8));
  const size_t img = size_t(e->int8.in_h) * e->int8.in_w * e->int8.in_c, n = 20;
  std::vector<uint8_t> flat;
  for (auto& im : mcu::random_images(n, img, 5)) flat.insert(flat.end(), im.begin(), im.end());
  auto outs = dev.run(flat, n);
  std::vector<std::vector<uint8_t>> packets;
  std::vector<int32_t> labels, local_pred;
  for (auto& o : outs) {
    packets.push_back(o.packet);
    int32_t p = int32_t(std::max_element(o.local_logits.begin(), o.local_logits.end()) -
                        o.local_logits.begin());
    local_pred.push_back(p);
    labels.push_back(p);  // so the local head is "right" on every image
  }
  RefusingPort refused;
  DeviceRunOptions d;
  d.server = refused.endpoint();
  d.clients = 2;
  d.alpha = 0.5;
  // A slow link: had the unsent packets been charged to it, its backlog would turn later
  // requests into deadline misses instead of server-down fallbacks.
  d.link.bandwidth_bps = 20e3;
  d.deadline_ms = 100;
  auto r = run_devices(d, outs, packets, labels);
  BOOST_TEST(r.requests == n);
  BOOST_TEST(r.fallback_server_down == n);
  BOOST_TEST(r.answered == 0u);
  BOOST_TEST(r.correct == n);
  BOOST_TEST(r.predictions == local_pred);
}

BOOST_AUTO_TEST_SUITE_END()
