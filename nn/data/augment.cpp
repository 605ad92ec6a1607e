#include "nn/data/augment.h"

#include <algorithm>
#include <cmath>

#include "nn/io/error.h"

namespace agilenn::data {

void resize_bilinear(const float* in, int h, int w, int c, float* out, int oh, int ow) {
  // Column taps are the same for every row: compute them once.
  const float sy = float(h) / float(oh), sx = float(w) / float(ow);
  std::vector<int> x0(static_cast<size_t>(ow)), x1(static_cast<size_t>(ow));
  std::vector<float> wx(static_cast<size_t>(ow));
  for (int x = 0; x < ow; ++x) {
    const float fx = std::max(0.0f, (x + 0.5f) * sx - 0.5f);
    x0[x] = std::min(int(fx), w - 1);
    x1[x] = std::min(x0[x] + 1, w - 1);
    wx[x] = fx - float(x0[x]);
  }
  for (int y = 0; y < oh; ++y) {
    const float fy = std::max(0.0f, (y + 0.5f) * sy - 0.5f);
    const int y0 = std::min(int(fy), h - 1), y1 = std::min(y0 + 1, h - 1);
    const float wy = fy - float(y0);
    const float* row0 = in + size_t(y0) * w * c;
    const float* row1 = in + size_t(y1) * w * c;
    float* o = out + size_t(y) * ow * c;
    for (int x = 0; x < ow; ++x) {
      const float* p00 = row0 + size_t(x0[x]) * c;
      const float* p01 = row0 + size_t(x1[x]) * c;
      const float* p10 = row1 + size_t(x0[x]) * c;
      const float* p11 = row1 + size_t(x1[x]) * c;
      for (int k = 0; k < c; ++k) {
        const float top = p00[k] + (p01[k] - p00[k]) * wx[x];
        const float bottom = p10[k] + (p11[k] - p10[k]) * wx[x];
        o[size_t(x) * c + k] = top + (bottom - top) * wy;
      }
    }
  }
}

Augmenter::Augmenter(const AugmentOptions& options, int in_height, int in_width, int channels)
    : opt_(options), in_h_(in_height), in_w_(in_width), c_(channels) {
  if (in_h_ <= 0 || in_w_ <= 0 || c_ <= 0) throw Error("augment: invalid input shape");
  if (opt_.pad < 0) throw Error("augment: pad must be >= 0, got " + std::to_string(opt_.pad));
  if (opt_.out_height < 0 || opt_.out_width < 0) throw Error("augment: output size must be >= 0");
  out_h_ = opt_.out_height > 0 ? opt_.out_height : in_h_;
  out_w_ = opt_.out_width > 0 ? opt_.out_width : in_w_;
  if (opt_.mean.empty()) opt_.mean.assign(size_t(c_), 0.0f);
  if (opt_.std.empty()) opt_.std.assign(size_t(c_), 1.0f);
  if (opt_.mean.size() != size_t(c_) || opt_.std.size() != size_t(c_))
    throw Error("augment: mean/std need " + std::to_string(c_) + " values (one per channel), got " +
                std::to_string(opt_.mean.size()) + "/" + std::to_string(opt_.std.size()));
  for (float s : opt_.std)
    if (!(s > 0.0f)) throw Error("augment: std values must be > 0");
}

void Augmenter::apply(const uint8_t* image, bool train, Rng& rng, float* out) const {
  int dy = opt_.pad, dx = opt_.pad;
  bool flip = false;
  if (train) {
    const uint64_t r1 = rng.next_u64(), r2 = rng.next_u64();
    if (opt_.pad > 0) {
      const uint64_t span = uint64_t(2 * opt_.pad + 1);
      dy = int((r1 >> 32) % span);
      dx = int((r1 & 0xffffffffu) % span);
    }
    flip = opt_.horizontal_flip && (r2 >> 63);
  }
  apply_fixed(image, dy, dx, flip, out);
}

void Augmenter::apply_fixed(const uint8_t* image, int dy, int dx, bool flip, float* out) const {
  // Crop + flip at the input resolution into float [0,1]: crop(y, x) = padded(y + dy, x + dx),
  // padded(py, px) = image(py - pad, px - pad) inside the image, 0 outside.
  std::vector<float> crop(size_t(in_h_) * in_w_ * c_);
  for (int y = 0; y < in_h_; ++y) {
    const int sy = y + dy - opt_.pad;
    for (int x = 0; x < in_w_; ++x) {
      const int sx = (flip ? in_w_ - 1 - x : x) + dx - opt_.pad;
      float* o = crop.data() + (size_t(y) * in_w_ + x) * c_;
      if (sy < 0 || sy >= in_h_ || sx < 0 || sx >= in_w_) {
        std::fill(o, o + c_, 0.0f);
      } else {
        const uint8_t* p = image + (size_t(sy) * in_w_ + sx) * c_;
        for (int k = 0; k < c_; ++k) o[k] = float(p[k]) * (1.0f / 255.0f);
      }
    }
  }
  if (out_h_ == in_h_ && out_w_ == in_w_)
    std::copy(crop.begin(), crop.end(), out);
  else
    resize_bilinear(crop.data(), in_h_, in_w_, c_, out, out_h_, out_w_);
  const size_t n = size_t(out_h_) * out_w_;
  for (size_t i = 0; i < n; ++i)
    for (int k = 0; k < c_; ++k) out[i * c_ + k] = (out[i * c_ + k] - opt_.mean[k]) / opt_.std[k];
}

}  // namespace agilenn::data
