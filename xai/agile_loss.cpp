#include "xai/agile_loss.h"

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/distillation.h"

namespace agilenn::xai {

using namespace agilenn::ag;

namespace {
int64_t count_correct(const Tensor& logits, const Tensor& labels) {
  Tensor pred = argmax_last(logits.detach());
  const int32_t *p = pred.data<int32_t>(), *l = labels.data<int32_t>();
  int64_t c = 0;
  for (int64_t i = 0; i < labels.numel(); ++i) c += p[i] == l[i];
  return c;
}
}  // namespace

AgileLossResult agile_loss(SplitModel& model, const ReferenceFn& reference, const Tensor& g0,
                           const Tensor& x, const Tensor& labels, const AgileLossConfig& cfg,
                           const Tensor& teacher_logits) {
  AgileLossResult r;
  SplitOutputs out = model.run(x);
  Tensor ce = cross_entropy(out.logits, labels);
  r.ce = ce.item();
  r.correct = count_correct(out.logits, labels);
  if (teacher_logits.defined() && cfg.distill_weight > 0) {
    Tensor kd = nn::distillation_loss(out.logits, teacher_logits, cfg.distill_temperature);
    r.distill = kd.item();
    ce = add(mul(ce, 1.0 - cfg.distill_weight), mul(kd, cfg.distill_weight));
  }
  Tensor remote_kd;
  if (teacher_logits.defined() && cfg.distill_remote_weight > 0 && !model.config().unsplit)
    remote_kd =
        mul(nn::distillation_loss(out.remote_logits, teacher_logits, cfg.distill_temperature),
            cfg.distill_remote_weight);
  Tensor loss = cfg.xai ? mul(ce, cfg.lambda) : ce;
  const auto& mc = model.config();
  if (cfg.xai && !mc.unsplit) {
    ImportanceResult imp =
        feature_importance(reference, out.features, labels, g0, cfg.method, cfg.ig_steps, true);
    Tensor weights;
    if (cfg.correct_only) {
      NoGradGuard ng;
      Tensor pred = argmax_last(imp.logits.detach());
      std::vector<double> w(size_t(labels.numel()));
      for (int64_t i = 0; i < labels.numel(); ++i)
        w[size_t(i)] = pred.data<int32_t>()[i] == labels.data<int32_t>()[i];
      weights = Tensor::from_vector(w, Shape{labels.numel()}, x.dtype());
    }
    Tensor p = channel_importance(imp.importance);
    Tensor ls = skewness_loss(p, mc.k(), cfg.rho, weights);
    Tensor ld = disorder_loss(imp.importance, p, mc.k(), cfg.disorder, weights);
    r.skew_loss = ls.item();
    r.disorder_loss = ld.item();
    r.skewness = mean(skewness(p.detach(), mc.k())).item();
    loss = add(loss, mul(add(ls, ld), 1.0 - cfg.lambda));
  }
  if (cfg.local_loss_weight > 0 && out.local_logits.defined()) {
    Tensor lce = cross_entropy(out.local_logits, labels);
    r.local_ce = lce.item();
    loss = add(loss, mul(lce, cfg.local_loss_weight));
  }
  if (remote_kd.defined()) loss = add(loss, remote_kd);
  r.loss = loss;
  return r;
}

}  // namespace agilenn::xai
