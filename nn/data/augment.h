// Per-image preprocessing and augmentation, in the public AgileNN code's order:
//   1. (train) zero-pad `pad` pixels on every side, then crop a random H x W window back out
//   2. (train) random horizontal flip with probability 1/2 (turn off for digits)
//   3. bilinear resize to the model's input size (half-pixel centres, no antialiasing:
//      TensorFlow 2 tf.image.resize / PyTorch align_corners=False)
//   4. scale to [0,1] and normalise per channel: (x - mean[c]) / std[c]
// Evaluation applies 3 and 4 only. Randomness comes from the caller's Rng, so a seeded stream
// gives the same images every run.
#pragma once
#include <cstdint>
#include <vector>

#include "nn/io/rng.h"

namespace agilenn::data {

struct AugmentOptions {
  int pad = 4;                        // 0 disables pad + random crop
  bool horizontal_flip = true;        // random left-right flip in training
  int out_height = 0, out_width = 0;  // 0 = keep the input size
  std::vector<float> mean, std;       // per channel (in [0,1] units); empty = 0 and 1
};

// in: (h, w, c) floats, out: (oh, ow, c) floats. Output pixel (y, x) samples the input at
// ((y + 0.5) * h / oh - 0.5, (x + 0.5) * w / ow - 0.5), clamped to the border.
void resize_bilinear(const float* in, int h, int w, int c, float* out, int oh, int ow);

class Augmenter {
 public:
  // Throws agilenn::Error when the options do not fit the input shape (mean/std length,
  // std <= 0, negative pad or size).
  Augmenter(const AugmentOptions& options, int in_height, int in_width, int channels);

  int in_height() const { return in_h_; }
  int in_width() const { return in_w_; }
  int out_height() const { return out_h_; }
  int out_width() const { return out_w_; }
  int channels() const { return c_; }
  size_t out_size() const { return size_t(out_h_) * out_w_ * c_; }
  const AugmentOptions& options() const { return opt_; }

  // image: (in_h, in_w, c) uint8; out: out_size() floats. `train` enables crop and flip, which
  // draw from `rng` (two numbers per image, whether or not the options enable them, so a
  // stream's use does not depend on the options).
  void apply(const uint8_t* image, bool train, Rng& rng, float* out) const;
  // The same with the random choices given: crop window top-left (dy, dx) in the padded image,
  // each in [0, 2*pad]; dy = dx = pad is the centre (no shift).
  void apply_fixed(const uint8_t* image, int dy, int dx, bool flip, float* out) const;

 private:
  AugmentOptions opt_;
  int in_h_, in_w_, c_, out_h_, out_w_;
};

}  // namespace agilenn::data
