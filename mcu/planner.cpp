#include "mcu/planner.h"

#include <algorithm>
#include <numeric>

#include "nn/io/error.h"

namespace agilenn::mcu {

namespace {
bool lifetimes_meet(const PlannedBuffer& a, const PlannedBuffer& b) {
  return a.first_op <= b.last_op && b.first_op <= a.last_op;
}
size_t align_up(size_t v, size_t a) {
  return (v + a - 1) / a * a;
}
}  // namespace

size_t plan_arena(std::vector<PlannedBuffer>& buffers, size_t alignment) {
  if (alignment == 0) throw Error("plan_arena: alignment must be > 0");
  for (const auto& b : buffers)
    if (b.first_op > b.last_op)
      throw Error("plan_arena: buffer " + b.name + " ends before it starts");
  std::vector<size_t> order(buffers.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return buffers[a].size > buffers[b].size; });
  std::vector<size_t> placed;
  size_t arena = 0;
  for (size_t i : order) {
    PlannedBuffer& b = buffers[i];
    // Intervals already taken by placed buffers that are live at the same time, by offset.
    std::vector<std::pair<size_t, size_t>> taken;
    for (size_t j : placed)
      if (lifetimes_meet(b, buffers[j]))
        taken.push_back({buffers[j].offset, buffers[j].offset + buffers[j].size});
    std::sort(taken.begin(), taken.end());
    size_t offset = 0;
    for (auto [lo, hi] : taken) {
      if (offset + b.size <= lo) break;  // fits in the gap before this interval
      offset = std::max(offset, align_up(hi, alignment));
    }
    b.offset = offset;
    arena = std::max(arena, align_up(offset + b.size, alignment));
    placed.push_back(i);
  }
  return arena;
}

bool live_buffers_overlap(const std::vector<PlannedBuffer>& buffers) {
  for (size_t i = 0; i < buffers.size(); ++i)
    for (size_t j = i + 1; j < buffers.size(); ++j) {
      const auto &a = buffers[i], &b = buffers[j];
      if (a.size == 0 || b.size == 0 || !lifetimes_meet(a, b)) continue;
      if (a.offset < b.offset + b.size && b.offset < a.offset + a.size) return true;
    }
  return false;
}

}  // namespace agilenn::mcu
