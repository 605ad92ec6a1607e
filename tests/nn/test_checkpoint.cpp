#include <boost/test/unit_test.hpp>
#include <filesystem>

#include "nn/checkpoint.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"

using namespace agilenn;
using namespace agilenn::nn;

BOOST_AUTO_TEST_CASE(checkpoint_round_trip_and_corruption) {
  auto dir =
      std::filesystem::temp_directory_path() / ("agilenn_ckpt_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::string path = (dir / "m.safetensors").string();
  Checkpoint c;
  c.tensors["a.weight"] = ag::Tensor::from_vector({1.5, -2, 3}, ag::Shape{3}, ag::DType::F32);
  c.tensors["b"] = ag::Tensor::from_vector({1, 2, 3, 4}, ag::Shape{2, 2}, ag::DType::F64);
  c.tensors["n"] = ag::Tensor::from_ints({7}, ag::Shape{1});
  c.meta["kind"] = "test";
  c.meta["epoch"] = 3;
  save_checkpoint(path, c);
  Checkpoint r = load_checkpoint(path);
  BOOST_TEST(r.meta.at("kind").as_string() == "test");
  BOOST_TEST(r.tensors.at("a.weight").to_vector() == c.tensors["a.weight"].to_vector());
  BOOST_TEST(r.tensors.at("b").shape() == (ag::Shape{2, 2}));
  BOOST_TEST(r.tensors.at("n").to_vector()[0] == 7);
  // Truncated file: a clear error naming the path.
  auto bytes = read_file_bytes(path);
  bytes.resize(bytes.size() - 5);
  write_file_atomic(path, bytes);
  try {
    load_checkpoint(path);
    BOOST_FAIL("truncated checkpoint accepted");
  } catch (const Error& e) {
    BOOST_TEST(std::string(e.what()).find(path) != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}
