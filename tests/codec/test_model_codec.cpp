// The codec on a trained model's features: extraction as the device does it, the centroid order,
// fitting and storing the tables in the model file, and exact round trips of every image.
// Models here have random weights (the codec does not care how good they are); the CLI tests in
// CMakeLists.txt run fit-codec and codec-bench --model on the files written by write_cli_fixture.
#include <boost/test/unit_test.hpp>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <unistd.h>

#include "autograd/graph.h"
#include "codec/packet.h"
#include "nn/data/idx.h"
#include "nn/io/error.h"
#include "nn/io/safetensors.h"
#include "tools/cli/model_features.h"
#include "xai/agile_model_file.h"

using namespace agilenn;
namespace fs = std::filesystem;

namespace {

xai::SplitConfig small_config() {
  xai::SplitConfig c;
  c.height = c.width = 16;  // the data sets below are 20x20: extraction resizes
  c.in_channels = 1;
  c.num_classes = 10;
  c.extractor_hidden = 4;
  c.features = 10;
  c.split_ratio = 0.3;  // k = 3, R = 7
  c.centroids = 8;
  c.local_head = "grid:2";
  c.remote.blocks = {{1, 8, 1, 1}};
  c.remote.last_channels = 16;
  return c;
}

// Images with structure (bright rectangles on a dark ground), so feature maps have structure too.
data::Dataset make_images(size_t n, uint64_t seed, const std::string& name) {
  data::Dataset d;
  d.name = name;
  d.height = d.width = 20;
  d.channels = 1;
  d.num_classes = 10;
  d.images.assign(n * 400, 0);
  ag::Rng rng(seed);
  for (size_t i = 0; i < n; ++i) {
    const int y0 = int(rng.uniform() * 10), x0 = int(rng.uniform() * 10);
    const int h = 3 + int(rng.uniform() * 8), w = 3 + int(rng.uniform() * 8);
    const uint8_t v = uint8_t(80 + rng.uniform() * 175);
    for (int y = y0; y < std::min(20, y0 + h); ++y)
      for (int x = x0; x < std::min(20, x0 + w); ++x)
        d.images[i * 400 + size_t(y) * 20 + size_t(x)] = v;
    d.labels.push_back(int32_t(i % 10));
  }
  return d;
}

struct TempDir {
  fs::path path;
  explicit TempDir(const std::string& name)
      : path(fs::temp_directory_path() /
             ("agilenn_test_" + name + "_" + std::to_string(::getpid()))) {
    fs::remove_all(path);
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string save_random_model(const fs::path& dir, uint64_t seed) {
  fs::create_directories(dir);
  ag::Rng rng(seed);
  xai::SplitModel model(small_config(), rng);
  Json meta;
  meta["dataset"] = "fashion-mnist/test";
  meta["preset"] = "test";
  const std::string path = (dir / "model.safetensors").string();
  xai::save_agile_model(path, model, meta, {0.25f}, {0.35f});
  return path;
}

// The device path for one image, written out without the helper: normalise, extractor, slice,
// threshold quantizer.
std::vector<uint8_t> device_indices(const xai::AgileModelFile& f, const data::Dataset& ds, size_t i,
                                    const std::vector<float>& centroids) {
  data::AugmentOptions ao;
  ao.pad = 0;
  ao.horizontal_flip = false;
  ao.out_height = ao.out_width = 16;
  ao.mean = f.mean;
  ao.std = f.std;
  data::Augmenter aug(ao, ds.height, ds.width, ds.channels);
  std::vector<float> x(aug.out_size());
  aug.apply_fixed(ds.image(i).data(), 0, 0, false, x.data());
  ag::NoGradGuard ng;
  const std::vector<float> feat =
      f.model->extract(ag::Tensor::from_floats(x, ag::Shape{1, 16, 16, 1})).to_floats();
  const int k = f.model->config().k(), F = f.model->config().features;
  std::vector<float> remote;
  for (size_t p = 0; p < feat.size() / size_t(F); ++p)
    for (int c = k; c < F; ++c) remote.push_back(feat[p * size_t(F) + size_t(c)]);
  std::vector<uint8_t> idx(remote.size());
  codec::Quantizer(centroids).quantize(remote, idx);
  return idx;
}

void write_be32(std::ofstream& o, uint32_t v) {
  const char b[4] = {char(v >> 24), char(v >> 16), char(v >> 8), char(v)};
  o.write(b, 4);
}

void write_idx(const fs::path& dir, const std::string& prefix, const data::Dataset& d) {
  std::ofstream im(dir / (prefix + "-images-idx3-ubyte"), std::ios::binary);
  write_be32(im, data::kIdxImagesMagic);
  write_be32(im, uint32_t(d.size()));
  write_be32(im, uint32_t(d.height));
  write_be32(im, uint32_t(d.width));
  im.write(reinterpret_cast<const char*>(d.images.data()), std::streamsize(d.images.size()));
  std::ofstream lb(dir / (prefix + "-labels-idx1-ubyte"), std::ios::binary);
  write_be32(lb, data::kIdxLabelsMagic);
  write_be32(lb, uint32_t(d.size()));
  for (int32_t l : d.labels) lb.put(char(l));
  BOOST_REQUIRE(im.good() && lb.good());
}

bool mentions(const Error& e, const std::string& s) {
  return std::string(e.what()).find(s) != std::string::npos;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(codec_model)

BOOST_AUTO_TEST_CASE(extraction_matches_the_device_path_and_any_batch_size) {
  TempDir tmp("extract");
  const std::string path = save_random_model(tmp.path, 3);
  const xai::AgileModelFile f = xai::load_agile_model(tmp.path.string());
  const data::Dataset ds = make_images(23, 5, "images");
  const cli::CodecCentroids c = cli::codec_centroids(*f.model, f.path);
  BOOST_TEST(!c.reordered());
  const cli::RemoteIndices all = cli::extract_remote_indices(f, ds, c, 64, "test");
  const cli::RemoteIndices small =
      cli::extract_remote_indices(f, ds, c, 5, "test");  // partial last batch
  BOOST_TEST(all.images == 23u);
  BOOST_TEST((all.shape == codec::StreamShape{8, 8, 7}));
  BOOST_TEST(all.k == 3u);
  BOOST_TEST(all.alphabet == 8u);
  BOOST_TEST(all.indices.size() == 23u * 8 * 8 * 7);
  BOOST_TEST((all.indices == small.indices));
  BOOST_TEST(all.model_disagreements == 0u);
  for (size_t i : {size_t(0), size_t(11), size_t(22)}) {
    const auto want = device_indices(f, ds, i, c.values);
    BOOST_TEST(std::equal(want.begin(), want.end(),
                          all.indices.begin() + ptrdiff_t(i * all.shape.size())));
  }
  // Not a degenerate map: several centroids are used.
  std::vector<size_t> counts(8, 0);
  for (uint8_t v : all.indices) ++counts.at(v);
  BOOST_TEST(std::count_if(counts.begin(), counts.end(), [](size_t n) { return n > 0; }) >= 3);
}

BOOST_AUTO_TEST_CASE(unordered_centroids_are_sorted_and_indices_follow) {
  TempDir tmp("order");
  save_random_model(tmp.path, 4);
  xai::AgileModelFile f = xai::load_agile_model(tmp.path.string());
  // Reverse the learned centroids: the model's index i is now the codec's 7 - i.
  {
    ag::NoGradGuard ng;
    float* w = f.model->quantizer->w.data<float>();
    std::reverse(w, w + 8);
  }
  const cli::CodecCentroids c = cli::codec_centroids(*f.model, f.path);
  BOOST_TEST(c.reordered());
  const std::vector<float> model_c = f.model->quantizer->centroids().to_floats();
  for (uint32_t j = 0; j < 8; ++j) {
    BOOST_TEST(c.model_index[j] == 7 - j);
    BOOST_TEST(c.values[j] == model_c[c.model_index[j]]);
  }
  const data::Dataset ds = make_images(6, 7, "images");
  const cli::RemoteIndices r = cli::extract_remote_indices(f, ds, c, 4, "test");
  BOOST_TEST(r.model_disagreements == 0u);  // the mapping through model_index agrees everywhere
  // Two centroids merged into one value (as training can leave them): still a codec alphabet of 8,
  // the model's lower index first, and the threshold form agrees with the model everywhere.
  {
    ag::NoGradGuard ng;
    float* w = f.model->quantizer->w.data<float>();
    w[5] = w[2];
  }
  const cli::CodecCentroids merged = cli::codec_centroids(*f.model, f.path);
  BOOST_TEST(merged.values.size() == 8u);
  const std::vector<float> merged_c = f.model->quantizer->centroids().to_floats();
  for (uint32_t j = 1; j < 8; ++j)
    if (merged.values[j] == merged.values[j - 1])
      BOOST_TEST(merged.model_index[j - 1] < merged.model_index[j]);
  const cli::RemoteIndices rm = cli::extract_remote_indices(f, ds, merged, 4, "test");
  BOOST_TEST(rm.model_disagreements == 0u);
  // All centroids equal: nothing to code, a clear error.
  {
    ag::NoGradGuard ng;
    float* w = f.model->quantizer->w.data<float>();
    for (int i = 0; i < 8; ++i) w[i] = w[0];
  }
  BOOST_CHECK_EXCEPTION(cli::codec_centroids(*f.model, f.path), Error,
                        [](const Error& e) { return mentions(e, "all centroids are equal"); });
}

BOOST_AUTO_TEST_CASE(tables_stored_in_the_model_file_round_trip) {
  TempDir tmp("store");
  const std::string path = save_random_model(tmp.path, 6);
  const xai::AgileModelFile before = xai::load_agile_model(path);
  BOOST_TEST(before.codec_tables.empty());
  const cli::CodecCentroids c = cli::codec_centroids(*before.model, before.path);
  BOOST_TEST(!cli::stored_codec_tables(before, c).has_value());

  const cli::RemoteIndices fit =
      cli::extract_remote_indices(before, make_images(60, 8, "fit"), c, 16, "fit");
  const uint32_t id = cli::model_weights_id(*before.model);
  const codec::CodecTables tables =
      codec::CodecTables::fit(fit.indices, fit.images, fit.shape, fit.alphabet, fit.k, id);
  xai::store_codec_tables(tmp.path.string(), tables.to_bytes(),
                          cli::codec_meta_json(tables, c, fit, "fit"));
  xai::store_codec_tables(path, tables.to_bytes(),
                          cli::codec_meta_json(tables, c, fit, "fit"));  // replaces

  const xai::AgileModelFile after = xai::load_agile_model(path);
  BOOST_TEST((after.codec_tables == tables.to_bytes()));
  BOOST_TEST(after.meta.at("codec").at("fitted_on_images").as_int() == 60);
  BOOST_TEST(after.meta.at("codec").at("fingerprint").as_int() == int64_t(tables.fingerprint()));
  BOOST_TEST(after.meta.at("preset").as_string() == "test");  // the rest of the metadata is kept
  BOOST_TEST(cli::model_weights_id(*after.model) == id);      // and the weights
  const SafeTensors st = SafeTensors::load(path);
  BOOST_TEST(st.size() == before.model->state_dict().size() + 1);
  const auto stored =
      cli::stored_codec_tables(after, cli::codec_centroids(*after.model, after.path));
  BOOST_REQUIRE(stored.has_value());
  BOOST_TEST((stored->to_bytes() == tables.to_bytes()));

  // Every image of a held-out set round-trips through the stored tables, with every coder.
  const data::Dataset test = make_images(40, 9, "test");
  const cli::RemoteIndices t = cli::extract_remote_indices(after, test, c, 16, "test");
  size_t context_bytes = 0, packed_bytes = 0;
  for (size_t i = 0; i < t.images; ++i) {
    const auto img = std::span(t.indices).subspan(i * t.shape.size(), t.shape.size());
    for (unsigned coder = 0; coder < codec::kCoderCount; ++coder) {
      const auto p = codec::encode_packet(img, t.shape, *stored, codec::CoderId(coder));
      const auto back = codec::decode_packet(p, *stored);
      BOOST_TEST(std::equal(img.begin(), img.end(), back.indices.begin(), back.indices.end()));
      if (coder == unsigned(codec::CoderId::kContext)) context_bytes += p.size();
      if (coder == unsigned(codec::CoderId::kPacked)) packed_bytes += p.size();
    }
    const auto p = codec::encode_packet_auto(img, t.shape, *stored);
    BOOST_TEST(
        (codec::decode_packet(p, *stored).indices == std::vector<uint8_t>(img.begin(), img.end())));
  }
  BOOST_TEST(context_bytes < packed_bytes);  // structured maps: the context coder gains

  // Tables for other weights are refused, naming the file.
  {
    ag::NoGradGuard ng;
    after.model->quantizer->w.data<float>()[0] += 0.01f;
  }
  BOOST_CHECK_EXCEPTION(cli::stored_codec_tables(after, c), Error, [](const Error& e) {
    return mentions(e, "other weights") && mentions(e, "model.safetensors");
  });
}

BOOST_AUTO_TEST_CASE(model_file_codec_entries_are_checked) {
  TempDir tmp("bad");
  const std::string path = save_random_model(tmp.path, 10);
  const SafeTensors good = SafeTensors::load(path);
  auto rewrite = [&](const std::string& name, DType dt, std::vector<int64_t> shape,
                     std::vector<uint8_t> data, bool with_meta) {
    SafeTensors st(path);
    for (const auto& t : good.tensors()) st.add(t.name, t.dtype, t.shape, t.data);
    st.add(name, dt, shape, data);
    st.metadata() = good.metadata();
    Json meta = Json::parse(good.metadata_at("agilenn"));
    if (with_meta) meta["codec"] = Json::object();
    st.metadata()["agilenn"] = meta.dump();
    st.write(path);
  };
  rewrite("codec.other", DType::U8, {2}, {1, 2}, true);
  BOOST_CHECK_EXCEPTION(xai::load_agile_model(path), Error, [](const Error& e) {
    return mentions(e, "codec.other") && mentions(e, "unknown codec tensor");
  });
  rewrite("codec.tables", DType::I16, {1}, {1, 2}, true);
  BOOST_CHECK_EXCEPTION(xai::load_agile_model(path), Error,
                        [](const Error& e) { return mentions(e, "expected a 1-D U8 tensor"); });
  rewrite("codec.tables", DType::U8, {2}, {1, 2}, false);
  BOOST_CHECK_EXCEPTION(xai::load_agile_model(path), Error, [](const Error& e) {
    return mentions(e, "without a 'codec' metadata entry");
  });
  // Garbage bytes load (the model is fine) but are refused as tables, naming the tensor.
  rewrite("codec.tables", DType::U8, {2}, {1, 2}, true);
  const xai::AgileModelFile f = xai::load_agile_model(path);
  BOOST_CHECK_EXCEPTION(cli::stored_codec_tables(f, cli::codec_centroids(*f.model, f.path)), Error,
                        [](const Error& e) { return mentions(e, "codec.tables"); });
  BOOST_CHECK_EXCEPTION(xai::store_codec_tables(path, {}, Json::object()), Error,
                        [](const Error& e) { return mentions(e, "empty"); });
}

// Writes the CLI tests' inputs (see CMakeLists.txt): two random models and a 20x20 IDX data set
// (120 training, 50 test images) under $AGILENN_BINARY_DIR/tests/codec/model_cli. Disabled in a
// plain run (it would rewrite the files under the CLI tests' feet); CTest selects it by name.
BOOST_AUTO_TEST_CASE(write_cli_fixture, *boost::unit_test::disabled()) {
  const fs::path root = fs::path(AGILENN_BINARY_DIR) / "tests/codec/model_cli";
  fs::remove_all(root);
  fs::create_directories(root / "data");
  save_random_model(root / "model", 11);
  save_random_model(root / "model_unfitted", 11);
  write_idx(root / "data", "train", make_images(120, 12, "train"));
  write_idx(root / "data", "t10k", make_images(50, 13, "test"));
  const data::Dataset back =
      data::load_dataset("fashion-mnist", (root / "data").string(), data::Split::Test);
  BOOST_TEST(back.size() == 50u);
  BOOST_TEST(xai::load_agile_model((root / "model").string()).codec_tables.empty());
}

BOOST_AUTO_TEST_SUITE_END()
