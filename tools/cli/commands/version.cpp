#include <cstdio>

#include <cxxopts.hpp>

#include "tools/cli/command.h"

namespace {
int run_version(int argc, char** argv) {
  cxxopts::Options opts(argv[0], "Print the version of agilenn and its formats.");
  opts.add_options()("h,help", "Show this help");
  auto r = opts.parse(argc, argv);
  if (r.count("help")) {
    std::puts(opts.help().c_str());
    return 0;
  }
  std::puts("agilenn 0.1.0");
  return 0;
}
agilenn::cli::CommandRegistrar reg("version", "Print the version", run_version);
}  // namespace
