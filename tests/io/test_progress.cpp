#include <boost/test/unit_test.hpp>

#include <algorithm>
#include <cstdio>
#include <string>

#include "nn/io/progress.h"

using agilenn::Progress;
using agilenn::ProgressOptions;

namespace {
std::string read_all(FILE* f) {
  std::fflush(f);
  std::rewind(f);
  std::string s;
  char buf[512];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, f)) > 0) s.append(buf, n);
  return s;
}
size_t count(const std::string& s, char c) {
  return size_t(std::count(s.begin(), s.end(), c));
}
}  // namespace

BOOST_AUTO_TEST_SUITE(progress)

BOOST_AUTO_TEST_CASE(render_shows_counts_rate_elapsed_eta_and_text) {
  double now = 100.0;
  ProgressOptions opt;
  opt.clock = [&] { return now; };
  opt.force_tty = 0;
  FILE* f = std::tmpfile();
  opt.out = f;
  Progress p("epoch 1/3", 1000, opt);
  now = 104.0;
  p.update(400, "loss 0.500");
  BOOST_TEST(p.render(4.0) ==
             "epoch 1/3  400/1000 img  100 img/s  elapsed 4.0s  ETA 6.0s  loss 0.500");
  p.finish("loss 0.250 acc 0.9");
  BOOST_TEST(p.render(10.0).find("ETA") != std::string::npos);  // 400 of 1000: ETA still shown
  std::fclose(f);
  BOOST_TEST(Progress::format_duration(0.44) == "0.4s");
  BOOST_TEST(Progress::format_duration(245) == "4m05s");
  BOOST_TEST(Progress::format_duration(3720) == "1h02m");
}

BOOST_AUTO_TEST_CASE(plain_lines_when_not_a_terminal_are_throttled) {
  double now = 0.0;
  FILE* f = std::tmpfile();
  ProgressOptions opt;
  opt.clock = [&] { return now; };
  opt.force_tty = 0;
  opt.plain_interval = 5.0;
  opt.out = f;
  {
    Progress p("eval", 100, opt);
    for (int i = 1; i <= 100; ++i) {
      now = i * 0.1;  // 10 s in total
      p.update(uint64_t(i));
    }
    p.finish("done");
  }
  const std::string s = read_all(f);
  std::fclose(f);
  BOOST_TEST(count(s, '\r') == 0u);
  // Printed at t=0.1 and t=5.1, then the final line.
  BOOST_TEST(count(s, '\n') == 3u, s);
  BOOST_TEST(s.find("100/100 img") != std::string::npos);
  BOOST_TEST(s.find("done") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(terminal_mode_redraws_in_place_a_few_times_per_second) {
  double now = 0.0;
  FILE* f = std::tmpfile();
  ProgressOptions opt;
  opt.clock = [&] { return now; };
  opt.force_tty = 1;
  opt.tty_interval = 0.25;
  opt.out = f;
  {
    Progress p("train", 1000, opt);
    for (int i = 1; i <= 1000; ++i) {
      now = i * 0.001;  // 1 s in total, 1000 updates
      p.update(uint64_t(i), "loss " + std::to_string(i));
    }
  }  // destroyed unfinished: the open line is ended
  const std::string s = read_all(f);
  std::fclose(f);
  BOOST_TEST(count(s, '\r') >= 4u);
  BOOST_TEST(count(s, '\r') <= 5u);
  BOOST_TEST(count(s, '\n') == 1u);
  BOOST_TEST(s.back() == '\n');
}

BOOST_AUTO_TEST_SUITE_END()
