// The fixed-point reference pieces: grid pooling, the int8 quantizer, the planner, the packet,
// the frozen model checks, and int8-vs-float agreement of the whole device graph.
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "codec/packet.h"
#include "mcu/int8_model.h"
#include "mcu/packet_encoder.h"
#include "mcu/planner.h"
#include "mcu/reference.h"
#include "nn/io/error.h"
#include "nn/io/frozen_model.h"

using namespace agilenn;
using namespace agilenn::mcu;

namespace {
std::vector<std::vector<uint8_t>> random_images(int n, size_t size, uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::vector<uint8_t>> out(n, std::vector<uint8_t>(size));
  for (auto& im : out)
    for (auto& p : im) p = uint8_t(rng() & 255);
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(reference)

BOOST_AUTO_TEST_CASE(grid_pool_cells_and_rounding_when_g_does_not_divide) {
  // 5 x 7 map, 1 channel, G = 3. Rows: [0,2) [1,4) [3,5); cols: [0,3) [2,5) [4,7).
  int h = 5, w = 7, g = 3;
  std::vector<int8_t> in(h * w);
  for (int i = 0; i < h * w; ++i) in[i] = int8_t(i * 7 % 23 - 11);
  auto out = reference_grid_avg_pool(in, h, w, 1, g);
  BOOST_REQUIRE_EQUAL(out.size(), 9u);
  const int rows[3][2] = {{0, 2}, {1, 4}, {3, 5}}, cols[3][2] = {{0, 3}, {2, 5}, {4, 7}};
  for (int gy = 0; gy < 3; ++gy)
    for (int gx = 0; gx < 3; ++gx) {
      int sum = 0, n = 0;
      for (int y = rows[gy][0]; y < rows[gy][1]; ++y)
        for (int x = cols[gx][0]; x < cols[gx][1]; ++x) sum += in[y * w + x], ++n;
      // TFLite Micro: round half away from zero.
      int expect = int(std::lround(double(sum) / n));
      if (std::fabs(double(sum) / n - std::trunc(double(sum) / n)) == 0.5)
        expect = sum > 0 ? (sum + n / 2) / n : (sum - n / 2) / n;
      BOOST_CHECK_EQUAL(int(out[gy * 3 + gx]), expect);
    }
  // Known rounding: cell of count 6 with sum -3 gives -1 (half away from zero), sum 3 gives 1.
  std::vector<int8_t> two(6, 0);
  two[0] = -3;
  BOOST_CHECK_EQUAL(int(reference_grid_avg_pool(two, 2, 3, 1, 1)[0]), -1);
  two[0] = 3;
  BOOST_CHECK_EQUAL(int(reference_grid_avg_pool(two, 2, 3, 1, 1)[0]), 1);
  two[0] = 2;
  BOOST_CHECK_EQUAL(int(reference_grid_avg_pool(two, 2, 3, 1, 1)[0]), 0);
  // The float reference uses the same cells: a constant map stays constant, a ramp gives cell
  // means.
  FrozenLayer pool;
  pool.kind = FrozenLayerKind::GridAvgPool;
  pool.grid = 3;
  std::vector<float> ramp(h * w);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) ramp[y * w + x] = float(x);
  int oh, ow, oc;
  auto f = apply_frozen_layer(pool, ramp, h, w, 1, &oh, &ow, &oc);
  BOOST_CHECK_EQUAL(oh, 3);
  BOOST_CHECK_CLOSE(f[0], 1.0f, 1e-4);  // cols 0..2
  BOOST_CHECK_CLOSE(f[1], 3.0f, 1e-4);  // cols 2..4
  BOOST_CHECK_CLOSE(f[2], 5.0f, 1e-4);  // cols 4..6
}

BOOST_AUTO_TEST_CASE(int8_quantizer_thresholds_equal_nearest_centroid) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(0.f, 6.f);
  for (int trial = 0; trial < 300; ++trial) {
    int c = 2 + trial % 15;
    std::vector<float> cent(c);
    for (auto& v : cent) v = u(rng);
    if (trial % 5 == 0) cent[c - 1] = cent[0];                // duplicate centroid
    if (trial % 7 == 0) cent[1] = cent[0] + 2 * 6.f / 255.f;  // midpoint lands on a grid value
    double scale =
        trial % 3 == 0 ? 6.0 / 255.0 : std::uniform_real_distribution<double>(0.005, 0.1)(rng);
    int32_t zp = trial % 3 == 0 ? -128 : int32_t(rng() % 256) - 128;
    Int8Quantizer q = make_int8_quantizer(cent, scale, zp);
    BOOST_REQUIRE_EQUAL(q.thresholds.size(), size_t(c - 1));
    BOOST_REQUIRE(std::is_sorted(q.thresholds.begin(), q.thresholds.end()));
    for (int v = -128; v <= 127; ++v)
      BOOST_REQUIRE_EQUAL(int(q.index_of(int8_t(v))), nearest_centroid(cent, scale * (v - zp)));
  }
  Int8Quantizer q8 =
      make_int8_quantizer(std::vector<float>{0, 1, 2, 3, 4, 5, 6, 0.5}, 6.0 / 255, -128);
  BOOST_CHECK_EQUAL(q8.bits, 3);
  BOOST_CHECK_THROW(make_int8_quantizer(std::vector<float>{1.f}, 0.1, 0), Error);
}

