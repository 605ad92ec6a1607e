// Channel pre-selection ("channel remapping"): before training, score each extractor output
// channel with the reference's importance and permute the extractor's output filters so the
// most likely important channels come first.
//   global_importance: mean normalised channel importance over the calibration samples
//   topk_appearance:   how often a channel is among a sample's k most important
#pragma once
#include <string>
#include <vector>

#include "xai/importance.h"
#include "xai/split_model.h"

namespace agilenn::xai {

enum class Remapping { None, GlobalImportance, TopkAppearance };
Remapping parse_remapping(const std::string& s);  // throws naming --channel-remapping

// Channel order, most important first, from importance maps of calibration batches.
std::vector<int> rank_channels(const std::vector<Tensor>& channel_importances, int k,
                               Remapping how);

// Reorders the extractor's last pointwise filters and its batch norm: new channel i = old perm[i].
void permute_extractor_outputs(SplitModel& model, const std::vector<int>& perm);

}  // namespace agilenn::xai
