// A progress line on stderr for long loops (training epochs, evaluation):
//   "train 3/10  12800/60000 img  2710 img/s  elapsed 4.7s  ETA 17.4s  loss 0.412 acc 0.861"
// On a terminal the line is redrawn in place (\r) at most `tty_interval` apart; otherwise
// (logs, CI) plain lines are printed at most `plain_interval` apart. finish() always prints
// the final state and ends the line.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>

namespace agilenn {

struct ProgressOptions {
  std::string unit = "img";
  double tty_interval = 0.2;    // seconds between redraws on a terminal
  double plain_interval = 5.0;  // seconds between lines when not a terminal
  FILE* out = stderr;
  int force_tty = -1;             // -1: detect with isatty; 0 / 1: override (tests)
  std::function<double()> clock;  // seconds, monotonic; default steady_clock (tests inject one)
};

class Progress {
 public:
  Progress(std::string label, uint64_t total, ProgressOptions options = {});
  ~Progress();  // ends an unfinished terminal line so later output starts on a fresh line

  // Sets the number of units done (absolute) and the custom text; prints if the throttle allows.
  void update(uint64_t done, const std::string& text = "");
  void add(uint64_t n, const std::string& text = "") { update(done_ + n, text); }
  // Prints the final line (always) and ends it with a newline.
  void finish(const std::string& text = "");

  // The line for the current state after `elapsed` seconds (no \r or newline).
  std::string render(double elapsed) const;
  uint64_t done() const { return done_; }
  double elapsed() const;

  // "0.4s", "12.3s", "4m05s", "1h02m"
  static std::string format_duration(double seconds);

 private:
  void print(bool final_line);

  std::string label_;
  uint64_t total_;
  ProgressOptions opt_;
  bool tty_;
  double start_, last_print_ = -1e300;
  uint64_t done_ = 0;
  std::string text_;
  size_t last_width_ = 0;
  bool line_open_ = false, finished_ = false;
};

}  // namespace agilenn
