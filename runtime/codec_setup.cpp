#include "runtime/codec_setup.h"

#include <filesystem>

#include "codec/crc32.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"

namespace agilenn::runtime {

codec::CodecTables fit_codec_tables(const xai::AgileModelFile& model, FloatDevice& device,
                                    const data::Dataset& train, size_t n_images) {
  n_images = std::min(n_images, train.size());
  if (n_images == 0) throw Error("fit codec tables: no training images");
  auto outs = device.run(
      std::span<const uint8_t>(train.images.data(), n_images * train.image_size()), n_images);
  std::vector<uint8_t> all;
  for (auto& o : outs) all.insert(all.end(), o.indices.begin(), o.indices.end());
  auto bytes = read_file_bytes(model.path);
  uint32_t model_id = codec::crc32_of(bytes);
  const auto& cfg = model.model->config();
  return codec::CodecTables::fit(all, n_images, device.stream_shape(), unsigned(cfg.centroids),
                                 uint32_t(cfg.k()), model_id);
}

codec::CodecTables load_or_fit_codec_tables(const std::string& model_dir,
                                            const xai::AgileModelFile& model, FloatDevice& device,
                                            const data::Dataset& train, size_t n_images,
                                            std::string* how) {
  std::filesystem::path p = std::filesystem::path(model_dir) / "codec_tables.bin";
  if (std::filesystem::is_directory(model_dir) && std::filesystem::exists(p)) {
    auto t = codec::CodecTables::from_bytes(read_file_bytes(p.string()), p.string());
    if (how) *how = "stored (" + p.string() + ")";
    return t;
  }
  if (how)
    *how = "fitted in memory on the first " + std::to_string(std::min(n_images, train.size())) +
           " training images";
  return fit_codec_tables(model, device, train, n_images);
}

}  // namespace agilenn::runtime
