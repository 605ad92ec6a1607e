#include "mcu/export.h"

#include "mcu/images.h"
#include "nn/io/error.h"

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

ExportedModel export_device_model(const ExportOptions& o) {
  ExportedModel e;
  if (!o.model_dir.empty())
    throw error_at("--model",
                   "loading a trained model is not wired yet (the checkpoint loader does "
                   "not exist); use --random-model");
  if (!o.random_model)
    throw Error("give --random-model (or --model DIR once trained models exist)");
  if (o.calib_images == 0) throw error_at("--calib-images", "must be >= 1");
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
  auto calib = model_images(e.model, o.calib_source, o.data_dir, true, o.calib_images, o.seed + 1);
  e.calibration = std::to_string(calib.size()) + " " + o.calib_source + " images" +
                  (o.calib_source == "fashion-mnist" ? " (training set)" : "");
  e.int8 = quantize_model(e.model, calib);
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
