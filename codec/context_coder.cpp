#include "codec/context_coder.h"

#include <algorithm>

#include "codec/packed.h"
#include "codec/range_coder.h"
#include "nn/io/error.h"

namespace agilenn::codec {
namespace {

// Offset of the probabilities of (y, x, r)'s context, in entries of the probability table:
//   (((group(r) * L + q(left)) * L + q(up)) * L + q(prev)) * nodes
// as a sum of four small lookup tables (what the MCU port does too: no multiply per index).
struct ContextIndexer {
  StreamShape shape;
  size_t row_stride;
  std::vector<uint32_t> group_off;                   // [r]
  std::vector<uint32_t> left_off, up_off, prev_off;  // [index value]
  ContextIndexer(const StreamShape& s, const ContextConfig& c, unsigned alphabet, size_t nodes)
      : shape(s), row_stride(size_t(s.width) * s.channels) {
    const uint32_t L = c.levels;
    group_off.resize(s.channels);
    for (uint32_t r = 0; r < s.channels; ++r)
      group_off[r] = uint32_t(uint64_t(r) * c.groups / s.channels * L * L * L * nodes);
    left_off.resize(alphabet);
    up_off.resize(alphabet);
    prev_off.resize(alphabet);
    for (uint32_t v = 0; v < alphabet; ++v) {
      const uint32_t q = v < L ? v : L - 1;
      left_off[v] = uint32_t(q * L * L * nodes);
      up_off[v] = uint32_t(q * L * nodes);
      prev_off[v] = uint32_t(q * nodes);
    }
  }
  // `map` holds the indices coded so far (everything before (y, x, r) in NHWC order); missing
  // neighbours count as index 0.
  uint32_t operator()(const uint8_t* map, size_t pos, uint32_t y, uint32_t x, uint32_t r) const {
    return group_off[r] + left_off[x > 0 ? map[pos - shape.channels] : 0] +
           up_off[y > 0 ? map[pos - row_stride] : 0] + prev_off[r > 0 ? map[pos - 1] : 0];
  }
};

void check_shape(const ContextModel& m, const StreamShape& shape) {
  if (shape.channels != m.channels())
    throw Error("context coder: stream has " + std::to_string(shape.channels) +
                " channels, the model was fitted for " + std::to_string(m.channels()));
}

// The encoders' scan: checks the count and every index against the alphabet, then calls
// code(index, context offset) in coding order (y, x, r).
template <typename Code>
void scan_for_encoding(std::span<const uint8_t> indices, const StreamShape& shape,
                       unsigned alphabet, const ContextIndexer& ctx_of, Code code) {
  if (indices.size() != shape.size())
    throw Error("context coder: " + std::to_string(indices.size()) + " indices for a shape of " +
                std::to_string(shape.size()));
  const uint8_t* map = indices.data();
  size_t pos = 0;
  for (uint32_t y = 0; y < shape.height; ++y)
    for (uint32_t x = 0; x < shape.width; ++x)
      for (uint32_t r = 0; r < shape.channels; ++r, ++pos) {
        const unsigned s = map[pos];
        if (s >= alphabet)
          throw Error("context coder: index " + std::to_string(s) + " >= alphabet " +
                      std::to_string(alphabet));
        code(s, ctx_of(map, pos, y, x, r));
      }
}

// The decoders' scan: checks the output size, then fills out in coding order (y, x, r) with
// decode(context offset), whose result is checked against the alphabet (corrupt payloads).
template <typename Decode>
void scan_for_decoding(std::span<uint8_t> out, const StreamShape& shape, unsigned alphabet,
                       const ContextIndexer& ctx_of, Decode decode) {
  if (out.size() != shape.size())
    throw Error("context coder: output holds " + std::to_string(out.size()) +
                " indices for a shape of " + std::to_string(shape.size()));
  uint8_t* map = out.data();
  size_t pos = 0;
  for (uint32_t y = 0; y < shape.height; ++y)
    for (uint32_t x = 0; x < shape.width; ++x)
      for (uint32_t r = 0; r < shape.channels; ++r, ++pos) {
        const unsigned s = decode(ctx_of(map, pos, y, x, r));
        if (s >= alphabet)
          throw Error("payload: decoded index " + std::to_string(s) + " >= alphabet " +
                      std::to_string(alphabet));
        map[pos] = uint8_t(s);
      }
}

}  // namespace

ContextModel::ContextModel(unsigned alphabet, unsigned channels, ContextConfig config,
                           std::vector<uint16_t> init_probs, const std::string& where)
    : alphabet_(alphabet),
      channels_(channels),
      config_(config),
      init_probs_(std::move(init_probs)) {
  if (alphabet < 2 || alphabet > kMaxAlphabet)
    throw error_at(where + ".alphabet", "must be 2..256, got " + std::to_string(alphabet));
  if (channels < 1 || channels > 65535)
    throw error_at(where + ".channels", "must be 1..65535, got " + std::to_string(channels));
  if (config.levels < 1 || config.levels > alphabet)
    throw error_at(where + ".levels", "must be 1..alphabet, got " + std::to_string(config.levels));
  if (config.groups < 1 || config.groups > channels)
    throw error_at(where + ".groups", "must be 1..channels, got " + std::to_string(config.groups));
  if (config.shift < 1 || config.shift > 8)
    throw error_at(where + ".shift", "must be 1..8, got " + std::to_string(config.shift));
  const uint64_t expect = uint64_t(config.groups) * config.levels * config.levels * config.levels *
                          ((uint64_t(1) << index_bits(alphabet)) - 1);
  if (expect > (uint64_t(1) << 24))
    throw error_at(where, "table of " + std::to_string(expect) + " probabilities is too large");
  if (init_probs_.size() != expect)
    throw error_at(where + ".probs", "has " + std::to_string(init_probs_.size()) +
                                         " entries, config needs " + std::to_string(expect));
  for (size_t i = 0; i < init_probs_.size(); ++i)
    if (init_probs_[i] < 1 || init_probs_[i] >= kProbOne)
      throw error_at(where + ".probs[" + std::to_string(i) + "]",
                     "probability " + std::to_string(init_probs_[i]) + " not in 1..4095");
  static_cdf_ = derive_static_cdf();
}

size_t ContextModel::contexts() const {
  return size_t(config_.groups) * config_.levels * config_.levels * config_.levels;
}

std::vector<uint8_t> ContextModel::encode(std::span<const uint8_t> indices,
                                          const StreamShape& shape) const {
  check_shape(*this, shape);
  const unsigned bits = index_bits(alphabet_);
  std::vector<uint16_t> probs = init_probs_;
  ContextIndexer ctx_of(shape, config_, alphabet_, nodes());
  std::vector<uint8_t> out;
  out.reserve(indices.size() / 2 + 16);
  RangeEncoder enc(out);
  scan_for_encoding(indices, shape, alphabet_, ctx_of, [&](unsigned s, uint32_t ctx) {
    uint16_t* p = probs.data() + ctx;  // p[node - 1]
    unsigned node = 1;
    for (unsigned b = bits; b-- > 0;) {
      const unsigned bit = (s >> b) & 1u;
      enc.encode(p[node - 1], bit, config_.shift);
      node = 2 * node + bit;
    }
  });
  enc.finish();
  return out;
}

void ContextModel::decode(std::span<const uint8_t> payload, const StreamShape& shape,
                          std::span<uint8_t> out) const {
  check_shape(*this, shape);
  const unsigned bits = index_bits(alphabet_);
  std::vector<uint16_t> probs = init_probs_;
  ContextIndexer ctx_of(shape, config_, alphabet_, nodes());
  RangeDecoder dec(payload);
  scan_for_decoding(out, shape, alphabet_, ctx_of, [&](uint32_t ctx) {
    uint16_t* p = probs.data() + ctx;
    unsigned node = 1;
    for (unsigned b = 0; b < bits; ++b) node = 2 * node + dec.decode(p[node - 1], config_.shift);
    return node - (1u << bits);
  });
  dec.expect_end();
}

std::vector<uint16_t> ContextModel::derive_static_cdf() const {
  const unsigned bits = index_bits(alphabet_);
  const size_t nodes = this->nodes(), C = alphabet_, leaf = size_t(1) << bits;
  const uint32_t total = 1u << kStaticTotalBits;
  std::vector<uint16_t> cdf(contexts() * (C + 1));
  std::vector<uint32_t> mass(2 * leaf);
  std::vector<uint32_t> freq(C);
  for (size_t c = 0; c < contexts(); ++c) {
    const uint16_t* p = init_probs_.data() + c * nodes;
    mass[1] = 1u << 16;
    for (size_t n = 1; n < leaf; ++n) {
      const uint32_t m0 = (mass[n] * p[n - 1]) >> kProbBits;
      mass[2 * n] = m0;
      mass[2 * n + 1] = mass[n] - m0;
    }
    uint64_t sum_mass = 0;
    for (size_t s = 0; s < C; ++s) sum_mass += mass[leaf + s];
    uint32_t sum = 0;
    for (size_t s = 0; s < C; ++s) {
      const uint64_t f =
          sum_mass == 0 ? 1 : (uint64_t(mass[leaf + s]) * total + sum_mass / 2) / sum_mass;
      freq[s] = uint32_t(std::max<uint64_t>(f, 1));
      sum += freq[s];
    }
    while (sum != total) {  // C <= 256 <= 2^12: every frequency can stay >= 1
      size_t big = 0;
      for (size_t s = 1; s < C; ++s)
        if (freq[s] > freq[big]) big = s;
      if (sum > total) {
        --freq[big];
        --sum;
      } else {
        ++freq[big];
        ++sum;
      }
    }
    uint16_t* out = cdf.data() + c * (C + 1);
    out[0] = 0;
    for (size_t s = 0; s < C; ++s) out[s + 1] = uint16_t(out[s] + freq[s]);
  }
  return cdf;
}

std::vector<uint8_t> ContextModel::encode_static(std::span<const uint8_t> indices,
                                                 const StreamShape& shape) const {
  check_shape(*this, shape);
  const std::vector<uint16_t>& cdf = static_cdf_;
  ContextIndexer ctx_of(shape, config_, alphabet_, alphabet_ + 1);
  std::vector<uint8_t> out;
  out.reserve(indices.size() / 2 + 16);
  RangeEncoder enc(out);
  scan_for_encoding(indices, shape, alphabet_, ctx_of, [&](unsigned s, uint32_t ctx) {
    const uint16_t* cum = cdf.data() + ctx;
    enc.encode_interval(cum[s], uint32_t(cum[s + 1]) - cum[s]);
  });
  enc.finish();
  return out;
}

void ContextModel::decode_static(std::span<const uint8_t> payload, const StreamShape& shape,
                                 std::span<uint8_t> out) const {
  check_shape(*this, shape);
  const std::vector<uint16_t>& cdf = static_cdf_;
  ContextIndexer ctx_of(shape, config_, alphabet_, alphabet_ + 1);
  RangeDecoder dec(payload);
  scan_for_decoding(out, shape, alphabet_, ctx_of,
                    [&](uint32_t ctx) { return dec.decode_interval(cdf.data() + ctx, alphabet_); });
  dec.expect_end();
}

std::vector<uint8_t> ContextModel::constant_channels(std::span<const uint8_t> indices,
                                                     const StreamShape& shape) {
  if (indices.size() != shape.size())
    throw Error("context coder: " + std::to_string(indices.size()) + " indices for a shape of " +
                std::to_string(shape.size()));
  std::vector<uint8_t> constant(shape.channels, 1);
  for (size_t pos = shape.channels; pos < indices.size(); ++pos)
    if (indices[pos] != indices[pos % shape.channels]) constant[pos % shape.channels] = 0;
  return constant;
}

std::vector<uint8_t> ContextModel::encode_static_skip(std::span<const uint8_t> indices,
                                                      const StreamShape& shape,
                                                      std::span<const uint8_t> skip) const {
  check_shape(*this, shape);
  if (skip.size() != shape.channels)
    throw Error("context-skip coder: " + std::to_string(skip.size()) + " skip flags for " +
                std::to_string(shape.channels) + " channels");
  if (indices.size() != shape.size())
    throw Error("context coder: " + std::to_string(indices.size()) + " indices for a shape of " +
                std::to_string(shape.size()));
  const uint32_t R = shape.channels;
  std::vector<uint8_t> out((R + 7) / 8, 0), values;
  for (uint32_t r = 0; r < R; ++r) {
    if (!skip[r]) continue;
    for (size_t pos = r; pos < indices.size(); pos += R)
      if (indices[pos] != indices[r])
        throw Error("context-skip coder: channel " + std::to_string(r) +
                    " is flagged constant but is not");
    out[r / 8] |= uint8_t(1u << (r % 8));
    values.push_back(indices[r]);
  }
  const std::vector<uint8_t> packed = packed_encode(values, alphabet_);  // checks the alphabet
  out.insert(out.end(), packed.begin(), packed.end());
  const std::vector<uint16_t>& cdf = static_cdf_;
  ContextIndexer ctx_of(shape, config_, alphabet_, alphabet_ + 1);
  RangeEncoder enc(out);
  scan_for_encoding(indices, shape, alphabet_, ctx_of,
                    [&, r = uint32_t(0)](unsigned s, uint32_t ctx) mutable {
                      const uint32_t channel = r;
                      r = r + 1 == R ? 0 : r + 1;
                      if (skip[channel]) return;
                      const uint16_t* cum = cdf.data() + ctx;
                      enc.encode_interval(cum[s], uint32_t(cum[s + 1]) - cum[s]);
                    });
  enc.finish();
  return out;
}

void ContextModel::decode_static_skip(std::span<const uint8_t> payload, const StreamShape& shape,
                                      std::span<uint8_t> out) const {
  check_shape(*this, shape);
  if (out.size() != shape.size())
    throw Error("context coder: output holds " + std::to_string(out.size()) +
                " indices for a shape of " + std::to_string(shape.size()));
  const uint32_t R = shape.channels;
  const size_t mask_bytes = (R + 7) / 8;
  if (payload.size() < mask_bytes)
    throw Error("payload: truncated (context-skip mask needs " + std::to_string(mask_bytes) +
                " bytes, got " + std::to_string(payload.size()) + ")");
  std::vector<uint8_t> skip(R, 0);
  size_t skipped = 0;
  for (uint32_t bit = 0; bit < 8 * mask_bytes; ++bit) {
    const bool set = (payload[bit / 8] >> (bit % 8)) & 1u;
    if (bit >= R && set)
      throw Error("payload: context-skip mask sets bit " + std::to_string(bit) + " for " +
                  std::to_string(R) + " channels");
    if (bit < R && set) {
      skip[bit] = 1;
      ++skipped;
    }
  }
  const size_t value_bytes = (skipped * index_bits(alphabet_) + 7) / 8;
  if (payload.size() - mask_bytes < value_bytes)
    throw Error("payload: truncated (context-skip values need " + std::to_string(value_bytes) +
                " bytes after the mask)");
  std::vector<uint8_t> values(skipped);
  packed_decode(payload.subspan(mask_bytes, value_bytes), alphabet_, values);  // checks < C
  for (uint32_t r = 0, j = 0; r < R; ++r)
    if (skip[r]) {
      for (size_t pos = r; pos < out.size(); pos += R) out[pos] = values[j];
      ++j;
    }
  // The server's hot loop: its own scan (no per-position channel modulo, no context for a
  // skipped channel, which keeps the value written above). decode_interval only returns
  // indices < alphabet (it throws on a code past the last one).
  const uint16_t* cdf = static_cdf_.data();
  ContextIndexer ctx_of(shape, config_, alphabet_, alphabet_ + 1);
  RangeDecoder dec(payload.subspan(mask_bytes + value_bytes));
  uint8_t* map = out.data();
  size_t pos = 0;
  for (uint32_t y = 0; y < shape.height; ++y)
    for (uint32_t x = 0; x < shape.width; ++x)
      for (uint32_t r = 0; r < R; ++r, ++pos)
        if (!skip[r])
          map[pos] = uint8_t(dec.decode_interval(cdf + ctx_of(map, pos, y, x, r), alphabet_));
  dec.expect_end();
}

ContextModel ContextModel::fit_config(std::span<const uint8_t> images, size_t n_images,
                                      const StreamShape& shape, unsigned alphabet,
                                      const ContextConfig& config) {
  if (images.size() != n_images * shape.size())
    throw error_at("context fit", "training data holds " + std::to_string(images.size()) +
                                      " indices, expected " + std::to_string(n_images) + " x " +
                                      std::to_string(shape.size()));
  if (alphabet < 2 || alphabet > kMaxAlphabet || config.levels < 1 || config.levels > alphabet ||
      config.groups < 1 || config.groups > shape.channels || config.shift < 1 || config.shift > 8)
    throw error_at("context fit", "invalid configuration");
  const unsigned bits = index_bits(alphabet);
  const size_t nodes = (size_t(1) << bits) - 1;
  const size_t contexts = size_t(config.groups) * config.levels * config.levels * config.levels;
  if (contexts * nodes > (size_t(1) << 24)) throw error_at("context fit", "table too large");
  std::vector<uint64_t> zeros(contexts * nodes, 0), totals(contexts * nodes, 0);
  ContextIndexer ctx_of(shape, config, alphabet, nodes);
  for (size_t i = 0; i < n_images; ++i) {
    const uint8_t* map = images.data() + i * shape.size();
    size_t pos = 0;
    for (uint32_t y = 0; y < shape.height; ++y)
      for (uint32_t x = 0; x < shape.width; ++x)
        for (uint32_t r = 0; r < shape.channels; ++r, ++pos) {
          const unsigned s = map[pos];
          if (s >= alphabet)
            throw error_at("context fit", "training index " + std::to_string(s) + " >= alphabet " +
                                              std::to_string(alphabet));
          const size_t base = ctx_of(map, pos, y, x, r);
          unsigned node = 1;
          for (unsigned b = bits; b-- > 0;) {
            const unsigned bit = (s >> b) & 1u;
            zeros[base + node - 1] += bit == 0;
            totals[base + node - 1] += 1;
            node = 2 * node + bit;
          }
        }
  }
  // P(0) with a half-count prior, in 12 bits, kept away from 0 and 1 so adaptation can recover.
  std::vector<uint16_t> probs(contexts * nodes);
  for (size_t i = 0; i < probs.size(); ++i) {
    const uint64_t p = ((2 * zeros[i] + 1) * kProbOne) / (2 * totals[i] + 2);
    probs[i] = uint16_t(std::clamp<uint64_t>(p, 31, kProbOne - 31));
  }
  return ContextModel(alphabet, shape.channels, config, std::move(probs));
}

ContextModel ContextModel::fit(std::span<const uint8_t> images, size_t n_images,
                               const StreamShape& shape, unsigned alphabet, size_t table_budget) {
  if (n_images == 0) throw error_at("context fit", "no training images");
  const size_t nodes = (size_t(1) << index_bits(alphabet)) - 1;
  std::vector<uint32_t> group_options = {1, 2, 3, 4, 6, 8, shape.channels};
  std::sort(group_options.begin(), group_options.end());
  group_options.erase(std::unique(group_options.begin(), group_options.end()), group_options.end());
  // Selection runs on at most 256 images to keep fitting fast; the final tables use all of them.
  const size_t n_select = std::min<size_t>(n_images, 256);
  const auto select_images = images.subspan(0, n_select * shape.size());
  ContextConfig best_config;
  uint64_t best_bytes = UINT64_MAX;
  for (uint32_t levels = 1; levels <= alphabet; ++levels) {
    for (uint32_t groups : group_options) {
      if (groups > shape.channels) continue;
      if (uint64_t(groups) * levels * levels * levels * nodes * 2 > table_budget) continue;
      for (uint32_t shift : {4u, 5u, 6u}) {
        const ContextConfig cfg{levels, groups, shift};
        const ContextModel m = fit_config(select_images, n_select, shape, alphabet, cfg);
        uint64_t bytes = 0;
        for (size_t i = 0; i < n_select && bytes < best_bytes; ++i)
          bytes += m.encode(select_images.subspan(i * shape.size(), shape.size()), shape).size();
        if (bytes < best_bytes) {
          best_bytes = bytes;
          best_config = cfg;
        }
      }
    }
  }
  if (best_bytes == UINT64_MAX)
    throw error_at("context fit",
                   "no context configuration fits in " + std::to_string(table_budget) + " bytes");
  return fit_config(images, n_images, shape, alphabet, best_config);
}

Json ContextModel::to_json() const {
  Json j = Json::object();
  j["alphabet"] = alphabet_;
  j["channels"] = channels_;
  j["levels"] = config_.levels;
  j["groups"] = config_.groups;
  j["shift"] = config_.shift;
  Json probs = Json::array();
  for (uint16_t p : init_probs_) probs.push_back(Json(unsigned(p)));
  j["probs"] = std::move(probs);
  return j;
}

ContextModel ContextModel::from_json(const Json& j, const std::string& where) {
  auto uint_field = [&](const char* name, int64_t max) {
    const int64_t v = j.at(name).as_int(where + "." + name);
    if (v < 0 || v > max) throw error_at(where + "." + name, "out of range: " + std::to_string(v));
    return unsigned(v);
  };
  const unsigned alphabet = uint_field("alphabet", kMaxAlphabet);
  const unsigned channels = uint_field("channels", 65535);
  ContextConfig cfg{uint_field("levels", kMaxAlphabet), uint_field("groups", 65535),
                    uint_field("shift", 8)};
  const auto& arr = j.at("probs").as_array(where + ".probs");
  if (arr.size() > (size_t(1) << 24)) throw error_at(where + ".probs", "too many entries");
  std::vector<uint16_t> probs(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string name = where + ".probs[" + std::to_string(i) + "]";
    const int64_t v = arr[i].as_int(name);
    if (v < 1 || v >= int64_t(kProbOne)) throw error_at(name, "not in 1..4095");
    probs[i] = uint16_t(v);
  }
  return ContextModel(alphabet, channels, cfg, std::move(probs), where);
}

}  // namespace agilenn::codec
