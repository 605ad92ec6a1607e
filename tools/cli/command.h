// A CLI command registers itself with a static CommandRegistrar in its own file under
// tools/cli/commands/; main.cpp only dispatches.
#pragma once
#include <functional>
#include <string>
#include <vector>

namespace agilenn::cli {

struct Command {
  std::string name;
  std::string summary;
  // argv[0] is "agilenn <name>"; returns the process exit status.
  std::function<int(int argc, char** argv)> run;
};

std::vector<Command>& command_registry();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string summary, std::function<int(int, char**)> run);
};

}  // namespace agilenn::cli
