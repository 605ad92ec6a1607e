// Shell steps shared by the harnesses that build generated C and run it (host builds, Cortex-M7
// builds, QEMU runs): quoting, running a step with its log, and the QEMU command line.
#pragma once
#include <string>

namespace agilenn::mcu {

// 'path' for a shell command; paths with a single quote are rejected (agilenn::Error).
std::string shell_quote(const std::string& path);
// The file's bytes, or "" if it cannot be read (a log that a failed step never wrote).
std::string read_text_or_empty(const std::string& path);
// Runs `cmd` in a shell with stdout+stderr into `log`; on failure throws agilenn::Error naming
// `what`, the command and the log's last 3000 characters.
void run_step(const std::string& what, const std::string& cmd, const std::string& log);
// qemu-system-arm on mps2-an500 (Cortex-M7) with semihosting and -icount shift=7 (one
// instruction = 128 ns of virtual time), stdout into `out`, killed after `timeout_seconds`.
std::string qemu_command(const std::string& elf, const std::string& out, int timeout_seconds);

}  // namespace agilenn::mcu
