#include "runtime/model_session.h"

#include <filesystem>

#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "runtime/codec_setup.h"

namespace agilenn::runtime {

ModelSession open_session(const SessionOptions& o) {
  ModelSession s;
  s.model_dir = o.model_dir;
  s.model = std::make_shared<xai::AgileModelFile>(xai::load_agile_model(o.model_dir));
  const auto& cfg = s.model->model->config();
  if (cfg.unsplit) throw error_at(s.model->path, "--model: an unsplit model has no device half");
  s.train = data::load_dataset(o.dataset, o.data_dir, data::Split::Train);
  if (o.need_test) {
    s.test = data::load_dataset(o.dataset, o.data_dir, data::Split::Test);
    if (o.limit_test && s.test.size() > o.limit_test) {
      s.test.images.resize(o.limit_test * s.test.image_size());
      s.test.labels.resize(o.limit_test);
    }
  }
  if (s.train.num_classes != cfg.num_classes)
    throw error_at(s.model->path, "the model has " + std::to_string(cfg.num_classes) +
                                      " classes, --dataset " + o.dataset + " has " +
                                      std::to_string(s.train.num_classes));
  s.device =
      std::make_unique<FloatDevice>(s.model, s.train.height, s.train.width, s.train.channels);
  s.tables = load_or_fit_codec_tables(o.model_dir, *s.model, *s.device, s.train, o.fit_images,
                                      &s.tables_how);
  auto a = s.model->model->alpha();
  s.learned_alpha = a.defined() ? a.item() : 0.5;
  return s;
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
