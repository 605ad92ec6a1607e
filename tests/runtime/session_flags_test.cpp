// The flags serve, device and bench-e2e share: defaults (the same as mcu-check's), parsing, and
// bad values refused naming the flag.
#include <boost/test/unit_test.hpp>
#include <vector>

#include "nn/io/error.h"
#include "runtime/session_flags.h"

using namespace agilenn;
using namespace agilenn::runtime;

namespace {

cxxopts::ParseResult parse(cxxopts::Options& o, std::vector<std::string> args) {
  std::vector<char*> argv;
  static std::string name = "test";
  argv.push_back(name.data());
  for (auto& a : args) argv.push_back(a.data());
  return o.parse(int(argv.size()), argv.data());
}

}  // namespace

BOOST_AUTO_TEST_SUITE(session_flags)

BOOST_AUTO_TEST_CASE(defaults_and_values) {
  cxxopts::Options o("t");
  add_model_flags(o);
  add_device_flags(o);
  auto r = parse(o, {});
  SessionOptions so = session_options(r, true);
  BOOST_TEST(so.model_dir == "runs/agile");
  BOOST_TEST(so.device_path == "int8");
  BOOST_TEST(so.calib_images == 256u);  // mcu-check's defaults: same int8 model and tables
  BOOST_TEST(so.fit_images == 1000u);
  BOOST_TEST(so.need_test);
  BOOST_TEST(so.need_device);
  auto r2 = parse(o, {"--model", "m", "--device-path", "float", "--limit", "7", "--rtt-ms", "3.5",
                      "--mcu-summary", "s.json", "--dataset", "fashion-mnist"});
  so = session_options(r2, true);
  BOOST_TEST(so.model_dir == "m");
  BOOST_TEST(so.device_path == "float");
  BOOST_TEST(so.limit_test == 7u);
  BOOST_TEST(so.dataset == "fashion-mnist");
  DeviceFlags df = device_flags(r2);
  BOOST_TEST(df.rtt_ms == 3.5);
  BOOST_TEST(df.mcu_summary == "s.json");
}

BOOST_AUTO_TEST_CASE(server_flags_have_no_device) {
  cxxopts::Options o("t");
  add_model_flags(o);
  SessionOptions so = session_options(parse(o, {"--fit-images", "12"}), false);
  BOOST_TEST(so.fit_images == 12u);
  BOOST_TEST(!so.need_test);
  BOOST_TEST(!so.need_device);
}

BOOST_AUTO_TEST_CASE(bad_values_name_the_flag) {
  cxxopts::Options o("t");
  add_model_flags(o);
  add_device_flags(o);
  auto expect = [&](std::vector<std::string> args, const std::string& flag, bool device) {
    try {
      auto r = parse(o, args);
      if (device)
        device_flags(r);
      else
        session_options(r, true);
      BOOST_ERROR("no error for " + flag);
    } catch (const Error& e) {
      BOOST_TEST(std::string(e.what()).find(flag) != std::string::npos, e.what());
    }
  };
  expect({"--device-path", "fixed"}, "--device-path", false);
  expect({"--calib-images", "0"}, "--calib-images", false);
  expect({"--fit-images", "0"}, "--fit-images", false);
  expect({"--rtt-ms", "-1"}, "--rtt-ms", true);
}

BOOST_AUTO_TEST_SUITE_END()
