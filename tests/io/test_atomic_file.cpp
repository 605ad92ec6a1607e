#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "nn/io/atomic_file.h"
#include "nn/io/error.h"

namespace fs = std::filesystem;

BOOST_AUTO_TEST_CASE(atomic_write_creates_dirs_and_leaves_no_temp) {
  fs::path dir = fs::temp_directory_path() / ("agilenn_atomic_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  std::string path = (dir / "sub" / "f.txt").string();
  agilenn::write_file_atomic(path, std::string("hello"));
  agilenn::write_file_atomic(path, std::string("world!"));
  BOOST_TEST(agilenn::read_file_text(path) == "world!");
  int n = 0;
  for (auto& e : fs::directory_iterator(dir / "sub")) { (void)e; ++n; }
  BOOST_TEST(n == 1);
  fs::remove_all(dir);
}

BOOST_AUTO_TEST_CASE(missing_file_error_names_path) {
  try {
    agilenn::read_file_bytes("/nonexistent/agilenn.bin");
    BOOST_FAIL("no error");
  } catch (const agilenn::Error& e) {
    BOOST_TEST(std::string(e.what()).find("/nonexistent/agilenn.bin") == 0);
  }
}
