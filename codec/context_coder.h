// Coder 3 (the default): context-modelled adaptive binary range coding of the index stream.
//
// Each index is binarised MSB first along a binary tree of depth B = ceil(log2 C) (node 1 is the
// root, node 2n + bit the child), and every tree node has its own adaptive probability in each
// context. The context of index (y, x, r) exploits the feature map's structure:
//   ctx = ((group(r) * L + q(left)) * L + q(up)) * L + q(prev)
// with left = (y, x-1, r), up = (y-1, x, r), prev = (y, x, r-1) (already coded in NHWC order;
// missing neighbours count as index 0), q(v) = min(v, L-1) and group(r) = r * G / R.
// L (neighbour levels), G (channel groups) and the adaptation shift are fitted on training
// data together with the initial probabilities, within a table budget; every packet starts from
// the fitted tables and adapts them (packets decode independently).
//
// MCU cost: tables = G * L^3 * (2^B - 1) * 2 bytes (fitted under kContextTableBudget bytes; the
// working copy is reset from flash per packet), plus one row of indices for "up" if the map is
// not kept (the encoder has the whole H*W*R index map anyway). Per index: 3 neighbour loads,
// the context offset (4 small table lookups and 3 adds here; a few multiplies in codec/c),
// then B binary decisions of the range coder (see
// range_coder.h): no division anywhere.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/stream.h"
#include "nn/io/json.h"

namespace agilenn::codec {

constexpr size_t kContextTableBudget = 4096;  // bytes of probability tables

struct ContextConfig {
  uint32_t levels = 1;  // L: neighbour values are clamped to 0..L-1
  uint32_t groups = 1;  // G: channel groups
  uint32_t shift = 5;   // adaptation rate: p moves by 1/2^shift of the way to the bit
  bool operator==(const ContextConfig&) const = default;
};

class ContextModel {
 public:
  ContextModel() = default;
  // Checks every field (alphabet 2..256, channels >= 1, levels 1..alphabet, groups 1..channels,
  // shift 1..8, probs.size() == contexts * nodes, each prob in 1..4095), naming `where`.
  ContextModel(unsigned alphabet, unsigned channels, ContextConfig config,
               std::vector<uint16_t> init_probs, const std::string& where = "context model");

  // Fits config and initial probabilities on `n_images` training streams of `shape` laid out
  // back to back. Deterministic: the config is chosen by the training-set code length, ties to
  // the first candidate (smaller tables first).
  static ContextModel fit(std::span<const uint8_t> images, size_t n_images,
                          const StreamShape& shape, unsigned alphabet,
                          size_t table_budget = kContextTableBudget);
  // Initial probabilities from counts for a given config (used by fit, exposed for tests).
  static ContextModel fit_config(std::span<const uint8_t> images, size_t n_images,
                                 const StreamShape& shape, unsigned alphabet,
                                 const ContextConfig& config);

  unsigned alphabet() const { return alphabet_; }
  unsigned channels() const { return channels_; }
  const ContextConfig& config() const { return config_; }
  const std::vector<uint16_t>& init_probs() const { return init_probs_; }
  size_t contexts() const;
  size_t nodes() const { return (size_t(1) << index_bits(alphabet_)) - 1; }
  size_t table_bytes() const { return init_probs_.size() * 2; }

  std::vector<uint8_t> encode(std::span<const uint8_t> indices, const StreamShape& shape) const;
  void decode(std::span<const uint8_t> payload, const StreamShape& shape,
              std::span<uint8_t> out) const;

  // Coder 4 ("context-static", packet version 2): the same contexts, but each codes a whole
  // index in one multi-symbol range-coder step with the static distribution its initial tree
  // probabilities define, no adaptation: on an MCU one table lookup, two multiplies and no
  // per-bit work per index, and the table stays in flash. static_cdf() is that distribution,
  // derived in integers (exact on every machine): [context][C + 1] cumulative frequencies,
  // 0 .. 2^kStaticTotalBits, every index's frequency >= 1. Tree masses: the root 2^16, child 0
  // gets (mass * p) >> 12, child 1 the rest; index frequencies round mass * 2^12 / (sum of the C
  // masses), at least 1, and the sum is then corrected one unit at a time on the largest
  // frequency (ties: lowest index). Derived once, when the model is built: the server decodes
  // every packet with it, and deriving it per packet was most of a packet's decode time.
  const std::vector<uint16_t>& static_cdf() const { return static_cdf_; }
  std::vector<uint8_t> encode_static(std::span<const uint8_t> indices,
                                     const StreamShape& shape) const;
  void decode_static(std::span<const uint8_t> payload, const StreamShape& shape,
                     std::span<uint8_t> out) const;

  // Coder 5 ("context-skip", packet version 3): coder 4 without the channels that are constant
  // in the image. `skip` (R flags) names channels whose H x W indices all equal (the encoder
  // checks it); they are sent once and never range-coded. Payload: the skip mask, ceil(R / 8)
  // bytes (bit r % 8 of byte r / 8, LSB first; bits >= R zero), then their values as packed bits
  // (B = ceil(log2 C) bits each, MSB first, channel order, zero padding), then coder 4's range
  // stream of the other channels in (y, x, r) order with coder 4's contexts over the whole map
  // (a skipped neighbour is its constant). An MCU skips the channels its weights make constant:
  // no multiply-accumulate, no quantizer, no coder step for them.
  std::vector<uint8_t> encode_static_skip(std::span<const uint8_t> indices,
                                          const StreamShape& shape,
                                          std::span<const uint8_t> skip) const;
  void decode_static_skip(std::span<const uint8_t> payload, const StreamShape& shape,
                          std::span<uint8_t> out) const;
  // The channels whose indices are all equal in this image (R flags): what encode_payload skips.
  static std::vector<uint8_t> constant_channels(std::span<const uint8_t> indices,
                                                const StreamShape& shape);

  Json to_json() const;
  static ContextModel from_json(const Json& j, const std::string& where);

 private:
  unsigned alphabet_ = 0, channels_ = 0;
  ContextConfig config_;
  std::vector<uint16_t> init_probs_;  // [context][node - 1]
  std::vector<uint16_t> static_cdf_;  // [context][C + 1], from init_probs_
  std::vector<uint16_t> derive_static_cdf() const;
};

}  // namespace agilenn::codec
