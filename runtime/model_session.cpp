#include "runtime/model_session.h"

#include <filesystem>

#include "codec/packet.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"

namespace agilenn::runtime {

ModelSession open_session(const SessionOptions& o) {
  if (o.device_path != "int8" && o.device_path != "float")
    throw error_at("--device-path", "expected int8 or float, got '" + o.device_path + "'");
  ModelSession s;
  s.model_dir = o.model_dir;
  mcu::ExportOptions eo;
  eo.model_dir = o.model_dir;
  eo.dataset = o.dataset;
  eo.data_dir = o.data_dir;
  eo.calib_images = o.calib_images;
  eo.codec_fit_images = o.fit_images;
  auto exported = std::make_shared<mcu::ExportedModel>(mcu::export_device_model(eo));
  s.exported = exported;
  s.model = exported->trained;
  const auto& cfg = s.model->model->config();
  if (cfg.unsplit) throw error_at(s.model->path, "--model: an unsplit model has no device half");
  s.train = mcu::load_model_dataset(*exported, data::Split::Train);
  if (o.need_test) {
    s.test = mcu::load_model_dataset(*exported, data::Split::Test);
    if (o.limit_test && s.test.size() > o.limit_test) {
      s.test.images.resize(o.limit_test * s.test.image_size());
      s.test.labels.resize(o.limit_test);
    }
  }
  if (s.train.num_classes != cfg.num_classes)
    throw error_at(s.model->path, "the model has " + std::to_string(cfg.num_classes) +
                                      " classes, data set " + exported->dataset + " has " +
                                      std::to_string(s.train.num_classes));
  s.tables = exported->int8.codec;
  s.tables_how = exported->codec_tables;
  if (o.need_device) {
    s.float_device =
        std::make_unique<FloatDevice>(s.model, s.train.height, s.train.width, s.train.channels);
    if (o.device_path == "int8") {
      // Shares the export's Int8Model (aliasing pointer: the export stays alive with it).
      s.device = std::make_unique<Int8Device>(
          std::shared_ptr<const mcu::Int8Model>(exported, &exported->int8));
    } else {
      s.device =
          std::make_unique<FloatDevice>(s.model, s.train.height, s.train.width, s.train.channels);
    }
  }
  auto a = s.model->model->alpha();
  s.learned_alpha = a.defined() ? a.item() : 0.5;
  return s;
}

std::vector<DeviceOutput> ModelSession::run_device(std::span<const uint8_t> images,
                                                   size_t n) const {
  auto outs = device->run(images, n);
  const auto shape = device->stream_shape();
  for (auto& o : outs)
    if (o.packet.empty()) o.packet = codec::encode_packet_auto(o.indices, shape, tables);
  return outs;
}

std::optional<double> read_mcu_instructions(const std::string& path, std::string* why) {
  if (path.empty() || !std::filesystem::exists(path)) {
    if (why) *why = path.empty() ? "no --mcu-summary given" : "no file " + path;
    return std::nullopt;
  }
  auto bytes = read_file_bytes(path);
  Json j = Json::parse(std::string(bytes.begin(), bytes.end()));
  if (!j.contains("instructions_per_image") || j.at("instructions_per_image").is_null()) {
    if (why) *why = path + " has no instructions_per_image (QEMU skipped?)";
    return std::nullopt;
  }
  double v = j.at("instructions_per_image").as_number();
  if (!(v > 0)) throw error_at(path, "instructions_per_image must be > 0");
  if (why) *why = path;
  return v;
}

}  // namespace agilenn::runtime
