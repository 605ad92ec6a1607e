#include "nn/training.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "nn/io/progress.h"

namespace agilenn::nn {

ag::Tensor batch_images(const data::Batch& b) {
  return ag::Tensor::from_floats(b.images,
                                 ag::Shape{int64_t(b.size), b.height, b.width, b.channels});
}

ag::Tensor batch_labels(const data::Batch& b) {
  return ag::Tensor::from_ints(b.labels, ag::Shape{int64_t(b.size)});
}

void limit_dataset(data::Dataset& ds, size_t limit) {
  if (limit == 0 || limit >= ds.size()) return;
  ds.images.resize(limit * ds.image_size());
  ds.labels.resize(limit);
}

EvalResult evaluate(const std::function<ag::Tensor(const ag::Tensor&)>& logits_fn,
                    const data::Dataset& ds, const data::Augmenter& aug, size_t batch_size,
                    const std::string& label) {
  ag::NoGradGuard ng;
  data::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.shuffle = false;
  lo.train = false;
  data::BatchLoader loader(ds, aug, lo);
  loader.start_epoch(0);
  Progress progress(label, ds.size());
  EvalResult r;
  double loss_sum = 0;
  int64_t correct = 0;
  data::Batch b;
  while (loader.next(b)) {
    ag::Tensor labels = batch_labels(b);
    ag::Tensor logits = logits_fn(batch_images(b));
    loss_sum += ag::cross_entropy(logits, labels).item() * double(b.size);
    ag::Tensor pred = ag::argmax_last(logits);
    for (size_t i = 0; i < b.size; ++i) {
      const int32_t p = pred.data<int32_t>()[i];
      r.predictions.push_back(p);
      correct += p == b.labels[i];
    }
    r.samples += int64_t(b.size);
    char text[64];
    std::snprintf(text, sizeof text, "acc %.4f", double(correct) / double(r.samples));
    progress.update(uint64_t(r.samples), text);
  }
  progress.finish();
  r.accuracy = r.samples ? double(correct) / double(r.samples) : 0;
  r.loss = r.samples ? loss_sum / double(r.samples) : 0;
  return r;
}

CsvLog::CsvLog(std::string path, std::vector<std::string> columns)
    : path_(std::move(path)), columns_(std::move(columns)) {}

void CsvLog::add(const std::vector<double>& row) {
  if (row.size() != columns_.size())
    throw Error(path_ + ": row has " + std::to_string(row.size()) + " values");
  rows_.push_back(row);
  write();
}

void CsvLog::load_existing() {
  rows_.clear();
  if (!std::filesystem::exists(path_)) return;
  std::istringstream in(read_file_text(path_));
  std::string line;
  std::getline(in, line);  // header
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    std::vector<double> row;
    std::istringstream ls(line);
    std::string cell;
    while (std::getline(ls, cell, ',')) row.push_back(std::strtod(cell.c_str(), nullptr));
    if (row.size() == columns_.size()) rows_.push_back(row);
  }
}

void CsvLog::write() const {
  std::string s;
  for (size_t i = 0; i < columns_.size(); ++i) s += (i ? "," : "") + columns_[i];
  s += "\n";
  char buf[64];
  for (auto& r : rows_) {
    for (size_t i = 0; i < r.size(); ++i) {
      std::snprintf(buf, sizeof buf, "%s%.6g", i ? "," : "", r[i]);
      s += buf;
    }
    s += "\n";
  }
  write_file_atomic(path_, s);
}

bool plot_csv(const std::string& csv, const std::string& png, const std::string& title, int x_col,
              const std::vector<std::pair<int, std::string>>& y_cols) {
  if (std::system("command -v gnuplot >/dev/null 2>&1") != 0) {
    std::fprintf(stderr, "plot skipped: gnuplot is not installed (%s)\n", png.c_str());
    return false;
  }
  const std::string tmp = png + ".tmp.png";
  std::string script = "set terminal pngcairo size 900,500 noenhanced; set output '" + tmp + "';" +
                       "set datafile separator ','; set key autotitle columnhead; set title '" +
                       title + "'; set xlabel 'epoch'; set grid; plot ";
  for (size_t i = 0; i < y_cols.size(); ++i)
    script += (i ? ", " : "") + std::string("'") + csv + "' using " + std::to_string(x_col) + ":" +
              std::to_string(y_cols[i].first) + " with linespoints title '" + y_cols[i].second +
              "'";
  FILE* p = popen("gnuplot 2>&1", "w");
  if (!p) return false;
  std::fputs(script.c_str(), p);
  const int rc = pclose(p);
  if (rc != 0 || std::rename(tmp.c_str(), png.c_str()) != 0) {
    std::remove(tmp.c_str());
    std::fprintf(stderr, "plot skipped: gnuplot failed for %s\n", png.c_str());
    return false;
  }
  return true;
}

void write_json(const std::string& path, const Json& j) {
  write_file_atomic(path, j.dump(2) + "\n");
}

}  // namespace agilenn::nn
