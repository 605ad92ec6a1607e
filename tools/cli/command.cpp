#include "tools/cli/command.h"

namespace agilenn::cli {

std::vector<Command>& command_registry() {
  static std::vector<Command> commands;
  return commands;
}

CommandRegistrar::CommandRegistrar(std::string name, std::string summary,
                                   std::function<int(int, char**)> run) {
  command_registry().push_back({std::move(name), std::move(summary), std::move(run)});
}

}  // namespace agilenn::cli
