// Pieces every training command shares: batches as tensors, the evaluation loop, the per-epoch
// CSV log, the training-curve plot (gnuplot, when installed) and a run's wall clock.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "autograd/tensor.h"
#include "nn/data/augment.h"
#include "nn/data/batch_loader.h"
#include "nn/data/dataset.h"
#include "nn/io/json.h"

namespace agilenn::nn {

ag::Tensor batch_images(const data::Batch& b);  // (B, H, W, C) float32
ag::Tensor batch_labels(const data::Batch& b);  // (B) int32

// Keeps the first `limit` samples (0 keeps all).
void limit_dataset(data::Dataset& ds, size_t limit);

struct EvalResult {
  double accuracy = 0, loss = 0;
  int64_t samples = 0;
  std::vector<int32_t> predictions;
};
// Runs `logits_fn` (no graph recorded) over the whole data set in order.
EvalResult evaluate(const std::function<ag::Tensor(const ag::Tensor&)>& logits_fn,
                    const data::Dataset& ds, const data::Augmenter& aug, size_t batch_size,
                    const std::string& label);

// A CSV file rewritten (atomically) after every row, so a crash leaves the log so far.
class CsvLog {
 public:
  CsvLog(std::string path, std::vector<std::string> columns);
  void add(const std::vector<double>& row);
  void load_existing();  // --resume: keep the rows already written
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::vector<std::string> columns_;
  std::vector<std::vector<double>> rows_;
  void write() const;
};

// Draws y columns against the x column of a CSV with gnuplot; returns false (and says why on
// stderr) when gnuplot is absent or fails: training never depends on it.
bool plot_csv(const std::string& csv, const std::string& png, const std::string& title, int x_col,
              const std::vector<std::pair<int, std::string>>& y_cols);

void write_json(const std::string& path, const Json& j);  // pretty, atomic

}  // namespace agilenn::nn
