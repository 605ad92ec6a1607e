#include "xai/evaluate.h"

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/data/batch_loader.h"
#include "nn/io/progress.h"
#include "nn/training.h"
#include "xai/skewness.h"

namespace agilenn::xai {

using namespace agilenn::ag;

AgileEval evaluate_split_model(SplitModel& model, const ReferenceFn& reference, const Tensor& g0,
                               const data::Dataset& ds, const data::Augmenter& aug, double rho,
                               double alpha_override, XaiMethod method, int ig_steps,
                               size_t batch_size) {
  const bool was_training = model.training();
  model.eval();
  data::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.shuffle = false;
  lo.train = false;
  data::BatchLoader loader(ds, aug, lo);
  loader.start_epoch(0);
  Progress progress("evaluate", ds.size());
  AgileEval e;
  int64_t ok = 0, ok_local = 0, ok_remote = 0, at_rho = 0;
  double skew_sum = 0, violations = 0;
  const bool split = !model.config().unsplit;
  const bool importance = reference && split;
  data::Batch b;
  while (loader.next(b)) {
    Tensor x = nn::batch_images(b), y = nn::batch_labels(b);
    SplitOutputs o;
    {
      NoGradGuard ng;
      o = model.run(x, alpha_override);
    }
    auto count = [&](const Tensor& logits, int64_t& acc, bool keep) {
      Tensor p = argmax_last(logits);
      for (size_t i = 0; i < b.size; ++i) {
        acc += p.data<int32_t>()[i] == b.labels[i];
        if (keep) e.predictions.push_back(p.data<int32_t>()[i]);
      }
    };
    count(o.logits, ok, true);
    count(o.remote_logits, ok_remote, false);
    if (split) count(o.local_logits, ok_local, false);
    if (importance) {
      auto imp = feature_importance(reference, o.features, y, g0, method, ig_steps, false);
      NoGradGuard ng;
      Tensor p = channel_importance(imp.importance);
      auto s = skewness(p, model.config().k()).to_vector();
      for (double v : s) {
        skew_sum += v;
        at_rho += v >= rho;
      }
      violations += disorder_violation_rate(p, model.config().k()) * double(b.size);
    }
    e.samples += int64_t(b.size);
    progress.update(uint64_t(e.samples));
  }
  progress.finish();
  const double n = double(std::max<int64_t>(e.samples, 1));
  e.accuracy = double(ok) / n;
  e.remote_accuracy = double(ok_remote) / n;
  e.local_accuracy = split ? double(ok_local) / n : NAN;
  if (importance) {
    e.skewness = skew_sum / n;
    e.skewness_at_rho = double(at_rho) / n;
    e.disorder_violation_rate = violations / n;
  }
  if (!std::isnan(alpha_override))
    e.alpha = alpha_override;
  else if (model.alpha().defined())
    e.alpha = model.alpha().item();
  model.train(was_training);
  return e;
}

}  // namespace agilenn::xai