BOOST_AUTO_TEST_CASE(planner_never_overlaps_live_buffers) {
  std::mt19937 rng(11);
  for (int trial = 0; trial < 500; ++trial) {
    std::vector<PlannedBuffer> bufs(1 + rng() % 12);
    size_t peak_live_lower_bound = 0, total = 0;
    for (size_t i = 0; i < bufs.size(); ++i) {
      bufs[i].name = std::to_string(i);
      bufs[i].size = rng() % 3000;
      bufs[i].first_op = int(rng() % 10);
      bufs[i].last_op = bufs[i].first_op + int(rng() % 4);
      total += bufs[i].size;
    }
    for (int op = 0; op < 14; ++op) {
      size_t live = 0;
      for (auto& b : bufs)
        if (b.first_op <= op && op <= b.last_op) live += b.size;
      peak_live_lower_bound = std::max(peak_live_lower_bound, live);
    }
    size_t arena = plan_arena(bufs);
    BOOST_REQUIRE(!live_buffers_overlap(bufs));
    BOOST_REQUIRE_GE(arena, peak_live_lower_bound);
    BOOST_REQUIRE_LE(arena, total + 4 * bufs.size());
    for (auto& b : bufs) {
      BOOST_REQUIRE_EQUAL(b.offset % 4, 0u);
      BOOST_REQUIRE_LE(b.offset + b.size, arena);
    }
  }
  // A chain a->b->c reuses a's bytes for c.
  std::vector<PlannedBuffer> chain{{"a", 100, 0, 1, 0}, {"b", 100, 1, 2, 0}, {"c", 100, 2, 3, 0}};
  BOOST_CHECK_EQUAL(plan_arena(chain), 200u);
  BOOST_CHECK(!live_buffers_overlap(chain));
  // The checker itself catches an overlap.
  chain[1].offset = chain[0].offset + 50;
  BOOST_CHECK(live_buffers_overlap(chain));
}

// The device packet is the codec's: context-coded under tables fitted on the device's own
// indices (packed bits when not smaller), decoded by codec::decode_packet to the same indices.
BOOST_AUTO_TEST_CASE(device_packet_is_the_codec_packet) {
  FrozenModel m = random_frozen_model({}, 2);
  auto calib = random_images(32, 28 * 28, 3);
  Int8Model q = quantize_model(m, calib);
  auto first = random_images(1, 28 * 28, 4);
  BOOST_CHECK_THROW(reference_run(q, first[0]), Error);  // no tables attached yet
  codec::CodecTables t = fit_device_codec_tables(q, calib, 77);
  BOOST_CHECK_EQUAL(t.model_id, 77u);
  codec::CodecTables bad = t;
  bad.local_channels = 4;
  BOOST_CHECK_THROW(attach_codec_tables(q, bad, "test"), Error);
  attach_codec_tables(q, t, "test");
  size_t packed = packed_payload_bytes(q);
  BOOST_CHECK_EQUAL(packed, (14u * 14 * 19 * 3 + 7) / 8);
  BOOST_CHECK_EQUAL(max_packet_bytes(q), packed + codec::kPacketHeaderBytes);
  for (const auto& im : random_images(8, 28 * 28, 5)) {
    auto r = reference_run(q, im);
    BOOST_REQUIRE_LE(r.packet.size(), max_packet_bytes(q));
    codec::DecodedPacket d = codec::decode_packet(r.packet, q.codec);
    BOOST_REQUIRE(d.indices == r.indices);
    BOOST_CHECK_EQUAL(d.header.fingerprint, t.fingerprint());
    BOOST_CHECK(r.packet ==
                codec::encode_packet_auto(r.indices, remote_stream_shape(q), t, kDeviceCoder));
  }
}

