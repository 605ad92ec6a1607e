#include "codec/huffman.h"

#include <algorithm>
#include <numeric>

#include "codec/bit_io.h"
#include "codec/stream.h"

namespace agilenn::codec {

HuffmanTable HuffmanTable::fit(std::span<const uint64_t> counts, unsigned max_bits) {
  const size_t n = counts.size();
  if (n < 2 || n > kMaxAlphabet)
    throw error_at("huffman", "alphabet must be 2..256, got " + std::to_string(n));
  if (max_bits < index_bits(unsigned(n)) || max_bits > kHuffmanMaxBits)
    throw error_at("huffman", "max code length " + std::to_string(max_bits) + " out of range");
  // Plain Huffman by repeated merging of the two lightest nodes; ties broken by node id, so the
  // result depends on the counts only. Node ids: leaves 0..n-1, internal n...
  struct Node {
    uint64_t weight;
    uint32_t id;
  };
  std::vector<Node> heap;
  for (uint32_t i = 0; i < n; ++i) heap.push_back({counts[i] + 1, i});
  std::vector<int32_t> parent(2 * n, -1);
  auto heavier = [](const Node& a, const Node& b) {
    return a.weight != b.weight ? a.weight > b.weight : a.id > b.id;
  };
  std::make_heap(heap.begin(), heap.end(), heavier);
  uint32_t next_id = uint32_t(n);
  while (heap.size() > 1) {
    std::pop_heap(heap.begin(), heap.end(), heavier);
    const Node a = heap.back();
    heap.pop_back();
    std::pop_heap(heap.begin(), heap.end(), heavier);
    const Node b = heap.back();
    heap.pop_back();
    parent[a.id] = int32_t(next_id);
    parent[b.id] = int32_t(next_id);
    heap.push_back({a.weight + b.weight, next_id++});
    std::push_heap(heap.begin(), heap.end(), heavier);
  }
  std::vector<unsigned> depth(n);
  for (size_t i = 0; i < n; ++i) {
    unsigned d = 0;
    for (int32_t p = parent[i]; p >= 0; p = parent[size_t(p)]) ++d;
    depth[i] = d;
  }
  // Length limiting (the JPEG Annex K.3 adjustment on the count per length): move pairs of the
  // longest codes up and split a shorter leaf, until nothing is longer than max_bits. Then give
  // the shortest lengths to the most frequent symbols.
  std::vector<unsigned> per_len(64, 0);
  for (unsigned d : depth) ++per_len[d];
  for (unsigned i = 63; i > max_bits; --i) {
    while (per_len[i] > 0) {
      unsigned j = i - 2;
      while (per_len[j] == 0) --j;
      per_len[i] -= 2;
      per_len[i - 1] += 1;
      per_len[j + 1] += 2;
      per_len[j] -= 1;
    }
  }
  std::vector<uint32_t> order(n);
  std::iota(order.begin(), order.end(), 0u);
  std::stable_sort(order.begin(), order.end(),
                   [&](uint32_t a, uint32_t b) { return counts[a] > counts[b]; });
  std::vector<uint8_t> lengths(n);
  size_t k = 0;
  for (unsigned len = 1; len <= max_bits; ++len)
    for (unsigned c = 0; c < per_len[len]; ++c) lengths[order[k++]] = uint8_t(len);
  return from_lengths(std::move(lengths), "huffman");
}

HuffmanTable HuffmanTable::from_lengths(std::vector<uint8_t> lengths, const std::string& where) {
  if (lengths.size() < 2 || lengths.size() > kMaxAlphabet)
    throw error_at(where, "alphabet must be 2..256, got " + std::to_string(lengths.size()));
  uint64_t kraft = 0;  // in units of 2^-kHuffmanMaxBits
  for (size_t i = 0; i < lengths.size(); ++i) {
    if (lengths[i] < 1 || lengths[i] > kHuffmanMaxBits)
      throw error_at(where + ".lengths[" + std::to_string(i) + "]",
                     "code length " + std::to_string(lengths[i]) + " not in 1..15");
    kraft += uint64_t(1) << (kHuffmanMaxBits - lengths[i]);
  }
  if (kraft != (uint64_t(1) << kHuffmanMaxBits))
    throw error_at(where + ".lengths", "code lengths do not form a complete prefix code");
  HuffmanTable t;
  t.lengths_ = std::move(lengths);
  t.build_codes();
  return t;
}

void HuffmanTable::build_codes() {
  const size_t n = lengths_.size();
  std::fill(std::begin(count_), std::end(count_), 0);
  for (uint8_t l : lengths_) ++count_[l];
  uint32_t code = 0;
  uint16_t index = 0;
  for (unsigned len = 1; len <= kHuffmanMaxBits; ++len) {
    code = (code + (len > 1 ? count_[len - 1] : 0)) << (len > 1 ? 1 : 0);
    first_code_[len] = uint16_t(code);
    first_index_[len] = index;
    index = uint16_t(index + count_[len]);
  }
  // Canonical order: by length, then by symbol.
  sorted_.assign(n, 0);
  codes_.assign(n, 0);
  uint16_t next_index[kHuffmanMaxBits + 1];
  uint16_t next_code[kHuffmanMaxBits + 1];
  for (unsigned len = 1; len <= kHuffmanMaxBits; ++len) {
    next_index[len] = first_index_[len];
    next_code[len] = first_code_[len];
  }
  for (size_t s = 0; s < n; ++s) {
    const unsigned len = lengths_[s];
    sorted_[next_index[len]++] = uint8_t(s);
    codes_[s] = next_code[len]++;
  }
}

std::vector<uint8_t> HuffmanTable::encode(std::span<const uint8_t> indices) const {
  std::vector<uint8_t> out;
  BitWriter w(out);
  for (uint8_t s : indices) {
    if (s >= lengths_.size())
      throw Error("huffman: index " + std::to_string(s) + " >= alphabet " +
                  std::to_string(lengths_.size()));
    w.put(codes_[s], lengths_[s]);
  }
  w.flush();
  return out;
}

void HuffmanTable::decode(std::span<const uint8_t> payload, std::span<uint8_t> out) const {
  BitReader r(payload);
  for (auto& s : out) {
    uint32_t code = 0;
    unsigned len = 0;
    // A complete canonical code: some length <= kHuffmanMaxBits always matches.
    while (true) {
      code = (code << 1) | r.get_bit();
      ++len;
      if (len > kHuffmanMaxBits) throw Error("payload: invalid Huffman code");
      if (code - first_code_[len] < count_[len]) {
        s = sorted_[first_index_[len] + (code - first_code_[len])];
        break;
      }
    }
  }
  r.expect_end();
}

}  // namespace agilenn::codec
