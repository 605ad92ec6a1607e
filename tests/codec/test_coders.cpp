// Round trips of every coder on random and adversarial streams, plus payload-level corruption.
#include <boost/test/unit_test.hpp>
#include <cmath>

#include "codec/huffman.h"
#include "codec/lzw.h"
#include "codec/packed.h"
#include "codec/range_coder.h"
#include "test_util.h"

using namespace agilenn;
using namespace agilenn::codec;
using agilenn::codec::test::default_tables;

namespace {

const StreamShape kShape{14, 14, 19};

std::vector<std::pair<std::string, std::vector<uint8_t>>> adversarial_streams(const StreamShape& s,
                                                                              unsigned alphabet) {
  std::vector<std::pair<std::string, std::vector<uint8_t>>> v;
  const size_t n = s.size();
  v.push_back({"all zero", std::vector<uint8_t>(n, 0)});
  v.push_back({"all max", std::vector<uint8_t>(n, uint8_t(alphabet - 1))});
  std::vector<uint8_t> alt(n), ramp(n), rnd(n), sparse(n);
  SplitMix64 rng(42);
  for (size_t i = 0; i < n; ++i) {
    alt[i] = (i & 1) ? uint8_t(alphabet - 1) : 0;
    ramp[i] = uint8_t(i % alphabet);
    rnd[i] = uint8_t(rng.next() % alphabet);  // maximal entropy
    sparse[i] = rng.uniform() < 0.02 ? uint8_t(rng.next() % alphabet) : 0;
  }
  v.push_back({"alternating", alt});
  v.push_back({"ramp", ramp});
  v.push_back({"uniform random", rnd});
  v.push_back({"sparse", sparse});
  return v;
}

void check_round_trip(CoderId coder, const std::vector<uint8_t>& idx, const StreamShape& s,
                      const CodecTables& t, const std::string& what) {
  const auto payload = encode_payload(coder, idx, s, t);
  std::vector<uint8_t> back(idx.size(), 0xEE);
  decode_payload(coder, payload, s, t, back);
  BOOST_REQUIRE_MESSAGE(back == idx, coder_name(coder) << " on " << what);
  const auto packet = encode_packet(idx, s, t, coder);
  const auto d = decode_packet(packet, t);
  BOOST_REQUIRE_MESSAGE(d.indices == idx, coder_name(coder) << " packet on " << what);
  BOOST_TEST(packet.size() == payload.size() + kPacketHeaderBytes);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(coders)

BOOST_AUTO_TEST_CASE(round_trip_synthetic_and_adversarial_streams) {
  const auto& t = default_tables();
  const auto test = test::synthetic_indices(8, 14, 14, 5, 8, 77);
  auto streams = adversarial_streams(kShape, 8);
  for (size_t i = 0; i < 8; ++i)
    streams.push_back({"synthetic " + std::to_string(i),
                       std::vector<uint8_t>(test.begin() + i * kShape.size(),
                                            test.begin() + (i + 1) * kShape.size())});
  for (unsigned c = 0; c < kCoderCount; ++c)
    for (const auto& [name, idx] : streams) check_round_trip(CoderId(c), idx, kShape, t, name);
}

BOOST_AUTO_TEST_CASE(context_coder_beats_packed_bits_on_structure_and_auto_falls_back_on_noise) {
  const auto& t = default_tables();
  for (const auto& [name, idx] : adversarial_streams(kShape, 8)) {
    const size_t ctx = encode_payload(CoderId::kContext, idx, kShape, t).size();
    const size_t packed = encode_payload(CoderId::kPacked, idx, kShape, t).size();
    // Tables fitted on sparse maps expand white noise (bounded); the auto packet then falls
    // back to packed bits, so it is never larger than packed + header.
    if (name == "uniform random") {
      BOOST_TEST(ctx < packed * 1.4, name << ": " << ctx << " vs " << packed);
    } else {
      BOOST_TEST(ctx < packed / 2, name << ": " << ctx << " vs " << packed);
    }
    const auto pkt = encode_packet_auto(idx, kShape, t);
    BOOST_TEST(pkt.size() <= packed + kPacketHeaderBytes);
    BOOST_TEST(pkt.size() <= ctx + kPacketHeaderBytes);
    BOOST_TEST((decode_packet(pkt, t).indices == idx));
  }
}

BOOST_AUTO_TEST_CASE(context_coder_beats_order0_entropy_and_huffman_on_feature_maps) {
  const auto& t = default_tables();
  const size_t n = 16;
  const auto test = test::synthetic_indices(n, 14, 14, 5, 8, 991);
  std::vector<uint64_t> counts(8, 0);
  for (uint8_t v : test) ++counts[v];
  double bits = 0;
  for (uint64_t c : counts)
    if (c) bits -= double(c) * std::log2(double(c) / double(test.size()));
  size_t ctx = 0, huff = 0, lzw = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto im = std::span(test).subspan(i * kShape.size(), kShape.size());
    ctx += encode_payload(CoderId::kContext, im, kShape, t).size();
    huff += encode_payload(CoderId::kHuffman, im, kShape, t).size();
    lzw += encode_payload(CoderId::kLzw, im, kShape, t).size();
  }
  BOOST_TEST(double(ctx) < 0.9 * bits / 8, ctx << " B vs order-0 " << bits / 8 << " B");
  BOOST_TEST(ctx < huff);
  BOOST_TEST(huff < lzw);
}

// Coder 4 (the MCU's static context coder): its distributions are well formed and, on feature
// maps like the tables were fitted on, it codes within a few percent of the adaptive coder.
BOOST_AUTO_TEST_CASE(static_context_coder_tables_and_size) {
  const auto& t = default_tables();
  const auto cdf = t.context.static_cdf();
  const size_t C = t.alphabet;
  BOOST_REQUIRE_EQUAL(cdf.size(), t.context.contexts() * (C + 1));
  for (size_t c = 0; c < t.context.contexts(); ++c) {
    BOOST_REQUIRE_EQUAL(cdf[c * (C + 1)], 0);
    BOOST_REQUIRE_EQUAL(cdf[c * (C + 1) + C], 1u << kStaticTotalBits);
    for (size_t s = 0; s < C; ++s) BOOST_REQUIRE_LT(cdf[c * (C + 1) + s], cdf[c * (C + 1) + s + 1]);
  }
  const size_t n = 16;
  const auto test = test::synthetic_indices(n, 14, 14, 5, 8, 991);
  size_t adaptive = 0, stat = 0;
  for (size_t i = 0; i < n; ++i) {
    const auto im = std::span(test).subspan(i * kShape.size(), kShape.size());
    adaptive += encode_payload(CoderId::kContext, im, kShape, t).size();
    stat += encode_payload(CoderId::kContextStatic, im, kShape, t).size();
  }
  BOOST_TEST(double(stat) < 1.05 * double(adaptive), stat << " B vs adaptive " << adaptive);
  BOOST_TEST(int(parse_coder("context-static", "--coder")) == int(CoderId::kContextStatic));
}

BOOST_AUTO_TEST_CASE(tiny_and_large_shapes_and_other_alphabets) {
  SplitMix64 rng(9);
  for (unsigned alphabet : {2u, 3u, 5u, 8u, 16u, 200u, 256u}) {
    for (StreamShape s : {StreamShape{1, 1, 1}, StreamShape{1, 2, 1}, StreamShape{3, 1, 2},
                          StreamShape{7, 5, 3}, StreamShape{64, 64, 4}}) {
      // Tables fitted for this shape and alphabet on noisy smooth data.
      std::vector<uint8_t> train(4 * s.size());
      for (size_t i = 0; i < train.size(); ++i)
        train[i] = uint8_t(rng.uniform() < 0.5 ? 0 : rng.next() % alphabet);
      const CodecTables t = CodecTables::fit(train, 4, s, alphabet, 1);
      BOOST_TEST(t.context.table_bytes() <= kContextTableBudget);
      for (const auto& [name, idx] : adversarial_streams(s, alphabet))
        for (unsigned c = 0; c < kCoderCount; ++c)
          check_round_trip(CoderId(c), idx, s, t,
                           name + " C=" + std::to_string(alphabet) + " " +
                               std::to_string(s.height) + "x" + std::to_string(s.width) + "x" +
                               std::to_string(s.channels));
    }
  }
}

BOOST_AUTO_TEST_CASE(lzw_fills_and_freezes_its_dictionary) {
  // Maximal-entropy data over C = 256 fills 4096 entries quickly; the rest codes with a frozen
  // dictionary at 12 bits.
  SplitMix64 rng(5);
  std::vector<uint8_t> idx(40000);
  for (auto& v : idx) v = uint8_t(rng.next());
  const auto payload = lzw_encode(idx, 256);
  std::vector<uint8_t> back(idx.size());
  lzw_decode(payload, 256, back);
  BOOST_TEST(back == idx);
  // KwKwK: "aaaa..." exercises the code-equals-next-entry case.
  std::vector<uint8_t> run(1000, 3);
  std::vector<uint8_t> back_run(run.size());
  lzw_decode(lzw_encode(run, 8), 8, back_run);
  BOOST_TEST(back_run == run);
}

BOOST_AUTO_TEST_CASE(huffman_lengths_are_limited_canonical_and_complete) {
  // Fibonacci counts force a deep tree: lengths must be capped at 15 and stay complete.
  std::vector<uint64_t> counts(40);
  uint64_t a = 1, b = 1;
  for (auto& c : counts) {
    c = a;
    const uint64_t n = a + b;
    a = b;
    b = n;
  }
  const HuffmanTable h = HuffmanTable::fit(counts);
  unsigned max_len = 0;
  for (uint8_t l : h.lengths()) max_len = std::max<unsigned>(max_len, l);
  BOOST_TEST(max_len == kHuffmanMaxBits);
  BOOST_CHECK_NO_THROW(HuffmanTable::from_lengths(h.lengths(), "t"));
  // The most frequent symbol never gets a longer code than a rarer one.
  for (size_t i = 1; i < counts.size(); ++i) BOOST_TEST(h.lengths()[i] <= h.lengths()[i - 1]);
  std::vector<uint8_t> idx(5000);
  SplitMix64 rng(1);
  for (auto& v : idx) v = uint8_t(rng.next() % 40);
  std::vector<uint8_t> back(idx.size());
  h.decode(h.encode(idx), back);
  BOOST_TEST(back == idx);
  BOOST_CHECK_THROW(HuffmanTable::from_lengths({1, 2, 2, 2}, "t"), Error);  // over-full
  BOOST_CHECK_THROW(HuffmanTable::from_lengths({2, 2, 2}, "t"), Error);     // incomplete
  BOOST_CHECK_THROW(HuffmanTable::from_lengths({0, 1}, "t"), Error);
}

BOOST_AUTO_TEST_CASE(payload_truncation_and_trailing_bytes_are_errors_for_every_coder) {
  const auto& t = default_tables();
  const auto idx = test::synthetic_indices(1, 14, 14, 5, 8, 555);
  for (unsigned c = 0; c < kCoderCount; ++c) {
    const auto payload = encode_payload(CoderId(c), idx, kShape, t);
    std::vector<uint8_t> out(idx.size());
    for (size_t cut = 0; cut < payload.size(); ++cut) {
      BOOST_CHECK_THROW(decode_payload(CoderId(c), std::span(payload).first(cut), kShape, t, out),
                        Error);
    }
    auto longer = payload;
    longer.push_back(0);
    BOOST_CHECK_THROW(decode_payload(CoderId(c), longer, kShape, t, out), Error);
  }
}

BOOST_AUTO_TEST_CASE(random_payloads_never_crash_any_decoder) {
  const auto& t = default_tables();
  SplitMix64 rng(11);
  std::vector<uint8_t> out(kShape.size());
  size_t accepted = 0;
  for (int trial = 0; trial < 400; ++trial) {
    std::vector<uint8_t> junk(rng.next() % 2000);
    for (auto& b : junk) b = uint8_t(rng.next());
    for (unsigned c = 0; c < kCoderCount; ++c) {
      try {
        decode_payload(CoderId(c), junk, kShape, t, out);
        ++accepted;
        for (uint8_t v : out) BOOST_REQUIRE(v < 8);
      } catch (const Error&) {
      }
    }
  }
  BOOST_TEST(accepted < 400 * kCoderCount);
}

BOOST_AUTO_TEST_CASE(encoder_rejects_indices_outside_the_alphabet) {
  const auto& t = default_tables();
  std::vector<uint8_t> idx(kShape.size(), 0);
  idx[100] = 8;
  for (unsigned c = 0; c < kCoderCount; ++c)
    BOOST_CHECK_THROW(encode_payload(CoderId(c), idx, kShape, t), Error);
  std::vector<uint8_t> wrong_size(kShape.size() - 1, 0);
  BOOST_CHECK_THROW(encode_packet(wrong_size, kShape, t), Error);
}

BOOST_AUTO_TEST_SUITE_END()
