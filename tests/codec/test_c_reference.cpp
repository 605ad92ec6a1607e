// The C99 device-side reference (codec/c) against the C++ codec: same indices, same bytes.
#include <zlib.h>
#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "codec/c/agilenn_codec.h"
#include "codec/c/agilenn_lzw.h"
#include "codec/lzw.h"
#include "nn/io/atomic_file.h"
#include "test_util.h"

using namespace agilenn;
using namespace agilenn::codec;

namespace {
const std::string kDir = std::string(AGILENN_SOURCE_DIR) + "/tests/codec/golden/";
const StreamShape kShape{14, 14, 19};
}  // namespace

BOOST_AUTO_TEST_SUITE(c_reference)

BOOST_AUTO_TEST_CASE(c_encoder_packets_equal_the_golden_packets) {
  const auto idx = read_file_bytes(kDir + "indices.bin");
  const CodecTables t = CodecTables::from_bytes(read_file_bytes(kDir + "tables.bin"), "tables.bin");
  const agl_context_model m{t.alphabet,
                            t.remote_channels,
                            t.context.config().levels,
                            t.context.config().groups,
                            t.context.config().shift,
                            t.context.init_probs().data()};
  std::vector<uint16_t> work(t.context.init_probs().size());
  const std::vector<uint16_t> cdf = t.context.static_cdf();
  const agl_static_context_model sm{t.alphabet, t.remote_channels, t.context.config().levels,
                                    t.context.config().groups, cdf.data()};
  for (size_t image = 12; image < 16; ++image) {
    const uint8_t* map = idx.data() + image * kShape.size();
    const auto constant = ContextModel::constant_channels(std::span(map, kShape.size()), kShape);
    for (const std::string coder : {"context", "context-static", "context-skip", "packed"}) {
      std::vector<uint8_t> pkt(kPacketHeaderBytes + 4096);
      const size_t payload =
          coder == "context"
              ? agl_context_encode(&m, map, 14, 14, work.data(), pkt.data() + 24, 4096)
          : coder == "context-static"
              ? agl_context_encode_static(&sm, map, 14, 14, pkt.data() + 24, 4096)
          : coder == "context-skip"
              ? agl_context_encode_skip(&sm, map, 14, 14, constant.data(), pkt.data() + 24, 4096)
              : agl_packed_encode(map, kShape.size(), 8, pkt.data() + 24);
      BOOST_REQUIRE(payload > 0);
      pkt.resize(agl_finish_packet(pkt.data(), uint8_t(parse_coder(coder, "coder")),
                                   t.fingerprint(), 14, 14, 19, t.local_channels, t.alphabet,
                                   payload));
      const std::string path = kDir + "image" + std::to_string(image) + "_" + coder + ".pkt";
      BOOST_TEST(pkt == read_file_bytes(path), path);
    }
  }
  // Too little room: 0, never a write past the capacity.
  std::vector<uint8_t> small(64 + 1, 0xAB);
  BOOST_TEST(agl_context_encode(&m, idx.data(), 14, 14, work.data(), small.data(), 64) == 0u);
  BOOST_TEST(small[64] == 0xAB);
}

BOOST_AUTO_TEST_CASE(c_quantizer_and_crc_match) {
  SplitMix64 rng(17);
  const Quantizer q({0.1f, 0.4f, 0.9f, 1.7f, 2.8f, 4.0f, 5.2f, 5.9f});
  std::vector<float> x(5000);
  for (auto& v : x) v = float(rng.uniform() * 7 - 0.5);
  for (float t : q.thresholds()) x.insert(x.end(), {t, std::nextafter(t, 9.0f)});
  std::vector<uint8_t> c_idx(x.size()), cpp_idx(x.size());
  agl_quantize(x.data(), x.size(), q.thresholds().data(), uint32_t(q.thresholds().size()),
               c_idx.data());
  q.quantize(x, cpp_idx);
  BOOST_TEST(c_idx == cpp_idx);
  std::vector<uint8_t> bytes(1000);
  for (auto& b : bytes) b = uint8_t(rng.next());
  BOOST_TEST(agl_crc32(0, bytes.data(), bytes.size()) ==
             uint32_t(crc32(0, bytes.data(), uInt(bytes.size()))));
  // Word-at-a-time body and byte tail: every length mod 4, unaligned starts, chained calls.
  for (size_t start = 0; start < 4; ++start)
    for (size_t n = 0; n <= 13; ++n) {
      const uint8_t* p = bytes.data() + 101 + start;
      BOOST_TEST(agl_crc32(0, p, n) == uint32_t(crc32(0, p, uInt(n))));
      const uint32_t head = agl_crc32(0, p, n);
      BOOST_TEST(agl_crc32(head, p + n, 7) == uint32_t(crc32(0, p, uInt(n + 7))));
    }
}

