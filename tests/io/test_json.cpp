#include <boost/test/unit_test.hpp>

#include "nn/io/error.h"
#include "nn/io/json.h"

using agilenn::Error;
using agilenn::Json;

BOOST_AUTO_TEST_SUITE(json)

BOOST_AUTO_TEST_CASE(round_trip_keeps_order_and_values) {
  Json j;
  j["b"] = 1;
  j["a"] = "x\"y\n";
  j["c"] = Json::Array{Json(1.5), Json(true), Json()};
  const std::string s = j.dump();
  BOOST_TEST(s == R"({"b":1,"a":"x\"y\n","c":[1.5,true,null]})");
  Json k = Json::parse(s);
  BOOST_TEST(k.dump() == s);
  BOOST_TEST(k.at("c").as_array()[0].as_number() == 1.5);
}

BOOST_AUTO_TEST_CASE(unicode_escapes) {
  Json j = Json::parse(R"("\u00e9\ud83d\ude00")");
  BOOST_TEST(j.as_string() == "\xc3\xa9\xf0\x9f\x98\x80");
}

BOOST_AUTO_TEST_CASE(errors_name_the_source_and_position) {
  try {
    Json::parse("{\n  \"a\": 1,\n  \"a\": 2}", "model.json");
    BOOST_FAIL("duplicate key accepted");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("model.json: line 3") == 0);
  }
  for (const char* bad : {"", "{", "[1,", "\"abc", "01x", "{\"a\" 1}", "[1] 2", "tru", "\"\\q\""})
    BOOST_CHECK_THROW(Json::parse(bad), Error);
}

BOOST_AUTO_TEST_CASE(deep_nesting_is_rejected_not_a_crash) {
  std::string deep(100000, '[');
  BOOST_CHECK_THROW(Json::parse(deep), Error);
}

BOOST_AUTO_TEST_CASE(typed_access_names_the_field) {
  Json j = Json::parse(R"({"n": 2.5})");
  try {
    j.at("n").as_int("header.n");
    BOOST_FAIL("non-integer accepted");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find("header.n") == 0);
  }
  BOOST_CHECK_THROW(j.at("missing"), Error);
}

BOOST_AUTO_TEST_SUITE_END()
