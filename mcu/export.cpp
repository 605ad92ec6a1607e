#include "mcu/export.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <optional>

#include "codec/crc32.h"
#include "mcu/images.h"
#include "mcu/packet_encoder.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "nn/io/safetensors.h"
#include "xai/frozen_export.h"

namespace agilenn::mcu {

int parse_local_head(const std::string& text) {
  if (text == "gap") return 1;
  if (text.rfind("grid:", 0) == 0) {
    try {
      size_t used = 0;
      int g = std::stoi(text.substr(5), &used);
      if (used == text.size() - 5 && g >= 1) return g;
    } catch (const std::exception&) {
    }
  }
  throw error_at("--local-head", "expected gap or grid:G with G >= 1, got '" + text + "'");
}

std::vector<std::vector<uint8_t>> model_images(const FrozenModel& m, const std::string& source,
                                               const std::string& data_dir, bool train, size_t n,
                                               uint64_t seed) {
  size_t bytes = size_t(m.in_h) * m.in_w * m.in_c;
  if (source == "random") return random_images(n, bytes, seed);
  if (source == "fashion-mnist") {
    if (m.in_h != 28 || m.in_w != 28 || m.in_c != 1)
      throw Error("fashion-mnist images are 28x28x1, the model takes " + std::to_string(m.in_h) +
                  "x" + std::to_string(m.in_w) + "x" + std::to_string(m.in_c));
    std::string file =
        data_dir + (train ? "/train-images-idx3-ubyte.gz" : "/t10k-images-idx3-ubyte.gz");
    auto images = read_idx_images(file, n);
    if (images.size() < n)
      throw error_at(file, "has " + std::to_string(images.size()) + " images, " +
                               std::to_string(n) + " requested");
    return images;
  }
  throw Error("image source must be fashion-mnist or random, got '" + source + "'");
}

namespace {

std::string data_dir_or_default(const std::string& dir, const std::string& dataset) {
  if (!dir.empty()) return dir;
  std::string d = data::default_data_dir(dataset);
  if (d.empty())
    throw error_at("--data-dir", "data set '" + dataset + "' has no default directory");
  return d;
}

std::vector<std::vector<uint8_t>> first_images(const data::Dataset& ds, size_t n) {
  n = std::min(n, ds.size());
  std::vector<std::vector<uint8_t>> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.emplace_back(ds.image(i).begin(), ds.image(i).end());
  return out;
}

// The codec tables stored by `agilenn fit-codec` (U8 tensor "codec.tables"), if any.
std::optional<codec::CodecTables> stored_codec_tables(const std::string& path) {
  SafeTensors st = SafeTensors::load(path);
  if (!st.contains("codec.tables")) return std::nullopt;
  const auto& t = st.at("codec.tables");
  if (t.dtype != DType::U8) throw error_at(path, "tensor 'codec.tables' must be U8");
  return codec::CodecTables::from_bytes(t.data, path + ": codec.tables");
}

// load_agile_model, tolerating the U8 "codec.tables" tensor if the checkpoint loader does not
// know it yet: the model is then loaded from a copy of the file without that tensor.
xai::AgileModelFile load_trained_model(const std::string& dir_or_file) {
  std::string path = dir_or_file;
  if (std::filesystem::is_directory(path)) path += "/model.safetensors";
  if (!std::filesystem::exists(path)) throw error_at("--model", path + " does not exist");
  SafeTensors st = SafeTensors::load(path);
  if (!st.contains("codec.tables")) return xai::load_agile_model(path);
  try {
    return xai::load_agile_model(path);
  } catch (const Error&) {
    SafeTensors stripped(path);
    for (const auto& t : st.tensors())
      if (t.name != "codec.tables") stripped.add(t.name, t.dtype, t.shape, t.data);
    stripped.metadata() = st.metadata();
    auto tmp = std::filesystem::temp_directory_path() /
               ("agilenn_export_model_" + std::to_string(::getpid()) + ".safetensors");
    stripped.write(tmp.string());
    try {
      xai::AgileModelFile f = xai::load_agile_model(tmp.string());
      std::filesystem::remove(tmp);
      f.path = path;
      return f;
    } catch (...) {
      std::filesystem::remove(tmp);
      throw;
    }
  }
}

}  // namespace

data::Dataset load_model_dataset(const ExportedModel& e, data::Split split) {
  data::Dataset ds = data::load_dataset(e.dataset, e.data_dir, split);
  if (ds.height != e.model.in_h || ds.width != e.model.in_w || ds.channels != e.model.in_c)
    throw error_at(e.dataset, "images are " + std::to_string(ds.height) + "x" +
                                  std::to_string(ds.width) + "x" + std::to_string(ds.channels) +
                                  ", the model takes " + std::to_string(e.model.in_h) + "x" +
                                  std::to_string(e.model.in_w) + "x" +
                                  std::to_string(e.model.in_c) +
                                  " (resizing presets are not supported by the MCU path)");
  return ds;
}

ExportedModel export_device_model(const ExportOptions& o) {
  ExportedModel e;
  if (o.calib_images == 0) throw error_at("--calib-images", "must be >= 1");
  if (o.codec_fit_images == 0) throw error_at("--codec-fit-images", "must be >= 1");
  if (!o.model_dir.empty()) {
    if (o.random_model) throw Error("give either --model or --random-model, not both");
    e.trained = std::make_shared<xai::AgileModelFile>(load_trained_model(o.model_dir));
    const auto& f = *e.trained;
    xai::FrozenExport fe = xai::freeze_split_model(*f.model, f.mean, f.std);
    e.model = std::move(fe.model);
    e.sorted_to_original = std::move(fe.sorted_to_original);
    e.dataset = o.dataset;
    if (e.dataset.empty()) {
      if (!f.meta.contains("dataset"))
        throw error_at(f.path, "metadata has no 'dataset': give --dataset");
      e.dataset = f.meta.at("dataset").as_string(f.path + ": dataset");
      e.dataset = e.dataset.substr(0, e.dataset.find('/'));  // "fashion-mnist/test"
    }
    e.data_dir = data_dir_or_default(o.data_dir, e.dataset);
    data::Dataset train = load_model_dataset(e, data::Split::Train);
    auto calib = first_images(train, o.calib_images);
    e.calibration = std::to_string(calib.size()) + " " + e.dataset + " training images";
    e.int8 = quantize_model(e.model, calib);
    if (auto stored = stored_codec_tables(f.path)) {
      attach_codec_tables(e.int8, std::move(*stored), f.path + ": codec.tables");
      e.codec_tables = "stored in " + f.path + " (codec.tables)";
    } else {
      auto fit = first_images(train, o.codec_fit_images);
      std::vector<uint8_t> file = read_file_bytes(f.path);
      attach_codec_tables(e.int8, fit_device_codec_tables(e.int8, fit, codec::crc32_of(file)),
                          "fitted codec tables");
      e.codec_tables = "fitted on the device's indices of " + std::to_string(fit.size()) + " " +
                       e.dataset + " training images (model id = CRC-32 of the model file)";
    }
    e.description = f.path + " (" + f.model->config().local_head + " head, k " +
                    std::to_string(e.model.split_k) + ", " +
                    std::to_string(e.model.centroids.size()) + " centroids)";
    e.int8.device_coder = parse_device_coder(o.coder, e.int8, "--coder");
    e.bundle = generate_bundle(e.int8);
    return e;
  }
  if (!o.random_model) throw Error("give --model DIR (a trained model) or --random-model");
  RandomModelOptions ro;
  if (o.preset == "cifar") {  // the public code's extractor on 96x96 CIFAR images: 32x32x24 map
    ro.in_h = ro.in_w = 96;
    ro.in_c = 3;
    ro.stride = 3;
    ro.num_classes = 10;
  } else if (o.preset != "fashion") {
    throw error_at("--preset", "expected fashion or cifar, got '" + o.preset + "'");
  }
  ro.grid = parse_local_head(o.local_head);
  e.model = random_frozen_model(ro, o.seed);
  std::string dir = o.data_dir.empty() ? std::string(kFashionMnistDir) : o.data_dir;
  auto calib = model_images(e.model, o.calib_source, dir, true, o.calib_images, o.seed + 1);
  e.calibration = std::to_string(calib.size()) + " " + o.calib_source + " images" +
                  (o.calib_source == "fashion-mnist" ? " (training set)" : "");
  e.int8 = quantize_model(e.model, calib);
  auto fit = model_images(e.model, o.calib_source, dir, true, o.codec_fit_images, o.seed + 3);
  attach_codec_tables(e.int8, fit_device_codec_tables(e.int8, fit, uint32_t(o.seed)),
                      "fitted codec tables");
  e.codec_tables = "fitted on the device's indices of " + std::to_string(fit.size()) + " " +
                   o.calib_source + " images (model id = seed)";
  e.description = "random (seed " + std::to_string(o.seed) + "), local head " + o.local_head;
  e.int8.device_coder = parse_device_coder(o.coder, e.int8, "--coder");
  e.bundle = generate_bundle(e.int8);
  return e;
}

Json memory_json(const ExportedModel& e, const ArmSizes* sizes, const std::string& size_note) {
  const Bundle& b = e.bundle;
  Json j = Json::object();
  size_t io = b.input_bytes + 4 * size_t(b.num_classes) + b.packet_max_bytes;
  if (sizes) {
    j["flash_bytes"] = sizes->flash_bytes();
    j["flash_note"] = "text + data of agilenn_model.o and agilenn_weights.o, arm-none-eabi-gcc " +
                      std::string(kCortexM7Flags);
    j["static_ram_bytes"] = sizes->static_ram_bytes();
    j["stack_bytes_estimate"] = sizes->stack_bytes;
    j["stack_note"] = sizes->stack_note;
    j["sram_bytes"] = sizes->static_ram_bytes() + sizes->stack_bytes;
  } else {
    j["flash_bytes"] = nullptr;
    j["flash_note"] = size_note;
    j["stack_bytes_estimate"] = nullptr;
    j["sram_bytes"] = nullptr;
  }
  j["sram_note"] =
      "sram_bytes = static (arena + data) + stack; the caller's image, logits and packet "
      "buffers are io_buffers_bytes";
  j["io_buffers_bytes"] = io;
  j["arena_bytes"] = b.arena_bytes;
  j["weights_bytes"] = b.weight_bytes;
  j["packet_max_bytes"] = b.packet_max_bytes;
  j["macs_per_image"] = b.macs_per_image();
  int64_t head = e.int8.head_macs(), extractor = b.macs_per_image() - head;
  j["local_head_macs"] = head;
  j["local_head_macs_fraction_of_extractor"] =
      extractor > 0 ? double(head) / double(extractor) : 0.0;
  j["local_head"] = e.int8.grid == 1 ? std::string("gap") : "grid:" + std::to_string(e.int8.grid);
  j["calibration"] = e.calibration;
  j["codec_tables"] = e.codec_tables;
  j["codec_table_bytes"] = e.int8.codec.context.table_bytes();
  j["device_coder"] = codec::coder_name(e.int8.device_coder);
  int skipped = 0;
  for (uint8_t f : device_skip_channels(e.int8)) skipped += f;
  j["skipped_remote_channels"] = skipped;
  j["requantization"] = "TFLite Micro / CMSIS-NN, gemmlowp double rounding";
  Json stages = Json::array();
  for (const auto& s : b.stages) {
    Json st = Json::object();
    st["name"] = s.name;
    st["kind"] = s.kind;
    st["macs"] = s.macs;
    st["adds"] = s.adds;
    st["weight_bytes"] = s.weight_bytes;
    st["output"] = s.out_shape;
    stages.push_back(st);
  }
  j["stages"] = stages;
  Json bufs = Json::array();
  for (const auto& pb : b.buffers) {
    Json x = Json::object();
    x["name"] = pb.name;
    x["offset"] = pb.offset;
    x["bytes"] = pb.size;
    x["first_op"] = pb.first_op;
    x["last_op"] = pb.last_op;
    bufs.push_back(x);
  }
  j["arena_buffers"] = bufs;
  return j;
}

}  // namespace agilenn::mcu
