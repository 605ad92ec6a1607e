// Files are written to "<path>.tmp.<pid>" and renamed into place, so a reader never sees half a
// file.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace agilenn {

void write_file_atomic(const std::string& path, std::span<const uint8_t> bytes);
void write_file_atomic(const std::string& path, const std::string& text);
std::vector<uint8_t> read_file_bytes(const std::string& path);
std::string read_file_text(const std::string& path);

}  // namespace agilenn
