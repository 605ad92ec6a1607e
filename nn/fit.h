// The epoch loop shared by the training commands: batches from the prefetching loader, a
// progress line (images/s, loss, accuracy, ETA), a cosine learning rate with warm-up, a test
// evaluation and a CSV row per epoch, and a resumable checkpoint after every epoch.
// Resuming from that checkpoint gives the same result as an uninterrupted run: the batch order and
// augmentation depend only on (seed, epoch), and the model, optimizer and dropout states are saved.
#pragma once
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nn/checkpoint.h"
#include "nn/data/augment.h"
#include "nn/data/dataset.h"
#include "nn/training.h"

namespace agilenn::nn {

struct StepResult {
  double loss = 0;
  int64_t correct = 0;
  std::map<std::string, double> extra;  // averaged over the epoch into the log (e.g. skewness)
};

struct FitConfig {
  std::string label = "train";
  std::string out_dir;
  int epochs = 1;
  size_t batch_size = 64;
  double lr = 0.05;
  int warmup_epochs = 0;
  uint64_t seed = 1;
  bool resume = false;
  int stop_after_epoch = 0;  // > 0: end this run after that epoch (as if interrupted; for tests)
  std::vector<std::string> extra_columns;  // names of StepResult::extra to log, in order
};

struct FitHooks {
  // One optimisation step on a batch at learning rate lr.
  std::function<StepResult(const ag::Tensor& x, const ag::Tensor& y, double lr)> step;
  // End of epoch: test metrics to log, e.g. {"test_accuracy": 0.91}.
  std::function<std::map<std::string, double>()> evaluate;
  std::vector<std::string> eval_columns;
  // Model + optimizer state for the resume checkpoint, and back.
  std::function<void(Checkpoint&)> save_state;
  std::function<void(const Checkpoint&)> load_state;
};

struct FitSummary {
  int epochs_run = 0;
  bool interrupted = false;            // stopped by stop_after_epoch
  double train_seconds = 0;            // this run plus the runs it resumed
  std::map<std::string, double> last;  // last epoch's logged values
};

class Module;
class Optimizer;
// save_state / load_state for the usual case: a module's state and its optimizer's, under the
// "model." and "optimizer." prefixes of the resume checkpoint.
void use_model_checkpoint(FitHooks& hooks, Module& model, Optimizer& opt,
                          const std::string& out_dir);

FitSummary fit(const FitConfig& cfg, const data::Dataset& train, const data::Augmenter& aug,
               const FitHooks& hooks);

}  // namespace agilenn::nn
