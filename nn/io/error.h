// The one error type for user-facing failures: a message that names the file, field or flag.
#pragma once
#include <stdexcept>
#include <string>

namespace agilenn {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
};

// Error with a "where: " prefix (a path, a flag, a field).
inline Error error_at(const std::string& where, const std::string& what) {
  return Error(where + ": " + what);
}

}  // namespace agilenn
