// A trained model's remote-channel indices, as the device produces them, and the codec tables
// stored in its model file (`agilenn fit-codec`, `agilenn codec-bench --model`).
//
// Device path per image: normalise (the model's mean/std, no crop or flip, resize to the model's
// input) -> float extractor -> channels k..F-1 -> codec::Quantizer (threshold form) on the model's
// centroids in increasing order. The model's quantizer learns c = 6 sigmoid(w) with no ordering
// constraint; the codec needs increasing centroids, so they are sorted and codec index j
// stands for the model's centroid model_index[j] (stored with the tables; the server dequantizes
// codec index j to values[j], so the order changes nothing downstream). Two centroids merged into
// one value stay in the alphabet; the quantizer never emits the copy (codec/quantize.h).
//
// Header-only so the CLI commands and the tests share it without a new library target (its users
// link agilenn_xai, agilenn_data and agilenn_codec).
#pragma once
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <optional>
#include <string>
#include <vector>

#include "autograd/graph.h"
#include "codec/crc32.h"
#include "codec/quantize.h"
#include "codec/split.h"
#include "codec/stream.h"
#include "codec/tables.h"
#include "nn/data/augment.h"
#include "nn/data/batch_loader.h"
#include "nn/data/dataset.h"
#include "nn/io/error.h"
#include "nn/io/progress.h"
#include "nn/training.h"
#include "xai/agile_model_file.h"

