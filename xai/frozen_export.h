// SplitModel (+ input normalisation) -> FrozenModel: the device part of a trained AgileNN model as
// plain float arrays for mcu/ (extractor, split k, local head, quantizer centroids).
// The centroids are sorted ascending (stable): the codec needs increasing centroids and the remote
// predictor only sees centroid values, so the device's indices refer to the sorted order.
#pragma once
#include <vector>

#include "nn/io/frozen_model.h"
#include "xai/split_model.h"

namespace agilenn::xai {

struct FrozenExport {
  FrozenModel model;
  // sorted_to_original[j]: the SplitModel quantizer index of frozen centroid j.
  std::vector<int> sorted_to_original;
};

// Throws agilenn::Error for an unsplit model or a layer the frozen description cannot hold.
FrozenExport freeze_split_model(const SplitModel& model, const std::vector<float>& mean,
                                const std::vector<float>& std);

}  // namespace agilenn::xai
