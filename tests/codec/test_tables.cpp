#include <boost/test/unit_test.hpp>

#include "test_util.h"

using namespace agilenn;
using namespace agilenn::codec;

BOOST_AUTO_TEST_SUITE(tables)

BOOST_AUTO_TEST_CASE(fitting_is_deterministic_and_data_dependent) {
  const StreamShape s{14, 14, 19};
  const auto train = test::synthetic_indices(12, 14, 14, 5, 8, 2024);
  const CodecTables a = CodecTables::fit(train, 12, s, 8, 5);
  const CodecTables b = CodecTables::fit(train, 12, s, 8, 5);
  BOOST_TEST(a.to_bytes() == b.to_bytes());
  BOOST_TEST(a.fingerprint() == b.fingerprint());
  const auto other = test::synthetic_indices(12, 14, 14, 5, 8, 2025);
  const CodecTables c = CodecTables::fit(other, 12, s, 8, 5);
  BOOST_TEST(c.to_bytes() != a.to_bytes());
  BOOST_TEST(c.fingerprint() != a.fingerprint());
  const CodecTables d = CodecTables::fit(train, 12, s, 8, 5, /*model_id=*/99);
  BOOST_TEST(d.fingerprint() != a.fingerprint());
  BOOST_TEST(a.context.table_bytes() <= kContextTableBudget);
}

BOOST_AUTO_TEST_CASE(bytes_and_json_round_trip) {
  const CodecTables& t = test::default_tables();
  const auto bytes = t.to_bytes();
  const CodecTables from_bytes = CodecTables::from_bytes(bytes, "tables");
  BOOST_TEST(from_bytes.to_bytes() == bytes);
  const Json j = Json::parse(t.to_json().dump(), "tables.json");
  const CodecTables from_json = CodecTables::from_json(j, "tables.json");
  BOOST_TEST(from_json.to_bytes() == bytes);
  // A packet made with the original decodes with the reloaded tables.
  const auto idx = test::synthetic_indices(1, 14, 14, 5, 8, 31);
  const auto pkt = encode_packet(idx, {14, 14, 19}, t);
  BOOST_TEST(decode_packet(pkt, from_bytes).indices == idx);
}

BOOST_AUTO_TEST_CASE(malformed_table_bytes_are_errors) {
  const auto bytes = test::default_tables().to_bytes();
  for (size_t cut = 0; cut < bytes.size(); ++cut)
    BOOST_CHECK_THROW(CodecTables::from_bytes(std::span(bytes).first(cut), "tables"), Error);
  for (size_t i = 0; i < bytes.size(); ++i) {
    auto flipped = bytes;
    flipped[i] ^= 0x10;
    BOOST_CHECK_THROW(CodecTables::from_bytes(flipped, "tables"), Error);
  }
  auto longer = bytes;
  longer.push_back(0);
  BOOST_CHECK_THROW(CodecTables::from_bytes(longer, "tables"), Error);
  try {
    auto v = bytes;
    v[4] = 9;
    CodecTables::from_bytes(v, "model/codec.bin");
    BOOST_FAIL("accepted a wrong version");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("model/codec.bin.version") != std::string::npos);
  }
}

BOOST_AUTO_TEST_CASE(malformed_table_json_names_the_field) {
  Json j = Json::parse(test::default_tables().to_json().dump());
  j["context"]["probs"].push_back(Json(5));
  try {
    CodecTables::from_json(j, "codec.json");
    BOOST_FAIL("accepted extra probabilities");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("codec.json.context") != std::string::npos);
  }
  Json k = Json::parse(test::default_tables().to_json().dump());
  k["huffman_lengths"] = Json(Json::Array{Json(1), Json(1), Json(1)});
  BOOST_CHECK_THROW(CodecTables::from_json(k, "codec.json"), Error);
}

BOOST_AUTO_TEST_SUITE_END()
