// safetensors: the checkpoint format Python tools open directly (safetensors.torch.load_file).
//
// File layout:
//   8 bytes   N, the header length, unsigned little-endian
//   N bytes   JSON object: name -> {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]},
//             plus an optional "__metadata__": {string: string}; padded with spaces so that
//             the data section starts at a multiple of 8 bytes
//   rest      the data section: raw little-endian tensor bytes; offsets are relative to its
//             start, and the tensors must tile it exactly (no gaps, no overlaps, nothing left over)
//
// Writing orders tensors by element size (largest first), then by name, as the reference
// implementation does, so every tensor is aligned to its element size.
// Loading validates everything and throws agilenn::Error naming the file and the tensor or field.
#pragma once
#include <cstdint>
#include <initializer_list>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace agilenn {

enum class DType { BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

size_t dtype_size(DType dtype);
const char* dtype_name(DType dtype);  // "F32", ...
// Returns false for a name that is not a known dtype.
bool parse_dtype(std::string_view name, DType& out);

// The dtype that stores a C++ element type (float -> F32, int32_t -> I32, ...).
template <typename T>
constexpr DType dtype_of();
template <>
constexpr DType dtype_of<float>() {
  return DType::F32;
}
template <>
constexpr DType dtype_of<double>() {
  return DType::F64;
}
template <>
constexpr DType dtype_of<int8_t>() {
  return DType::I8;
}
template <>
constexpr DType dtype_of<uint8_t>() {
  return DType::U8;
}
template <>
constexpr DType dtype_of<int16_t>() {
  return DType::I16;
}
template <>
constexpr DType dtype_of<uint16_t>() {
  return DType::U16;
}
template <>
constexpr DType dtype_of<int32_t>() {
  return DType::I32;
}
template <>
constexpr DType dtype_of<uint32_t>() {
  return DType::U32;
}
template <>
constexpr DType dtype_of<int64_t>() {
  return DType::I64;
}
template <>
constexpr DType dtype_of<uint64_t>() {
  return DType::U64;
}

// "[3,3,1,4]"
std::string shape_string(std::span<const int64_t> shape);

class SafeTensors {
 public:
  struct Tensor {
    std::string name;
    DType dtype = DType::F32;
    std::vector<int64_t> shape;  // [] is a scalar; a 0 dimension is an empty tensor
    std::vector<uint8_t> data;   // little-endian, size == numel * dtype_size
    int64_t numel() const;
  };

  // `source` names this object in error messages (the file path when loaded or written).
  explicit SafeTensors(std::string source = "safetensors") : source_(std::move(source)) {}

  // Adds a tensor. Throws on a duplicate or reserved name, a negative dimension, or a byte
  // count that does not match shape x dtype size.
  void add(const std::string& name, DType dtype, std::vector<int64_t> shape,
           std::span<const uint8_t> bytes);
  template <typename T>
  void add(const std::string& name, std::vector<int64_t> shape, std::span<const T> values) {
    add(name, dtype_of<T>(), std::move(shape),
        std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(values.data()),
                                 values.size() * sizeof(T)));
  }
  template <typename T>
  void add(const std::string& name, std::vector<int64_t> shape, const std::vector<T>& values) {
    add<T>(name, std::move(shape), std::span<const T>(values));
  }

  bool contains(const std::string& name) const { return index_.count(name) != 0; }
  // Throws "<source>: no tensor 'name'".
  const Tensor& at(const std::string& name) const;
  // Tensors in insertion order (load order = ascending data offset).
  const std::vector<Tensor>& tensors() const { return tensors_; }
  size_t size() const { return tensors_.size(); }

  // Typed copy of a tensor's values. The dtype must match T exactly, and, when
  // `expected_shape` is given, the shape too:
  //   "model.safetensors: tensor 'extractor.conv1.w': expected shape [3,3,1,4], got [3,3,4]"
  template <typename T>
  std::vector<T> get(const std::string& name) const;
  template <typename T>
  std::vector<T> get(const std::string& name, std::span<const int64_t> expected_shape) const;
  template <typename T>
  std::vector<T> get(const std::string& name, std::initializer_list<int64_t> expected_shape) const {
    return get<T>(name, std::span<const int64_t>(expected_shape.begin(), expected_shape.size()));
  }

  // The "__metadata__" map (string -> string; e.g. the model config as JSON text).
  std::map<std::string, std::string>& metadata() { return metadata_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Throws "<source>: metadata has no key 'k'".
  const std::string& metadata_at(const std::string& key) const;

  const std::string& source() const { return source_; }

  // The whole file as bytes.
  std::vector<uint8_t> serialize() const;
  // Writes atomically (temporary file + rename).
  void write(const std::string& path) const;

  // Parses and validates a whole file image; `source` prefixes every error.
  static SafeTensors parse(std::span<const uint8_t> file, const std::string& source);
  static SafeTensors load(const std::string& path);

  // Largest header accepted when loading (the reference implementation's limit).
  static constexpr uint64_t kMaxHeaderBytes = 100'000'000;

 private:
  const Tensor& checked(const std::string& name, DType want) const;

  std::string source_;
  std::vector<Tensor> tensors_;
  std::map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

}  // namespace agilenn
