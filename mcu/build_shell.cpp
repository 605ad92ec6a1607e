#include "mcu/build_shell.h"

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "nn/io/error.h"

namespace agilenn::mcu {

std::string shell_quote(const std::string& path) {
  if (path.find('\'') != std::string::npos)
    throw error_at(path, "paths with a single quote are not supported by the build harness");
  std::string q(1, '\'');  // appended piecewise: GCC 12 warns falsely on "'" + path
  q += path;
  q += '\'';
  return q;
}

std::string read_text_or_empty(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void run_step(const std::string& what, const std::string& cmd, const std::string& log) {
  std::string shell = "(";  // built with += (GCC 12 warns falsely on "(" + cmd)
  shell += cmd;
  shell += ") > " + shell_quote(log) + " 2>&1";
  const int rc = std::system(shell.c_str());
  if (rc != 0) {
    std::string text = read_text_or_empty(log);
    if (text.size() > 3000) text = "..." + text.substr(text.size() - 3000);
    throw Error(what + " failed (status " + std::to_string(rc) + "): " + cmd + "\n" + text);
  }
}

std::string qemu_command(const std::string& elf, const std::string& out, int timeout_seconds) {
  return "timeout " + std::to_string(timeout_seconds) +
         " qemu-system-arm -M mps2-an500 -nographic -semihosting-config enable=on,target=native"
         " -icount shift=7 -kernel " +
         shell_quote(elf) + " > " + shell_quote(out);
}

}  // namespace agilenn::mcu