BOOST_AUTO_TEST_CASE(c_encoder_matches_on_other_shapes_and_alphabets) {
  SplitMix64 rng(23);
  for (unsigned alphabet : {2u, 5u, 8u, 16u}) {
    const StreamShape s{5, 7, 6};
    std::vector<uint8_t> train(6 * s.size());
    for (auto& v : train) v = uint8_t(rng.uniform() < 0.6 ? 0 : rng.next() % alphabet);
    const CodecTables t = CodecTables::fit(train, 6, s, alphabet, 2);
    const agl_context_model m{t.alphabet,
                              t.remote_channels,
                              t.context.config().levels,
                              t.context.config().groups,
                              t.context.config().shift,
                              t.context.init_probs().data()};
    std::vector<uint16_t> work(t.context.init_probs().size());
    for (size_t i = 0; i < 6; ++i) {
      const auto im = std::span(train).subspan(i * s.size(), s.size());
      const auto cpp = encode_payload(CoderId::kContext, im, s, t);
      std::vector<uint8_t> c(cpp.size() + 16);
      c.resize(agl_context_encode(&m, im.data(), 5, 7, work.data(), c.data(), c.size()));
      BOOST_TEST(c == cpp, "C=" << alphabet << " image " << i);
      const auto cdf = t.context.static_cdf();
      const agl_static_context_model sm{t.alphabet, t.remote_channels, t.context.config().levels,
                                        t.context.config().groups, cdf.data()};
      const auto cpp_static = encode_payload(CoderId::kContextStatic, im, s, t);
      std::vector<uint8_t> cs(cpp_static.size() + 16);
      cs.resize(agl_context_encode_static(&sm, im.data(), 5, 7, cs.data(), cs.size()));
      BOOST_TEST(cs == cpp_static, "static, C=" << alphabet << " image " << i);
      // Coder 5: channels 1 and 4 made constant (value i % C) and skipped, then none skipped.
      std::vector<uint8_t> map(im.begin(), im.end());
      for (size_t pos = 0; pos < map.size(); pos += 6) map[pos + 1] = map[pos + 4] = i % alphabet;
      const auto skip = ContextModel::constant_channels(map, s);
      BOOST_REQUIRE(skip[1] == 1 && skip[4] == 1);
      for (const auto& flags : {skip, std::vector<uint8_t>(6, 0)}) {
        const auto cpp_skip = t.context.encode_static_skip(map, s, flags);
        std::vector<uint8_t> ck(cpp_skip.size() + 16);
        ck.resize(
            agl_context_encode_skip(&sm, map.data(), 5, 7, flags.data(), ck.data(), ck.size()));
        BOOST_TEST(ck == cpp_skip, "skip, C=" << alphabet << " image " << i);
        ck.assign(cpp_skip.size(), 0);  // one byte short: 0
        BOOST_TEST(agl_context_encode_skip(&sm, map.data(), 5, 7, flags.data(), ck.data(),
                                           cpp_skip.size() - 1) == 0u);
      }
      std::vector<uint8_t> bad(6, 0);  // a channel that is not constant cannot be skipped
      bad[0] = !skip[0];
      std::vector<uint8_t> ck(map.size() + 32);
      if (!skip[0])
        BOOST_TEST(
            agl_context_encode_skip(&sm, map.data(), 5, 7, bad.data(), ck.data(), ck.size()) == 0u);
    }
  }
}

// The device LZW encoder (hash table) writes codec::lzw_encode's bytes: raw 28x28 images
// (alphabet 256, the edge-only baseline), small alphabets, streams long enough to fill the
// 4096-entry dictionary, single symbols; a capacity one byte short gives 0.
BOOST_AUTO_TEST_CASE(c_lzw_encoder_matches_the_cpp_encoder) {
  std::mt19937 g(77);
  for (int trial = 0; trial < 60; ++trial) {
    const uint32_t alphabet = trial % 3 == 0 ? 256u : uint32_t(2 + g() % 255);
    const size_t n = trial % 5 == 0 ? 1 + g() % 3 : trial % 4 == 0 ? 20000 : 784;
    std::vector<uint8_t> in(n);
    int cur = int(g() % alphabet);
    for (auto& v : in) {  // a smooth walk with noise and flat runs, like image rows
      if (g() % 4 == 0) cur = std::clamp(cur + int(g() % 7) - 3, 0, int(alphabet) - 1);
      v = uint8_t(g() % 13 == 0 ? g() % alphabet : unsigned(cur));
    }
    const std::vector<uint8_t> expect = lzw_encode(in, alphabet);
    std::vector<uint32_t> work(agl_lzw_work_slots(n, alphabet));
    std::vector<uint8_t> out(expect.size() + 2, 0xEE);
    const size_t got = agl_lzw_encode(in.data(), n, alphabet, work.data(), out.data(), out.size());
    BOOST_REQUIRE_EQUAL(got, expect.size());
    BOOST_REQUIRE(std::equal(expect.begin(), expect.end(), out.begin()));
    BOOST_REQUIRE_EQUAL(int(out[expect.size()]), 0xEE);
    BOOST_REQUIRE_EQUAL(
        agl_lzw_encode(in.data(), n, alphabet, work.data(), out.data(), expect.size() - 1), 0u);
  }
}

BOOST_AUTO_TEST_SUITE_END()
