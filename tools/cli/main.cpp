// agilenn <command> [flags]: dispatch to a registered command; user errors print and exit 2.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <exception>
#include <string>

#include <cxxopts.hpp>

#include "nn/io/error.h"
#include "tools/cli/command.h"

using agilenn::cli::command_registry;

static void usage(FILE* out) {
  std::fprintf(
      out,
      "usage: agilenn <command> [flags]   (agilenn <command> --help for its flags)\n\ncommands:\n");
  auto cmds = command_registry();
  std::sort(cmds.begin(), cmds.end(), [](auto& a, auto& b) { return a.name < b.name; });
  for (auto& c : cmds) std::fprintf(out, "  %-18s %s\n", c.name.c_str(), c.summary.c_str());
}

int main(int argc, char** argv) {
  if (argc < 2 || !std::strcmp(argv[1], "--help") || !std::strcmp(argv[1], "-h") ||
      !std::strcmp(argv[1], "help")) {
    usage(argc < 2 ? stderr : stdout);
    return argc < 2 ? 2 : 0;
  }
  const std::string name = argv[1];
  for (auto& c : command_registry()) {
    if (c.name != name) continue;
    std::string prog = "agilenn " + name;
    argv[1] = prog.data();
    try {
      return c.run(argc - 1, argv + 1);
    } catch (const cxxopts::exceptions::exception& e) {
      std::fprintf(stderr, "agilenn %s: %s (see --help)\n", name.c_str(), e.what());
      return 2;
    } catch (const agilenn::Error& e) {
      std::fprintf(stderr, "agilenn %s: error: %s\n", name.c_str(), e.what());
      return 2;
    } catch (const std::exception& e) {
      std::fprintf(stderr, "agilenn %s: internal error: %s\n", name.c_str(), e.what());
      return 1;
    }
  }
  std::fprintf(stderr, "agilenn: unknown command '%s'\n\n", name.c_str());
  usage(stderr);
  return 2;
}
