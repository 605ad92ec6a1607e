#include "nn/io/progress.h"

#include <unistd.h>

#include <cmath>

namespace agilenn {

namespace {
double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}
}  // namespace

Progress::Progress(std::string label, uint64_t total, ProgressOptions options)
    : label_(std::move(label)), total_(total), opt_(std::move(options)) {
  if (!opt_.clock) opt_.clock = steady_seconds;
  tty_ = opt_.force_tty >= 0 ? opt_.force_tty == 1 : ::isatty(::fileno(opt_.out)) == 1;
  start_ = opt_.clock();
}

Progress::~Progress() {
  if (line_open_) {
    std::fputc('\n', opt_.out);
    std::fflush(opt_.out);
  }
}

double Progress::elapsed() const {
  return opt_.clock() - start_;
}

std::string Progress::format_duration(double s) {
  char buf[32];
  if (!std::isfinite(s) || s < 0) return "?";
  if (s < 60) {
    std::snprintf(buf, sizeof buf, "%.1fs", s);
  } else if (s < 3600) {
    const long t = std::lround(s);
    std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
  } else {
    const long t = std::lround(s / 60);
    std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 60, t % 60);
  }
  return buf;
}

std::string Progress::render(double elapsed) const {
  char buf[160];
  const double rate = elapsed > 0 ? double(done_) / elapsed : 0.0;
  std::string line = label_.empty() ? "" : label_ + "  ";
  std::snprintf(buf, sizeof buf, "%llu/%llu %s  ", (unsigned long long)done_,
                (unsigned long long)total_, opt_.unit.c_str());
  line += buf;
  if (rate >= 100)
    std::snprintf(buf, sizeof buf, "%.0f %s/s", rate, opt_.unit.c_str());
  else
    std::snprintf(buf, sizeof buf, "%.2f %s/s", rate, opt_.unit.c_str());
  line += buf;
  line += "  elapsed " + format_duration(elapsed);
  if (done_ < total_) {
    line += "  ETA ";
    line += rate > 0 ? format_duration(double(total_ - done_) / rate) : std::string("?");
  }
  if (!text_.empty()) line += "  " + text_;
  return line;
}

void Progress::update(uint64_t done, const std::string& text) {
  done_ = done;
  if (!text.empty()) text_ = text;
  const double now = opt_.clock();
  if (now - last_print_ < (tty_ ? opt_.tty_interval : opt_.plain_interval)) return;
  last_print_ = now;
  print(false);
}

void Progress::finish(const std::string& text) {
  if (finished_) return;
  finished_ = true;
  if (!text.empty()) text_ = text;
  print(true);
}

void Progress::print(bool final_line) {
  const std::string line = render(opt_.clock() - start_);
  if (tty_) {
    // Redraw in place; blank out the tail of a longer previous line.
    std::string padded = line;
    if (padded.size() < last_width_) padded.append(last_width_ - padded.size(), ' ');
    last_width_ = line.size();
    std::fprintf(opt_.out, "\r%s", padded.c_str());
    line_open_ = !final_line;
    if (final_line) std::fputc('\n', opt_.out);
  } else {
    std::fprintf(opt_.out, "%s\n", line.c_str());
  }
  std::fflush(opt_.out);
}

}  // namespace agilenn
