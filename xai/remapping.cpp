#include "xai/remapping.h"

#include <algorithm>
#include <numeric>

#include "autograd/graph.h"
#include "nn/io/error.h"

namespace agilenn::xai {

using namespace agilenn::ag;

Remapping parse_remapping(const std::string& s) {
  if (s == "none") return Remapping::None;
  if (s == "global_importance") return Remapping::GlobalImportance;
  if (s == "topk_appearance") return Remapping::TopkAppearance;
  throw Error("--channel-remapping must be none, global_importance or topk_appearance, got '" + s +
              "'");
}

std::vector<int> rank_channels(const std::vector<Tensor>& imps, int k, Remapping how) {
  if (imps.empty()) throw Error("rank_channels: no calibration batches");
  const int64_t c = imps[0].dim(1);
  std::vector<double> score(size_t(c), 0.0);
  for (auto& p : imps) {
    auto v = p.to_vector();
    const int64_t n = p.dim(0);
    for (int64_t i = 0; i < n; ++i) {
      const double* row = v.data() + i * c;
      if (how == Remapping::TopkAppearance) {
        std::vector<int> idx(static_cast<size_t>(c), 0);
        std::iota(idx.begin(), idx.end(), 0);
        std::stable_sort(idx.begin(), idx.end(), [row](int a, int b) { return row[a] > row[b]; });
        for (int j = 0; j < k; ++j) score[size_t(idx[size_t(j)])] += 1;
      } else {
        for (int64_t j = 0; j < c; ++j) score[size_t(j)] += row[j];
      }
    }
  }
  std::vector<int> perm(static_cast<size_t>(c), 0);
  std::iota(perm.begin(), perm.end(), 0);
  if (how != Remapping::None)
    std::stable_sort(perm.begin(), perm.end(),
                     [&](int a, int b) { return score[size_t(a)] > score[size_t(b)]; });
  return perm;
}

namespace {
// Gathers the last-axis entries of t in `perm` order.
Tensor permute_last(const Tensor& t, const std::vector<int>& perm) {
  std::vector<Tensor> cols;
  for (int p : perm) cols.push_back(slice(t, -1, p, p + 1));
  return concat(cols, t.ndim() - 1);
}
}  // namespace

void permute_extractor_outputs(SplitModel& model, const std::vector<int>& perm) {
  const int f = model.config().features;
  std::vector<int> sorted(perm);
  std::sort(sorted.begin(), sorted.end());
  for (int i = 0; i < f; ++i)
    if (int(perm.size()) != f || sorted[size_t(i)] != i)
      throw Error("channel remapping: not a permutation of the features");
  NoGradGuard ng;
  auto& ex = *model.extractor;
  auto sep = std::dynamic_pointer_cast<nn::SeparableConv2d>(ex[3]);
  auto bn = std::dynamic_pointer_cast<nn::BatchNorm>(ex[4]);
  if (!sep || !bn) throw Error("channel remapping: unexpected extractor layout");
  auto assign = [&](Tensor& t) {
    const bool req = t.requires_grad();
    t = permute_last(t.detach(), perm);
    if (req) t.set_requires_grad(true);
  };
  assign(sep->pointwise->weight);
  assign(bn->gamma);
  assign(bn->beta);
  assign(bn->running_mean);
  assign(bn->running_var);
}

}  // namespace agilenn::xai
