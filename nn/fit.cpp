#include "nn/fit.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>

#include "nn/io/error.h"
#include "nn/io/progress.h"
#include "nn/optimizer.h"

namespace agilenn::nn {

void use_model_checkpoint(FitHooks& hooks, Module& model, Optimizer& opt,
                          const std::string& out_dir) {
  const std::string path = out_dir + "/checkpoint.safetensors";
  hooks.save_state = [&model, &opt](Checkpoint& c) {
    add_prefixed(c.tensors, model.state_dict(), "model.");
    add_prefixed(c.tensors, opt.state(), "optimizer.");
  };
  hooks.load_state = [&model, &opt, path](const Checkpoint& c) {
    model.load_state_dict(with_prefix(c.tensors, "model."), path);
    opt.load_state(with_prefix(c.tensors, "optimizer."), path);
  };
}

FitSummary fit(const FitConfig& cfg, const data::Dataset& train, const data::Augmenter& aug,
               const FitHooks& hooks) {
  const std::string ckpt_path = cfg.out_dir + "/checkpoint.safetensors";
  std::vector<std::string> cols = {"epoch", "loss", "accuracy", "lr", "seconds", "images_per_s"};
  cols.insert(cols.end(), cfg.extra_columns.begin(), cfg.extra_columns.end());
  cols.insert(cols.end(), hooks.eval_columns.begin(), hooks.eval_columns.end());
  CsvLog log(cfg.out_dir + "/log.csv", cols);

  FitSummary summary;
  int start_epoch = 0;
  if (cfg.resume) {
    if (!std::filesystem::exists(ckpt_path))
      throw error_at(ckpt_path, "--resume: no checkpoint to resume from");
    Checkpoint c = load_checkpoint(ckpt_path);
    hooks.load_state(c);
    start_epoch = int(c.meta.at("epoch").as_int(ckpt_path + ": epoch")) + 1;
    summary.train_seconds = c.meta.at("train_seconds").as_number(ckpt_path + ": train_seconds");
    log.load_existing();
    std::fprintf(stderr, "%s: resuming after epoch %d of %d\n", cfg.label.c_str(), start_epoch,
                 cfg.epochs);
  }

  data::LoaderOptions lo;
  lo.batch_size = cfg.batch_size;
  lo.drop_last = true;  // batch norm on a tiny last batch is noise
  lo.seed = cfg.seed;
  data::BatchLoader loader(train, aug, lo);
  const int64_t steps_per_epoch = int64_t(loader.batches_per_epoch());
  if (steps_per_epoch == 0) throw Error(cfg.label + ": fewer training images than one batch");
  const int64_t total_steps = steps_per_epoch * cfg.epochs;
  const int64_t warmup = steps_per_epoch * cfg.warmup_epochs;

  for (int epoch = start_epoch; epoch < cfg.epochs; ++epoch) {
    const auto t0 = std::chrono::steady_clock::now();
    loader.start_epoch(uint64_t(epoch));
    Progress progress(
        cfg.label + " " + std::to_string(epoch + 1) + "/" + std::to_string(cfg.epochs),
        uint64_t(steps_per_epoch) * cfg.batch_size);
    double loss_sum = 0, lr = 0;
    int64_t correct = 0, seen = 0, step = 0;
    std::map<std::string, double> extra_sum;
    data::Batch b;
    while (loader.next(b)) {
      lr = cosine_lr(cfg.lr, epoch * steps_per_epoch + step, total_steps, warmup);
      StepResult r = hooks.step(batch_images(b), batch_labels(b), lr);
      if (!std::isfinite(r.loss))
        throw Error(cfg.label + ": loss is " + std::to_string(r.loss) + " at epoch " +
                    std::to_string(epoch + 1) + ", step " + std::to_string(step + 1) +
                    " (try a lower --lr)");
      loss_sum += r.loss * double(b.size);
      correct += r.correct;
      seen += int64_t(b.size);
      for (auto& [k, v] : r.extra) extra_sum[k] += v * double(b.size);
      ++step;
      char text[160];
      int len = std::snprintf(text, sizeof text, "loss %.4f acc %.4f", loss_sum / double(seen),
                              double(correct) / double(seen));
      for (auto& k : cfg.extra_columns)
        if (extra_sum.count(k) && len < 120)
          len += std::snprintf(text + len, sizeof text - size_t(len), " %s %.3f", k.c_str(),
                               extra_sum[k] / double(seen));
      progress.update(uint64_t(seen), text);
    }
    progress.finish();
    const double train_secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::map<std::string, double> ev =
        hooks.evaluate ? hooks.evaluate() : std::map<std::string, double>{};
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    summary.train_seconds += secs;
    std::vector<double> row = {
        double(epoch + 1),        loss_sum / double(seen), double(correct) / double(seen), lr, secs,
        double(seen) / train_secs};
    for (auto& k : cfg.extra_columns)
      row.push_back(extra_sum.count(k) ? extra_sum[k] / double(seen) : NAN);
    for (auto& k : hooks.eval_columns) row.push_back(ev.count(k) ? ev[k] : NAN);
    log.add(row);
    for (size_t i = 0; i < cols.size(); ++i) summary.last[cols[i]] = row[i];
    ++summary.epochs_run;

    Checkpoint c;
    hooks.save_state(c);
    c.meta["epoch"] = epoch;
    c.meta["train_seconds"] = summary.train_seconds;
    save_checkpoint(ckpt_path, c);
    if (cfg.stop_after_epoch > 0 && epoch + 1 >= cfg.stop_after_epoch && epoch + 1 < cfg.epochs) {
      summary.interrupted = true;
      break;
    }
  }
  return summary;
}

}  // namespace agilenn::nn
