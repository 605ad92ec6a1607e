#include "codec/tables.h"

#include <algorithm>

#include "codec/crc32.h"
#include "codec/range_coder.h"
#include "nn/io/error.h"

namespace agilenn::codec {
namespace {

constexpr uint8_t kTablesMagic[4] = {'A', 'G', 'C', 'T'};
constexpr uint8_t kTablesVersion = 1;

void put_u16(std::vector<uint8_t>& b, uint32_t v) {
  b.push_back(uint8_t(v));
  b.push_back(uint8_t(v >> 8));
}
void put_u32(std::vector<uint8_t>& b, uint32_t v) {
  for (int i = 0; i < 4; ++i) b.push_back(uint8_t(v >> (8 * i)));
}

// Bounds-checked little-endian reader naming the field that runs past the end.
class Reader {
 public:
  Reader(std::span<const uint8_t> b, const std::string& where) : b_(b), where_(where) {}
  uint32_t u8(const char* field) { return take(1, field)[0]; }
  uint32_t u16(const char* field) {
    const uint8_t* p = take(2, field);
    return uint32_t(p[0]) | uint32_t(p[1]) << 8;
  }
  uint32_t u32(const char* field) {
    const uint8_t* p = take(4, field);
    return uint32_t(p[0]) | uint32_t(p[1]) << 8 | uint32_t(p[2]) << 16 | uint32_t(p[3]) << 24;
  }
  const uint8_t* take(size_t n, const char* field) {
    if (n > b_.size() - pos_)
      throw error_at(where_ + "." + field, "truncated at byte " + std::to_string(pos_) + " of " +
                                               std::to_string(b_.size()));
    const uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  size_t pos() const { return pos_; }

 private:
  std::span<const uint8_t> b_;
  std::string where_;
  size_t pos_ = 0;
};

void check_split(uint32_t alphabet, uint32_t remote, uint32_t local, const std::string& where) {
  if (alphabet < 2 || alphabet > kMaxAlphabet)
    throw error_at(where + ".alphabet", "must be 2..256, got " + std::to_string(alphabet));
  if (remote < 1 || remote > 65535)
    throw error_at(where + ".remote_channels", "must be 1..65535, got " + std::to_string(remote));
  if (local > 255)
    throw error_at(where + ".local_channels", "must be 0..255, got " + std::to_string(local));
}

}  // namespace

CodecTables CodecTables::fit(std::span<const uint8_t> images, size_t n_images,
                             const StreamShape& shape, unsigned alphabet, uint32_t local_channels,
                             uint32_t model_id, size_t context_budget) {
  check_split(alphabet, shape.channels, local_channels, "codec fit");
  if (images.size() != n_images * shape.size())
    throw error_at("codec fit", "training data holds " + std::to_string(images.size()) +
                                    " indices, expected " + std::to_string(n_images) + " x " +
                                    std::to_string(shape.size()));
  std::vector<uint64_t> counts(alphabet, 0);
  for (uint8_t s : images) {
    if (s >= alphabet)
      throw error_at("codec fit", "training index " + std::to_string(s) + " >= alphabet " +
                                      std::to_string(alphabet));
    ++counts[s];
  }
  CodecTables t;
  t.alphabet = alphabet;
  t.remote_channels = shape.channels;
  t.local_channels = local_channels;
  t.model_id = model_id;
  t.huffman = HuffmanTable::fit(counts);
  t.context = ContextModel::fit(images, n_images, shape, alphabet, context_budget);
  return t;
}

// The CRC of the body (not of body + its own CRC, which is the same constant for every body).
uint32_t CodecTables::fingerprint() const {
  const auto bytes = to_bytes();
  return crc32_of(std::span(bytes).first(bytes.size() - 4));
}

// Layout (little endian): "AGCT", version u8, alphabet-1 u8, remote_channels u16,
// local_channels u8, reserved u8 (0), model_id u32, huffman lengths [alphabet] u8,
// context levels u16, groups u16, shift u8, reserved u8 (0), probs count u32, probs u16 each,
// CRC-32 of everything before it.
std::vector<uint8_t> CodecTables::to_bytes() const {
  std::vector<uint8_t> b(std::begin(kTablesMagic), std::end(kTablesMagic));
  b.push_back(kTablesVersion);
  b.push_back(uint8_t(alphabet - 1));
  put_u16(b, remote_channels);
  b.push_back(uint8_t(local_channels));
  b.push_back(0);
  put_u32(b, model_id);
  for (uint8_t l : huffman.lengths()) b.push_back(l);
  put_u16(b, context.config().levels);
  put_u16(b, context.config().groups);
  b.push_back(uint8_t(context.config().shift));
  b.push_back(0);
  put_u32(b, uint32_t(context.init_probs().size()));
  for (uint16_t p : context.init_probs()) put_u16(b, p);
  put_u32(b, crc32_of(b));
  return b;
}

CodecTables CodecTables::from_bytes(std::span<const uint8_t> bytes, const std::string& where) {
  Reader r(bytes, where);
  const uint8_t* magic = r.take(4, "magic");
  if (!std::equal(magic, magic + 4, kTablesMagic))
    throw error_at(where + ".magic", "not codec tables");
  const uint32_t version = r.u8("version");
  if (version != kTablesVersion)
    throw error_at(where + ".version", "got " + std::to_string(version) + ", this reader reads " +
                                           std::to_string(kTablesVersion));
  CodecTables t;
  t.alphabet = r.u8("alphabet") + 1;
  t.remote_channels = r.u16("remote_channels");
  t.local_channels = r.u8("local_channels");
  if (r.u8("reserved") != 0) throw error_at(where + ".reserved", "must be 0");
  t.model_id = r.u32("model_id");
  check_split(t.alphabet, t.remote_channels, t.local_channels, where);
  const uint8_t* lengths = r.take(t.alphabet, "huffman_lengths");
  t.huffman = HuffmanTable::from_lengths(std::vector<uint8_t>(lengths, lengths + t.alphabet),
                                         where + ".huffman");
  ContextConfig cfg;
  cfg.levels = r.u16("context.levels");
  cfg.groups = r.u16("context.groups");
  cfg.shift = r.u8("context.shift");
  if (r.u8("context.reserved") != 0) throw error_at(where + ".context.reserved", "must be 0");
  const uint32_t n = r.u32("context.probs_count");
  if (n > (1u << 24))
    throw error_at(where + ".context.probs_count", "too large: " + std::to_string(n));
  const uint8_t* p = r.take(size_t(n) * 2, "context.probs");
  std::vector<uint16_t> probs(n);
  for (uint32_t i = 0; i < n; ++i) probs[i] = uint16_t(p[2 * i] | p[2 * i + 1] << 8);
  const size_t body = r.pos();
  const uint32_t crc = r.u32("crc32");
  if (crc != crc32_of(bytes.subspan(0, body)))
    throw error_at(where + ".crc32", "checksum mismatch");
  if (r.pos() != bytes.size())
    throw error_at(where, std::to_string(bytes.size() - r.pos()) + " trailing byte(s)");
  t.context =
      ContextModel(t.alphabet, t.remote_channels, cfg, std::move(probs), where + ".context");
  return t;
}

Json CodecTables::to_json() const {
  Json j = Json::object();
  j["format"] = "agilenn-codec-tables";
  j["version"] = unsigned(kTablesVersion);
  j["alphabet"] = alphabet;
  j["remote_channels"] = remote_channels;
  j["local_channels"] = local_channels;
  j["model_id"] = model_id;
  Json lengths = Json::array();
  for (uint8_t l : huffman.lengths()) lengths.push_back(Json(unsigned(l)));
  j["huffman_lengths"] = std::move(lengths);
  j["context"] = context.to_json();
  j["fingerprint"] = fingerprint();
  return j;
}

CodecTables CodecTables::from_json(const Json& j, const std::string& where) {
  if (j.at("format").as_string(where + ".format") != "agilenn-codec-tables")
    throw error_at(where + ".format", "not agilenn-codec-tables");
  if (j.at("version").as_int(where + ".version") != kTablesVersion)
    throw error_at(where + ".version", "unsupported version");
  auto field = [&](const char* name, int64_t lo, int64_t hi) {
    const int64_t v = j.at(name).as_int(where + "." + name);
    if (v < lo || v > hi) throw error_at(where + "." + name, "out of range: " + std::to_string(v));
    return uint32_t(v);
  };
  CodecTables t;
  t.alphabet = field("alphabet", 2, kMaxAlphabet);
  t.remote_channels = field("remote_channels", 1, 65535);
  t.local_channels = field("local_channels", 0, 255);
  t.model_id = field("model_id", 0, UINT32_MAX);
  const auto& arr = j.at("huffman_lengths").as_array(where + ".huffman_lengths");
  if (arr.size() != t.alphabet)
    throw error_at(where + ".huffman_lengths", "needs " + std::to_string(t.alphabet) + " entries");
  std::vector<uint8_t> lengths(arr.size());
  for (size_t i = 0; i < arr.size(); ++i) {
    const std::string name = where + ".huffman_lengths[" + std::to_string(i) + "]";
    const int64_t v = arr[i].as_int(name);
    if (v < 1 || v > kHuffmanMaxBits) throw error_at(name, "not in 1..15");
    lengths[i] = uint8_t(v);
  }
  t.huffman = HuffmanTable::from_lengths(std::move(lengths), where + ".huffman");
  t.context = ContextModel::from_json(j.at("context"), where + ".context");
  if (t.context.alphabet() != t.alphabet || t.context.channels() != t.remote_channels)
    throw error_at(where + ".context", "alphabet/channels disagree with the tables");
  if (const Json* fp = j.find("fingerprint"))
    if (fp->as_int(where + ".fingerprint") != int64_t(t.fingerprint()))
      throw error_at(where + ".fingerprint", "does not match the tables");
  return t;
}

}  // namespace agilenn::codec
