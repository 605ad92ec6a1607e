#include "nn/io/safetensors.h"

#include <algorithm>
#include <bit>
#include <cstring>
#include <limits>

#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "nn/io/json.h"

namespace agilenn {

static_assert(std::endian::native == std::endian::little,
              "safetensors data is little-endian; add byte swapping for this host");

namespace {

struct DTypeInfo {
  DType dtype;
  const char* name;
  size_t size;
};
constexpr DTypeInfo kDTypes[] = {
    {DType::BOOL, "BOOL", 1}, {DType::U8, "U8", 1},   {DType::I8, "I8", 1},
    {DType::I16, "I16", 2},   {DType::U16, "U16", 2}, {DType::F16, "F16", 2},
    {DType::BF16, "BF16", 2}, {DType::I32, "I32", 4}, {DType::U32, "U32", 4},
    {DType::F32, "F32", 4},   {DType::F64, "F64", 8}, {DType::I64, "I64", 8},
    {DType::U64, "U64", 8},
};
const DTypeInfo& info(DType d) {
  for (const auto& i : kDTypes)
    if (i.dtype == d) return i;
  throw Error("safetensors: invalid dtype enum value " + std::to_string(int(d)));
}

constexpr const char* kMetadataKey = "__metadata__";

// numel of a shape, or -1 when a dimension is negative or the product overflows int64.
int64_t checked_numel(std::span<const int64_t> shape) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return -1;
    if (d != 0 && n > std::numeric_limits<int64_t>::max() / d) return -1;
    n *= d;
  }
  return n;
}

const Json& field(const Json& entry, const std::string& where, const std::string& key) {
  const Json* j = entry.find(key);
  if (!j) throw error_at(where, "missing field '" + key + "'");
  return *j;
}

std::string tensor_where(const std::string& source, const std::string& name) {
  return source + ": tensor '" + name + "'";
}

}  // namespace

size_t dtype_size(DType dtype) {
  return info(dtype).size;
}
const char* dtype_name(DType dtype) {
  return info(dtype).name;
}
bool parse_dtype(std::string_view name, DType& out) {
  for (const auto& i : kDTypes)
    if (name == i.name) {
      out = i.dtype;
      return true;
    }
  return false;
}

