// agilenn fit-codec: fit the link codec's tables (static Huffman, context model) on the training
// set's remote indices of a trained model and store them in its model file ("codec.tables" plus
// meta "codec"), so the device, the server and codec-bench all use the same tables.
#include <chrono>
#include <cstdio>
#include <cxxopts.hpp>

#include "codec/tables.h"
#include "nn/io/error.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/model_features.h"
#include "xai/agile_model_file.h"

namespace agilenn::cli {
namespace {

int run_fit_codec(int argc, char** argv) {
  cxxopts::Options opts(
      argv[0],
      "Fit the link codec's tables on a trained model's training-set features and "
      "store them in its model file.");
  // clang-format off
  opts.add_options()
    ("model", "Trained model directory (or model.safetensors) to read and rewrite", cxxopts::value<std::string>()->default_value("runs/agile"))
    ("dataset", "Data set to fit on (default: the one the model was trained on)", cxxopts::value<std::string>()->default_value(""))
    ("data-dir", "Data set directory (default: the installed one)", cxxopts::value<std::string>()->default_value(""))
    ("limit-train", "Fit on the first N training images (0 = all)", cxxopts::value<size_t>()->default_value("0"))
    ("batch-size", "Images per extractor batch", cxxopts::value<size_t>()->default_value("256"))
    ("context-budget", "Bytes allowed for the context model's probability tables", cxxopts::value<size_t>()->default_value(std::to_string(codec::kContextTableBudget)))
    ("threads", "Worker threads (0 = all cores)", cxxopts::value<int>()->default_value("0"))
    ("h,help", "Show this help");
  // clang-format on
  auto r = opts.parse(argc, argv);
  if (handle_help(opts, r)) return 0;
  set_threads(r["threads"].as<int>());
  const std::string model_dir = r["model"].as<std::string>();
  const size_t batch_size = r["batch-size"].as<size_t>();
  if (batch_size == 0) throw error_at("--batch-size", "must be >= 1");

  const xai::AgileModelFile file = xai::load_agile_model(model_dir);
  const CodecCentroids centroids = codec_centroids(*file.model, file.path);
  std::string dataset = r["dataset"].as<std::string>();
  if (dataset.empty()) dataset = model_dataset_name(file);
  if (dataset.empty())
    throw error_at("--dataset", file.path + " does not name its data set: give --dataset");
  data::Dataset train =
      data::load_dataset(dataset, r["data-dir"].as<std::string>(), data::Split::Train);
  nn::limit_dataset(train, r["limit-train"].as<size_t>());
  if (!file.codec_tables.empty())
    std::printf("fit-codec: %s already holds codec tables; replacing them\n", file.path.c_str());
  if (centroids.reordered()) {
    std::printf(
        "fit-codec: centroids are not increasing in the model; codec index j = model centroid");
    for (uint32_t i : centroids.model_index) std::printf(" %u", i);
    std::printf("\n");
  }

  const RemoteIndices fit =
      extract_remote_indices(file, train, centroids, batch_size, "fit-codec extract");
  const uint32_t model_id = model_weights_id(*file.model);
  const auto t0 = std::chrono::steady_clock::now();
  const codec::CodecTables tables =
      codec::CodecTables::fit(fit.indices, fit.images, fit.shape, fit.alphabet, fit.k, model_id,
                              r["context-budget"].as<size_t>());
  const double fit_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::vector<uint8_t> bytes = tables.to_bytes();
  xai::store_codec_tables(file.path, bytes, codec_meta_json(tables, centroids, fit, train.name));

  // Read back what was written: the file must still load and give the same tables.
  const xai::AgileModelFile check = xai::load_agile_model(file.path);
  const auto stored = stored_codec_tables(check, codec_centroids(*check.model, check.path));
  if (!stored || stored->to_bytes() != bytes)
    throw error_at(file.path, "codec tables did not read back identically");

  std::printf("fit-codec: %s, %zu images, map %ux%ux%u remote (k=%u), C=%u, fitted in %.2f s\n",
              train.name.c_str(), fit.images, fit.shape.height, fit.shape.width, fit.shape.channels,
              fit.k, fit.alphabet, fit_s);
  std::printf(
      "  context model: L=%u levels, G=%u groups, shift %u, %zu B of tables; %zu B serialised\n",
      tables.context.config().levels, tables.context.config().groups, tables.context.config().shift,
      tables.context.table_bytes(), bytes.size());
  std::printf("  model's own quantizer disagrees on %zu of %zu indices (values at a midpoint)\n",
              fit.model_disagreements, fit.indices.size());
  std::printf("  wrote %s (codec.tables, fingerprint %08x, model id %08x)\n", file.path.c_str(),
              tables.fingerprint(), model_id);
  return 0;
}

CommandRegistrar reg("fit-codec",
                     "Fit the link codec's tables on a trained model and store them in it",
                     run_fit_codec);
}  // namespace
}  // namespace agilenn::cli
