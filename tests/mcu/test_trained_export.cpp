// Trained-model export: SplitModel -> FrozenModel matches the float model (gap and grid heads),
// and a small random SplitModel saved with save_agile_model exports to a bundle that is
// bit-exact on the host, with packets the C++ codec decodes to the device's indices, using the
// codec tables stored in the model file when present.
#include <boost/test/unit_test.hpp>

#include <cmath>
#include <filesystem>
#include <random>

#include "autograd/graph.h"
#include "autograd/ops.h"
#include "codec/packet.h"
#include "mcu/device_harness.h"
#include "mcu/export.h"
#include "mcu/images.h"
#include "mcu/packet_encoder.h"
#include "mcu/pipeline_accuracy.h"
#include "mcu/reference.h"
#include "nn/io/error.h"
#include "nn/io/safetensors.h"
#include "xai/agile_model_file.h"
#include "xai/frozen_export.h"
#include "xai/preset.h"

using namespace agilenn;
using namespace agilenn::mcu;

namespace {

// A small split model with non-trivial BatchNorm statistics (so folding is exercised).
std::shared_ptr<xai::SplitModel> small_split_model(const std::string& head, uint64_t seed,
                                                   int depth_multiplier = 1) {
  xai::SplitConfig cfg = xai::get_preset("tiny").split;
  cfg.height = cfg.width = 28;
  cfg.in_channels = 1;
  cfg.local_head = head;
  cfg.extractor_depth_multiplier = depth_multiplier;
  ag::Rng rng(seed);
  auto m = std::make_shared<xai::SplitModel>(cfg, rng);
  std::mt19937 gen{uint32_t(seed)};
  std::uniform_real_distribution<float> u(0.f, 1.f);
  for (auto& [name, t] : m->state_dict()) {
    if (t.dtype() != ag::DType::F32) continue;
    float* p = t.data<float>();
    const bool bn = name.find("running_var") != std::string::npos;
    const bool mean = name.find("running_mean") != std::string::npos;
    const bool gamma = name.find("gamma") != std::string::npos;
    const bool beta = name.find("beta") != std::string::npos;
    for (int64_t i = 0; i < t.numel(); ++i) {
      if (bn) p[i] = 0.3f + u(gen);
      if (mean) p[i] = 0.4f * (u(gen) - 0.5f);
      if (gamma) p[i] = 0.5f + u(gen);
      if (beta) p[i] = 0.5f + 2.f * u(gen);
    }
    if (name == "quantizer.w")  // spread, unsorted centroids
      for (int64_t i = 0; i < t.numel(); ++i) p[i] = 4.f * (u(gen) - 0.5f);
  }
  m->eval();
  return m;
}

void check_frozen_matches(const std::string& head, int depth_multiplier = 1) {
  auto m = small_split_model(head, 7, depth_multiplier);
  const std::vector<float> mean{0.29f}, stdv{0.35f};
  xai::FrozenExport fe = xai::freeze_split_model(*m, mean, stdv);
  const FrozenModel& fm = fe.model;
  BOOST_REQUIRE_EQUAL(fm.extractor.at(0).mult, depth_multiplier);
  BOOST_REQUIRE(std::is_sorted(fm.centroids.begin(), fm.centroids.end()));
  std::vector<double> cents = m->quantizer->centroids().to_vector();
  for (size_t j = 0; j < fm.centroids.size(); ++j)
    BOOST_REQUIRE_EQUAL(fm.centroids[j], float(cents[fe.sorted_to_original[j]]));
  ag::NoGradGuard ng;
  std::mt19937 gen(11);
  const int n = 6, k = m->config().k(), F = m->config().features;
  std::vector<std::vector<uint8_t>> ims(n, std::vector<uint8_t>(28 * 28));
  std::vector<float> x;
  for (auto& im : ims)
    for (auto& p : im) {
      p = uint8_t(gen() & 255);
      x.push_back((p / 255.f - mean[0]) / stdv[0]);
    }
  ag::Tensor xt = ag::Tensor::from_floats(x, ag::Shape{n, 28, 28, 1});
  ag::Tensor feats = m->extract(xt);
  std::vector<double> f = feats.to_vector();
  std::vector<double> local = m->local_predict(feats).to_vector();
  std::vector<double> idx = m->quantizer->indices(ag::slice(feats, 3, k, F)).to_vector();
  size_t per = f.size() / n, near_ties = 0;
  for (int i = 0; i < n; ++i) {
    FloatForward ff = float_forward(fm, ims[i]);
    BOOST_REQUIRE_EQUAL(ff.features.size(), per);
    for (size_t j = 0; j < per; ++j) BOOST_REQUIRE_SMALL(ff.features[j] - f[i * per + j], 2e-4);
    for (int c = 0; c < fm.num_classes; ++c)
      BOOST_REQUIRE_SMALL(ff.local_logits[c] - local[i * fm.num_classes + c], 1e-3);
    size_t per_idx = ff.indices.size();
    for (size_t j = 0; j < per_idx; ++j) {
      int mine = fe.sorted_to_original[ff.indices[j]], theirs = int(idx[i * per_idx + j]);
      if (mine == theirs) continue;
      // Only a value on (float-rounding close to) a midpoint may pick the other centroid.
      size_t pix = j / (F - k), ch = j % (F - k);
      double v = ff.features[pix * F + k + ch];
      BOOST_REQUIRE_SMALL(std::fabs(v - cents[mine]) - std::fabs(v - cents[theirs]), 1e-4);
      ++near_ties;
    }
  }
  BOOST_CHECK_LE(near_ties, 2u);
}

std::string fresh_dir(const std::string& name) {
  std::string d = std::string(AGILENN_BINARY_DIR) + "/test_mcu_trained/" + name;
  std::filesystem::remove_all(d);
  std::filesystem::create_directories(d);
  return d;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(trained_export)

BOOST_AUTO_TEST_CASE(frozen_model_matches_split_model_grid_head) {
  check_frozen_matches("grid:3");
}
BOOST_AUTO_TEST_CASE(frozen_model_matches_split_model_gap_head) {
  check_frozen_matches("gap");
}
// The long preset's extractor: 4 depthwise outputs from the 1-channel image.
BOOST_AUTO_TEST_CASE(frozen_model_matches_split_model_depth_multiplier) {
  check_frozen_matches("grid:2", 4);
}

BOOST_AUTO_TEST_CASE(unsplit_model_is_rejected) {
  xai::SplitConfig cfg = xai::get_preset("tiny").split;
  cfg.unsplit = true;
  ag::Rng rng(1);
  xai::SplitModel m(cfg, rng);
  BOOST_CHECK_THROW(xai::freeze_split_model(m, {0.f}, {1.f}), Error);
}

// save_agile_model -> export_device_model -> host build: bit-exact, packets decode exactly, and
// the full-pipeline accuracy runs with every packet decoded to the device's indices.
BOOST_AUTO_TEST_CASE(saved_model_exports_bit_exact_with_fitted_then_stored_tables) {
  if (!std::filesystem::exists(std::string(kFashionMnistDir) + "/t10k-images-idx3-ubyte.gz")) {
    BOOST_TEST_MESSAGE("SKIPPED: Fashion-MNIST is not installed");
    return;
  }
  auto m = small_split_model("grid:2", 3);
  std::string dir = fresh_dir("saved");
  Json meta;
  meta["dataset"] = "fashion-mnist/test";
  xai::save_agile_model(dir + "/model.safetensors", *m, meta, {0.2860f}, {0.3530f});
  ExportOptions o;
  o.model_dir = dir;
  o.calib_images = 64;
  o.codec_fit_images = 64;
  ExportedModel e = export_device_model(o);
  BOOST_REQUIRE(e.trained);
  BOOST_CHECK(e.codec_tables.find("fitted") != std::string::npos);
  BOOST_CHECK_EQUAL(e.int8.grid, 2);
  write_bundle(e.bundle, dir + "/device");
  data::Dataset test = load_model_dataset(e, data::Split::Test);
  std::vector<std::vector<uint8_t>> ims;
  for (size_t i = 0; i < 24; ++i) ims.emplace_back(test.image(i).begin(), test.image(i).end());
  DeviceRun host = run_bundle_on_host(dir + "/device", ims, dir + "/host");
  size_t context = 0;
  for (size_t i = 0; i < ims.size(); ++i) {
    ReferenceResult ref = reference_run(e.int8, ims[i]);
    BOOST_REQUIRE(host.images[i].logits == ref.local_logits);
    BOOST_REQUIRE(host.images[i].packet == ref.packet);
    codec::DecodedPacket d = codec::decode_packet(host.images[i].packet, e.int8.codec);
    BOOST_REQUIRE(d.indices == ref.indices);
    context += d.header.coder == kDeviceCoder;
  }
  BOOST_CHECK_GT(context, 0u);  // the fitted context coder beats packed bits on real images

  test.images.resize(100 * test.image_size());
  test.labels.resize(100);
  PipelineAccuracy a = pipeline_accuracy(e, test);
  BOOST_CHECK_EQUAL(a.images, 100u);
  BOOST_CHECK_EQUAL(a.decode_mismatches, 0u);
  BOOST_CHECK(a.int8_accuracy >= 0 && a.int8_accuracy <= 1);
  BOOST_CHECK_CLOSE(a.alpha, 0.5, 1e-6);  // learned combiner at initialisation

  // Tables stored in the model file (as `agilenn fit-codec` does) are used instead of a new fit.
  codec::CodecTables stored = e.int8.codec;
  stored.model_id = 0xC0DEu;
  SafeTensors st = SafeTensors::load(dir + "/model.safetensors");
  st.add("codec.tables", DType::U8, {int64_t(stored.to_bytes().size())}, stored.to_bytes());
  st.write(dir + "/model.safetensors");
  ExportedModel e2 = export_device_model(o);
  BOOST_CHECK(e2.codec_tables.find("stored") != std::string::npos);
  BOOST_CHECK_EQUAL(e2.int8.codec.fingerprint(), stored.fingerprint());
  write_bundle(e2.bundle, dir + "/device2");
  DeviceRun host2 = run_bundle_on_host(dir + "/device2", ims, dir + "/host2");
  for (size_t i = 0; i < ims.size(); ++i)
    BOOST_REQUIRE(host2.images[i].packet == reference_run(e2.int8, ims[i]).packet);

  // Tables for another split are rejected, naming the tensor.
  codec::CodecTables wrong = stored;
  wrong.local_channels += 1;
  SafeTensors st2 = SafeTensors::load(dir + "/model.safetensors");
  SafeTensors st3(dir + "/model.safetensors");
  for (const auto& t : st2.tensors())
    if (t.name != "codec.tables") st3.add(t.name, t.dtype, t.shape, t.data);
  st3.metadata() = st2.metadata();
  st3.add("codec.tables", DType::U8, {int64_t(wrong.to_bytes().size())}, wrong.to_bytes());
  st3.write(dir + "/model.safetensors");
  try {
    export_device_model(o);
    BOOST_FAIL("expected an error");
  } catch (const Error& ex) {
    BOOST_CHECK(std::string(ex.what()).find("codec.tables") != std::string::npos);
  }
}

BOOST_AUTO_TEST_SUITE_END()