namespace agilenn::cli {

struct CodecCentroids {
  std::vector<float>
      values;  // increasing (merged centroids repeat): the codec's (and the device's) centroids
  std::vector<uint32_t> model_index;  // codec index j is the model's centroid model_index[j]
  bool reordered() const {
    for (size_t j = 0; j < model_index.size(); ++j)
      if (model_index[j] != j) return true;
    return false;
  }
};

inline CodecCentroids codec_centroids(const xai::SplitModel& model, const std::string& where) {
  if (model.config().unsplit || !model.quantizer)
    throw error_at(where, "an unsplit model has no remote channels to code");
  ag::NoGradGuard ng;
  const std::vector<float> c = model.quantizer->centroids().to_floats();
  for (size_t i = 0; i < c.size(); ++i)
    if (!std::isfinite(c[i]))
      throw error_at(where, "centroid " + std::to_string(i) + " is not finite");
  CodecCentroids out;
  out.model_index.resize(c.size());
  std::iota(out.model_index.begin(), out.model_index.end(), 0u);
  std::stable_sort(out.model_index.begin(), out.model_index.end(),
                   [&](uint32_t a, uint32_t b) { return c[a] < c[b]; });
  for (uint32_t i : out.model_index) out.values.push_back(c[i]);
  // Two centroids training merged into one value: the stable sort keeps the lower model index
  // first, the one the model's tie rule picks; codec::Quantizer never emits the copy.
  if (!(out.values.back() > out.values.front()))
    throw error_at(where, "all centroids are equal (" + std::to_string(out.values.front()) +
                              "): the codec needs at least two distinct values");
  return out;
}

// CRC-32 over the weights' names and bytes (state_dict order): the model_id in the codec tables,
// so tables fitted for other weights are noticed. Never 0 (0 means "no model" in the tables).
inline uint32_t model_weights_id(const xai::SplitModel& model) {
  uint32_t crc = 0;
  for (const auto& [name, t] : model.state_dict()) {
    crc = codec::crc32_of(std::span(reinterpret_cast<const uint8_t*>(name.data()), name.size() + 1),
                          crc);
    crc = codec::crc32_of(std::span(static_cast<const uint8_t*>(t.raw_data()),
                                    size_t(t.numel()) * ag::dtype_size(t.dtype())),
                          crc);
  }
  return crc == 0 ? 1 : crc;
}

struct RemoteIndices {
  codec::StreamShape shape;  // per image: H' x W' x R
  uint32_t k = 0, features = 0, alphabet = 0;
  size_t images = 0;
  std::vector<uint8_t> indices;  // images * shape.size(), NHWC, codec index order
  // Positions where the model's own quantizer (squared distance in float, mapped to codec order)
  // chose another centroid than the codec's threshold form: only possible for values within a
  // rounding error of a midpoint; reported, the device's (codec) choice is what is coded.
  size_t model_disagreements = 0;
};

// The dataset's images through the model's extractor, batched, with a progress line on stderr.
inline RemoteIndices extract_remote_indices(const xai::AgileModelFile& file,
                                            const data::Dataset& ds,
                                            const CodecCentroids& centroids, size_t batch_size,
                                            const std::string& label) {
  xai::SplitModel& model = *file.model;
  const xai::SplitConfig& cfg = model.config();
  if (cfg.unsplit) throw error_at(file.path, "an unsplit model has no remote channels to code");
  if (ds.size() == 0) throw error_at(ds.name, "no images");
  if (ds.channels != cfg.in_channels)
    throw error_at(ds.name, "images have " + std::to_string(ds.channels) +
                                " channels; the model in " + file.path + " expects " +
                                std::to_string(cfg.in_channels));
  if (batch_size == 0) throw Error("--batch-size must be >= 1");
  data::Augmenter aug(file.eval_augment(), ds.height, ds.width, ds.channels);
  data::LoaderOptions lo;
  lo.batch_size = batch_size;
  lo.shuffle = false;
  lo.train = false;
  data::BatchLoader loader(ds, aug, lo);
  loader.start_epoch(0);

  const codec::Quantizer quantizer(centroids.values);
  std::vector<uint8_t> to_codec(centroids.model_index.size());
  for (size_t j = 0; j < centroids.model_index.size(); ++j)
    to_codec[centroids.model_index[j]] = uint8_t(j);

  RemoteIndices out;
  out.k = uint32_t(cfg.k());
  out.features = uint32_t(cfg.features);
  out.alphabet = quantizer.alphabet();
  ag::NoGradGuard ng;
  model.eval();
  Progress progress(label, ds.size());
  data::Batch b;
  std::vector<float> local, remote;
  while (loader.next(b)) {
    const ag::Tensor f = model.extract(nn::batch_images(b));  // (B, H', W', F)
    if (f.ndim() != 4 || f.dim(0) != int64_t(b.size) || f.dim(3) != cfg.features)
      throw error_at(file.path, "extractor output " + f.shape().str() +
                                    " is not (B, H', W', F=" + std::to_string(cfg.features) + ")");
    const codec::FeatureShape fs{uint32_t(f.dim(0)), uint32_t(f.dim(1)), uint32_t(f.dim(2)),
                                 uint32_t(f.dim(3))};
    const codec::StreamShape shape{fs.height, fs.width, fs.channels - out.k};
    if (out.images == 0) {
      out.shape = shape;
      out.indices.reserve(ds.size() * shape.size());
    }
    const std::vector<float> values = f.to_floats();
    local.resize(size_t(fs.n) * fs.height * fs.width * out.k);
    remote.resize(size_t(fs.n) * shape.size());
    codec::split_channels(values, fs, out.k, local, remote);
    const size_t start = out.indices.size();
    out.indices.resize(start + remote.size());
    quantizer.quantize(remote, std::span(out.indices).subspan(start));
    // The model's own choice on the same values, for the agreement count.
    const ag::Tensor model_idx = model.quantizer->indices(ag::Tensor::from_floats(
        remote, ag::Shape{int64_t(fs.n), fs.height, fs.width, shape.channels}));
    const int32_t* mi = model_idx.data<int32_t>();
    for (size_t i = 0; i < remote.size(); ++i)
      out.model_disagreements += to_codec[size_t(mi[i])] != out.indices[start + i];
    out.images += b.size;
    progress.update(out.images);
  }
  progress.finish();
  return out;
}

// The "codec" metadata entry written next to the tables.
inline Json codec_meta_json(const codec::CodecTables& t, const CodecCentroids& c,
                            const RemoteIndices& fit, const std::string& dataset) {
  Json j = Json::object();
  j["fingerprint"] = t.fingerprint();
  j["model_id"] = t.model_id;
  j["default_coder"] = "context";
  j["packet_rule"] = "encode_packet_auto: context coder, packed bits when not larger";
  j["fitted_on_images"] = (unsigned long)fit.images;
  j["dataset"] = dataset;
  j["stream_shape"] =
      Json(Json::Array{Json(fit.shape.height), Json(fit.shape.width), Json(fit.shape.channels)});
  j["k"] = fit.k;
  j["alphabet"] = fit.alphabet;
  Json values = Json::array(), order = Json::array();
  for (float v : c.values) values.push_back(Json(double(v)));
  for (uint32_t i : c.model_index) order.push_back(Json(i));
  j["centroids"] = std::move(values);
  j["centroid_model_index"] = std::move(order);
  j["context_levels"] = t.context.config().levels;
  j["context_groups"] = t.context.config().groups;
  j["context_shift"] = t.context.config().shift;
  j["context_table_bytes"] = (unsigned long)t.context.table_bytes();
  j["tables_bytes"] = (unsigned long)t.to_bytes().size();
  j["quantizer_disagreements"] = (unsigned long)fit.model_disagreements;
  return j;
}

// The tables stored in the model file, checked against the weights they claim to belong to;
// nullopt when fit-codec has not run. Stale or inconsistent tables are an error naming the file.
inline std::optional<codec::CodecTables> stored_codec_tables(const xai::AgileModelFile& file,
                                                             const CodecCentroids& centroids) {
  if (file.codec_tables.empty()) return std::nullopt;
  const std::string where = file.path + ": codec.tables";
  codec::CodecTables t = codec::CodecTables::from_bytes(file.codec_tables, where);
  const Json& meta = file.meta.at("codec");
  const auto fp = meta.at("fingerprint").as_int(file.path + ": codec.fingerprint");
  if (fp != int64_t(t.fingerprint()))
    throw error_at(file.path, "codec.fingerprint " + std::to_string(fp) +
                                  " does not match the stored tables (" +
                                  std::to_string(t.fingerprint()) + ")");
  const uint32_t id = model_weights_id(*file.model);
  if (t.model_id != id)
    throw error_at(where, "fitted for other weights (model id " + std::to_string(t.model_id) +
                              ", these weights " + std::to_string(id) +
                              "): rerun agilenn fit-codec");
  const xai::SplitConfig& cfg = file.model->config();
  if (t.alphabet != centroids.values.size() || t.local_channels != uint32_t(cfg.k()) ||
      t.remote_channels != uint32_t(cfg.features - cfg.k()))
    throw error_at(
        where, "alphabet/k/R " + std::to_string(t.alphabet) + "/" +
                   std::to_string(t.local_channels) + "/" + std::to_string(t.remote_channels) +
                   " do not match the model's " + std::to_string(centroids.values.size()) + "/" +
                   std::to_string(cfg.k()) + "/" + std::to_string(cfg.features - cfg.k()));
  const auto& order =
      meta.at("centroid_model_index").as_array(file.path + ": codec.centroid_model_index");
  bool same = order.size() == centroids.model_index.size();
  for (size_t j = 0; same && j < order.size(); ++j)
    same = order[j].as_int(file.path + ": codec.centroid_model_index") ==
           int64_t(centroids.model_index[j]);
  if (!same)
    throw error_at(file.path,
                   "codec.centroid_model_index does not match the model's centroid order");
  return t;
}

// "fashion-mnist" from the model's meta "dataset" ("fashion-mnist/test"); empty if absent.
inline std::string model_dataset_name(const xai::AgileModelFile& file) {
  const Json* d = file.meta.find("dataset");
  if (!d || !d->is_string()) return "";
  const std::string& s = d->as_string();
  return s.substr(0, s.find('/'));
}

}  // namespace agilenn::cli