BOOST_AUTO_TEST_CASE(frozen_model_validation_names_the_layer) {
  FrozenModel m = random_frozen_model({}, 1);
  m.extractor[1].weight.pop_back();
  try {
    m.validate();
    BOOST_FAIL("expected an error");
  } catch (const Error& e) {
    BOOST_CHECK(std::string(e.what()).find("extractor[1]") != std::string::npos);
  }
  FrozenModel k = random_frozen_model({}, 1);
  k.split_k = 24;
  BOOST_CHECK_THROW(k.validate(), Error);
}

BOOST_AUTO_TEST_CASE(int8_graph_agrees_with_float_and_quantizer_matches_host_rule) {
  RandomModelOptions opt;
  FrozenModel m = random_frozen_model(opt, 5);
  auto calib = random_images(64, 28 * 28, 1);
  Int8Model q = quantize_model(m, calib);
  BOOST_CHECK_EQUAL(q.feat_h, 14);
  BOOST_CHECK_EQUAL(q.feat_c, 24);
  BOOST_CHECK_EQUAL(q.extractor.size(), 4u);
  BOOST_CHECK_EQUAL(q.extractor[0].input_offset[0], -std::lround(255.0 * m.input_mean[0]));
  auto test = random_images(20, 28 * 28, 2);
  double max_rel = 0;
  size_t agree_idx = 0, total_idx = 0;
  int agree_argmax = 0;
  for (auto& im : test) {
    auto r = reference_run(q, im, /*with_packet=*/false);
    auto f = float_forward(m, im);
    // The reference's indices are the host rule on the dequantized int8 map.
    for (size_t p = 0; p < size_t(q.feat_h) * q.feat_w; ++p)
      for (int ch = q.split_k; ch < q.feat_c; ++ch) {
        double v = q.feature_scale * (r.features[p * q.feat_c + ch] - q.feature_zero_point);
        BOOST_REQUIRE_EQUAL(int(r.indices[p * (q.feat_c - q.split_k) + ch - q.split_k]),
                            nearest_centroid(q.centroids, v));
      }
    double range = 0, err = 0;
    for (int o = 0; o < q.num_classes; ++o) {
      range = std::max(range, double(std::fabs(f.local_logits[o])));
      err = std::max(err, std::fabs(r.local_logits[o] * q.dense.logit_scale - f.local_logits[o]));
    }
    max_rel = std::max(max_rel, err / range);
    for (size_t i = 0; i < f.indices.size(); ++i) agree_idx += f.indices[i] == r.indices[i];
    total_idx += f.indices.size();
    agree_argmax +=
        std::max_element(f.local_logits.begin(), f.local_logits.end()) - f.local_logits.begin() ==
        std::max_element(r.local_logits.begin(), r.local_logits.end()) - r.local_logits.begin();
  }
  BOOST_TEST_MESSAGE("int8 vs float: max relative logit error "
                     << max_rel << ", index agreement " << double(agree_idx) / total_idx
                     << ", argmax agreement " << agree_argmax << "/20");
  BOOST_CHECK_LT(max_rel, 0.1);
  BOOST_CHECK_GT(double(agree_idx) / total_idx, 0.9);
  BOOST_CHECK_GE(agree_argmax, 16);
}

BOOST_AUTO_TEST_SUITE_END()
