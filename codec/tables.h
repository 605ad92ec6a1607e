// The codec's fitted tables, stored with the model: static Huffman lengths and the context
// model's configuration and initial probabilities, plus the split parameters they belong to.
// Serialisable to bytes (for the model file and the MCU's flash) and to JSON (for humans).
// fingerprint() goes into every packet so a server never decodes with the wrong tables.
#pragma once
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "codec/context_coder.h"
#include "codec/huffman.h"
#include "codec/stream.h"
#include "nn/io/json.h"

namespace agilenn::codec {

struct CodecTables {
  uint32_t alphabet = 0;         // C
  uint32_t remote_channels = 0;  // R
  uint32_t local_channels = 0;   // k
  uint32_t model_id = 0;         // id of the trained weights these tables belong to (0: none)
  HuffmanTable huffman;
  ContextModel context;

  // Fits both coders' tables on n_images training streams of `shape` stored back to back.
  static CodecTables fit(std::span<const uint8_t> images, size_t n_images, const StreamShape& shape,
                         unsigned alphabet, uint32_t local_channels, uint32_t model_id = 0,
                         size_t context_budget = kContextTableBudget);

  // CRC-32 of to_bytes() without its trailing checksum: changes when any table, the shape or
  // model_id changes.
  uint32_t fingerprint() const;

  std::vector<uint8_t> to_bytes() const;
  static CodecTables from_bytes(std::span<const uint8_t> bytes, const std::string& where);
  Json to_json() const;
  static CodecTables from_json(const Json& j, const std::string& where);
};

}  // namespace agilenn::codec
