// Static arena planner: every intermediate buffer gets an offset in one arena; buffers whose
// lifetimes (inclusive op ranges) intersect never share bytes. Greedy by size, first fit
// (the TFLite Micro greedy planner's idea), offsets aligned for word loads.
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace agilenn::mcu {

struct PlannedBuffer {
  std::string name;
  size_t size = 0;
  int first_op = 0, last_op = 0;  // live from the op that writes it to the last op that reads it
  size_t offset = 0;              // set by plan_arena
};

// Assigns offsets; returns the arena size (a multiple of `alignment`).
size_t plan_arena(std::vector<PlannedBuffer>& buffers, size_t alignment = 4);
// True if two buffers with intersecting lifetimes share a byte (what plan_arena must avoid).
bool live_buffers_overlap(const std::vector<PlannedBuffer>& buffers);

}  // namespace agilenn::mcu