std::string shape_string(std::span<const int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ',';
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

int64_t SafeTensors::Tensor::numel() const {
  return checked_numel(shape);
}

void SafeTensors::add(const std::string& name, DType dtype, std::vector<int64_t> shape,
                      std::span<const uint8_t> bytes) {
  const std::string where = tensor_where(source_, name);
  if (name.empty()) throw Error(source_ + ": tensor name is empty");
  if (name == kMetadataKey) throw error_at(where, "name is reserved for the metadata map");
  if (contains(name)) throw error_at(where, "added twice");
  const int64_t numel = checked_numel(shape);
  if (numel < 0) throw error_at(where, "invalid shape " + shape_string(shape));
  const uint64_t want = uint64_t(numel) * dtype_size(dtype);
  if (numel > 0 && want / uint64_t(numel) != dtype_size(dtype))
    throw error_at(where, "shape " + shape_string(shape) + " is too large");
  if (want != bytes.size())
    throw error_at(where, "shape " + shape_string(shape) + " of " + dtype_name(dtype) + " needs " +
                              std::to_string(want) + " bytes, got " + std::to_string(bytes.size()));
  index_[name] = tensors_.size();
  tensors_.push_back(Tensor{name, dtype, std::move(shape), {bytes.begin(), bytes.end()}});
}

const SafeTensors::Tensor& SafeTensors::at(const std::string& name) const {
  auto it = index_.find(name);
  if (it == index_.end()) throw Error(source_ + ": no tensor '" + name + "'");
  return tensors_[it->second];
}

const std::string& SafeTensors::metadata_at(const std::string& key) const {
  auto it = metadata_.find(key);
  if (it == metadata_.end()) throw Error(source_ + ": metadata has no key '" + key + "'");
  return it->second;
}

const SafeTensors::Tensor& SafeTensors::checked(const std::string& name, DType want) const {
  const Tensor& t = at(name);
  if (t.dtype != want)
    throw error_at(tensor_where(source_, name), std::string("expected dtype ") + dtype_name(want) +
                                                    ", got " + dtype_name(t.dtype));
  return t;
}

template <typename T>
std::vector<T> SafeTensors::get(const std::string& name) const {
  const Tensor& t = checked(name, dtype_of<T>());
  std::vector<T> out(t.data.size() / sizeof(T));
  if (!t.data.empty()) std::memcpy(out.data(), t.data.data(), t.data.size());
  return out;
}

template <typename T>
std::vector<T> SafeTensors::get(const std::string& name,
                                std::span<const int64_t> expected_shape) const {
  const Tensor& t = at(name);
  if (!std::equal(t.shape.begin(), t.shape.end(), expected_shape.begin(), expected_shape.end()))
    throw error_at(tensor_where(source_, name), "expected shape " + shape_string(expected_shape) +
                                                    ", got " + shape_string(t.shape));
  return get<T>(name);
}

#define AGILENN_SAFETENSORS_GET(T)                                       \
  template std::vector<T> SafeTensors::get<T>(const std::string&) const; \
  template std::vector<T> SafeTensors::get<T>(const std::string&, std::span<const int64_t>) const;
AGILENN_SAFETENSORS_GET(float)
AGILENN_SAFETENSORS_GET(double)
AGILENN_SAFETENSORS_GET(int8_t)
AGILENN_SAFETENSORS_GET(uint8_t)
AGILENN_SAFETENSORS_GET(int16_t)
AGILENN_SAFETENSORS_GET(uint16_t)
AGILENN_SAFETENSORS_GET(int32_t)
AGILENN_SAFETENSORS_GET(uint32_t)
AGILENN_SAFETENSORS_GET(int64_t)
AGILENN_SAFETENSORS_GET(uint64_t)
#undef AGILENN_SAFETENSORS_GET

std::vector<uint8_t> SafeTensors::serialize() const {
  // Largest elements first so each tensor starts at a multiple of its element size.
  std::vector<const Tensor*> order;
  for (const auto& t : tensors_) order.push_back(&t);
  std::stable_sort(order.begin(), order.end(), [](const Tensor* a, const Tensor* b) {
    const size_t sa = dtype_size(a->dtype), sb = dtype_size(b->dtype);
    return sa != sb ? sa > sb : a->name < b->name;
  });

  Json header = Json::object();
  if (!metadata_.empty()) {
    Json meta = Json::object();
    for (const auto& [k, v] : metadata_) meta[k] = v;
    header[kMetadataKey] = std::move(meta);
  }
  uint64_t offset = 0;
  for (const Tensor* t : order) {
    Json entry = Json::object();
    entry["dtype"] = dtype_name(t->dtype);
    Json shape = Json::array();
    for (int64_t d : t->shape) shape.push_back(Json(d));
    entry["shape"] = std::move(shape);
    const uint64_t end = offset + t->data.size();
    entry["data_offsets"] = Json::Array{Json(offset), Json(end)};
    header[t->name] = std::move(entry);
    offset = end;
  }
  std::string text = header.dump();
  // Pad with spaces (valid trailing JSON whitespace) so the data section is 8-byte aligned.
  text.append((8 - text.size() % 8) % 8, ' ');

  std::vector<uint8_t> out;
  out.reserve(8 + text.size() + offset);
  const uint64_t n = text.size();
  for (int i = 0; i < 8; ++i) out.push_back(uint8_t(n >> (8 * i)));
  out.insert(out.end(), text.begin(), text.end());
  for (const Tensor* t : order) out.insert(out.end(), t->data.begin(), t->data.end());
  return out;
}

void SafeTensors::write(const std::string& path) const {
  const std::vector<uint8_t> bytes = serialize();
  write_file_atomic(path, bytes);
}

SafeTensors SafeTensors::load(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  return parse(bytes, path);
}

SafeTensors SafeTensors::parse(std::span<const uint8_t> file, const std::string& source) {
  if (file.size() < 8)
    throw error_at(source, "file is " + std::to_string(file.size()) +
                               " bytes, too short for the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 0; i < 8; ++i) header_len |= uint64_t(file[i]) << (8 * i);
  if (header_len > kMaxHeaderBytes)
    throw error_at(source, "header length " + std::to_string(header_len) +
                               " exceeds the limit of " + std::to_string(kMaxHeaderBytes) +
                               " bytes");
  if (header_len > file.size() - 8)
    throw error_at(source, "header length " + std::to_string(header_len) +
                               " goes beyond the end of the file (" + std::to_string(file.size()) +
                               " bytes)");
  if (header_len < 2 || file[8] != '{')
    throw error_at(source, "header does not start with a JSON object '{'");
  const std::string text(reinterpret_cast<const char*>(file.data() + 8), header_len);
  const Json header = Json::parse(text, source + ": header");
  const std::span<const uint8_t> data = file.subspan(8 + header_len);

  SafeTensors st(source);
  struct Range {
    uint64_t begin, end;
    size_t tensor;
  };
  std::vector<Range> ranges;
  for (const auto& [name, value] : header.as_object(source + ": header")) {
    if (name == kMetadataKey) {
      for (const auto& [k, v] : value.as_object(source + ": " + kMetadataKey))
        st.metadata_[k] = v.as_string(source + ": " + kMetadataKey + "['" + k + "']");
      continue;
    }
    const std::string where = tensor_where(source, name);
    if (name.empty()) throw Error(source + ": tensor name is empty");
    for (const auto& kv : value.as_object(where))
      if (kv.first != "dtype" && kv.first != "shape" && kv.first != "data_offsets")
        throw error_at(where, "unknown field '" + kv.first + "'");

    Tensor t;
    t.name = name;
    const std::string& dtype = field(value, where, "dtype").as_string(where + ": dtype");
    if (!parse_dtype(dtype, t.dtype)) throw error_at(where, "unknown dtype '" + dtype + "'");
    for (const Json& d : field(value, where, "shape").as_array(where + ": shape")) {
      const int64_t dim = d.as_int(where + ": shape");
      if (dim < 0) throw error_at(where, "negative dimension " + std::to_string(dim) + " in shape");
      t.shape.push_back(dim);
    }
    const auto& offs = field(value, where, "data_offsets").as_array(where + ": data_offsets");
    if (offs.size() != 2)
      throw error_at(where, "data_offsets must be [begin, end], got " +
                                std::to_string(offs.size()) + " numbers");
    const int64_t begin = offs[0].as_int(where + ": data_offsets[0]");
    const int64_t end = offs[1].as_int(where + ": data_offsets[1]");
    const std::string range = "[" + std::to_string(begin) + "," + std::to_string(end) + "]";
    if (begin < 0 || end < begin) throw error_at(where, "invalid data_offsets " + range);
    if (uint64_t(end) > data.size())
      throw error_at(where, "data_offsets " + range + " go beyond the data section (" +
                                std::to_string(data.size()) + " bytes)");
    const int64_t numel = checked_numel(t.shape);
    const uint64_t want = uint64_t(numel) * dtype_size(t.dtype);
    if (numel < 0 || (numel > 0 && want / uint64_t(numel) != dtype_size(t.dtype)))
      throw error_at(where, "shape " + shape_string(t.shape) + " is too large");
    if (want != uint64_t(end - begin))
      throw error_at(where, "shape " + shape_string(t.shape) + " of " + dtype + " needs " +
                                std::to_string(want) + " bytes, but data_offsets " + range +
                                " hold " + std::to_string(end - begin));
    t.data.assign(data.begin() + begin, data.begin() + end);
    ranges.push_back({uint64_t(begin), uint64_t(end), st.tensors_.size()});
    st.index_[name] = st.tensors_.size();
    st.tensors_.push_back(std::move(t));
  }

  // The tensors must tile the data section exactly: no overlaps, no holes, no trailing bytes.
  std::stable_sort(ranges.begin(), ranges.end(), [](const Range& a, const Range& b) {
    return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
  });
  uint64_t covered = 0;
  for (size_t i = 0; i < ranges.size(); ++i) {
    const Range& r = ranges[i];
    const std::string& name = st.tensors_[r.tensor].name;
    if (r.begin < covered)
      throw error_at(tensor_where(source, name), "data_offsets overlap tensor '" +
                                                     st.tensors_[ranges[i - 1].tensor].name + "'");
    if (r.begin > covered)
      throw error_at(tensor_where(source, name),
                     "data_offsets leave a gap: bytes [" + std::to_string(covered) + "," +
                         std::to_string(r.begin) + ") of the data section belong to no tensor");
    covered = r.end;
  }
  if (covered != data.size())
    throw error_at(source, "the data section has " + std::to_string(data.size()) +
                               " bytes but the tensors cover only " + std::to_string(covered));

  // Keep the file's order (by offset) so tensors() lists them as stored.
  std::vector<Tensor> ordered;
  ordered.reserve(st.tensors_.size());
  st.index_.clear();
  for (const Range& r : ranges) {
    st.index_[st.tensors_[r.tensor].name] = ordered.size();
    ordered.push_back(std::move(st.tensors_[r.tensor]));
  }
  st.tensors_ = std::move(ordered);
  return st;
}

}  // namespace agilenn
