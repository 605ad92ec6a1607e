// agilenn codec-bench: fit the codec tables on training features, code every test image with
// every coder, and compare with zlib/zstd/xz and the order-0 entropy. Prints a table and writes
// <out>/summary.json (plus the fitted tables) atomically.
// Feature sources: --synthetic (seeded smooth ReLU6-like maps), --features FILE (raw float32
// NHWC + FILE.json sidecar, see codec/features_file.h), or --model DIR: a trained model's remote
// indices on a data set's test split, coded with the tables fit-codec stored in the model file
// (fitted here on the training split, and said so, when there are none).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cxxopts.hpp>
#include <filesystem>
#include <optional>

#include "codec/compare/general_purpose.h"
#include "codec/features_file.h"
#include "codec/packet.h"
#include "codec/quantize.h"
#include "codec/synthetic.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "nn/io/json.h"
#include "tools/cli/command.h"
#include "tools/cli/common.h"
#include "tools/cli/model_features.h"

namespace {
using namespace agilenn;
using namespace agilenn::codec;
using Clock = std::chrono::steady_clock;

struct Dataset {
  StreamShape shape;  // per image
  uint32_t k = 0, alphabet = 0;
  uint64_t image_bytes = 0;
  std::vector<uint8_t> train, test;  // indices, images back to back
  size_t n_train = 0, n_test = 0;
  std::string source;
  std::optional<CodecTables> tables;  // stored in the model file (--model); else fitted here
  std::string tables_source;          // empty: fitted here on the n_train fit images
  Json model = Json();
  uint32_t model_id = 0;  // --model: what the summary says about the model and the data set
};

std::vector<uint8_t> quantize_remote(const FeaturesFile& f) {
  const uint32_t r = f.shape.channels - f.k;
  const size_t pixels = size_t(f.shape.n) * f.shape.height * f.shape.width;
  std::vector<float> local(pixels * f.k), remote(pixels * r);
  split_channels(f.values, f.shape, f.k, local, remote);
  std::vector<uint8_t> idx(remote.size());
  Quantizer(f.centroids).quantize(remote, idx);
  return idx;
}

FeaturesFile synthetic_file(const SyntheticSpec& spec, uint32_t k, uint64_t image_bytes) {
  SyntheticFeatures s = make_synthetic_features(spec);
  FeaturesFile f;
  f.shape = s.shape;
  f.k = k;
  f.centroids = s.centroids;
  f.image_bytes = image_bytes;
  f.values = std::move(s.values);
  return f;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

struct Row {
  std::string name;
  double payload = 0, packet = 0;  // mean bytes per image
  double enc_mbs = 0, dec_mbs = 0;
  size_t ok = 0, total = 0;
  bool is_codec = true;
};

int run_codec_bench(int argc, char** argv) {
  cxxopts::Options opts(argv[0],
                        "Measure the link codec: bytes per image and speed of every coder.");
  // clang-format off
  opts.add_options()
    ("synthetic", "Use seeded synthetic feature maps (no model needed)")
    ("features", "Test features: raw float32 NHWC FILE + FILE.json {shape,k,centroids[,image_bytes]}", cxxopts::value<std::string>()->default_value(""))
    ("fit-features", "Training features in the same format (default: first half of --features)", cxxopts::value<std::string>()->default_value(""))
    ("model", "Trained model directory: codes its test-set remote indices with the tables stored by fit-codec", cxxopts::value<std::string>()->default_value(""))
    ("dataset", "With --model: data set (default: the one the model was trained on)", cxxopts::value<std::string>()->default_value(""))
    ("data-dir", "With --model: data set directory (default: the installed one)", cxxopts::value<std::string>()->default_value(""))
    ("limit-test", "With --model: code only the first N test images (0 = all)", cxxopts::value<size_t>()->default_value("0"))
    ("limit-train", "With --model and no stored tables: fit on the first N training images (0 = all)", cxxopts::value<size_t>()->default_value("0"))
    ("batch-size", "With --model: images per extractor batch", cxxopts::value<size_t>()->default_value("256"))
    ("threads", "With --model: worker threads for the extractor (0 = all cores)", cxxopts::value<int>()->default_value("0"))
    ("checks", "What decides the exit status: all (round trips and size targets) | round-trip", cxxopts::value<std::string>()->default_value("all"))
    ("train", "Synthetic training images", cxxopts::value<uint32_t>()->default_value("400"))
    ("test", "Synthetic test images", cxxopts::value<uint32_t>()->default_value("400"))
    ("height", "Synthetic map height", cxxopts::value<uint32_t>()->default_value("14"))
    ("width", "Synthetic map width", cxxopts::value<uint32_t>()->default_value("14"))
    ("channels", "Synthetic extractor channels", cxxopts::value<uint32_t>()->default_value("24"))
    ("k", "Synthetic local channels", cxxopts::value<uint32_t>()->default_value("5"))
    ("alphabet", "Synthetic centroid count C", cxxopts::value<uint32_t>()->default_value("8"))
    ("seed", "Synthetic seed (test maps use seed + 1)", cxxopts::value<uint64_t>()->default_value("1"))
    ("image-bytes", "Raw input image bytes for rates (synthetic; Fashion-MNIST 28x28x1)", cxxopts::value<uint64_t>()->default_value("784"))
    ("write-features", "With --synthetic: also write the test maps as a --features FILE", cxxopts::value<std::string>()->default_value(""))
    ("repeat", "Timing repetitions per coder", cxxopts::value<uint32_t>()->default_value("3"))
    ("out", "Output directory for summary.json and the fitted tables", cxxopts::value<std::string>()->default_value("runs/codec-bench"))
    ("h,help", "Show this help");
  // clang-format on
  cxxopts::ParseResult a;
  try {
    a = opts.parse(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n%s", e.what(), opts.help().c_str());
    return 2;
  }
  if (a.count("help")) {
    std::puts(opts.help().c_str());
    return 0;
  }
  try {
    const std::string features = a["features"].as<std::string>();
    const std::string fit_features = a["fit-features"].as<std::string>();
    const std::string model_dir = a["model"].as<std::string>();
    const bool synthetic = a.count("synthetic") > 0;
    if (int(synthetic) + int(!features.empty()) + int(!model_dir.empty()) != 1)
      throw error_at("--synthetic/--features/--model", "give exactly one of them");
    const std::string checks_mode = a["checks"].as<std::string>();
    if (checks_mode != "all" && checks_mode != "round-trip")
      throw error_at("--checks", "must be 'all' or 'round-trip', got '" + checks_mode + "'");
    if (!fit_features.empty() && features.empty())
      throw error_at("--fit-features", "needs --features");
    const uint32_t repeat = std::max(1u, a["repeat"].as<uint32_t>());

    Dataset d;
    if (!model_dir.empty()) {
      cli::set_threads(a["threads"].as<int>());
      const size_t batch_size = a["batch-size"].as<size_t>();
      if (batch_size == 0) throw error_at("--batch-size", "must be >= 1");
      const xai::AgileModelFile file = xai::load_agile_model(model_dir);
      const cli::CodecCentroids centroids = cli::codec_centroids(*file.model, file.path);
      std::string dataset = a["dataset"].as<std::string>();
      if (dataset.empty()) dataset = cli::model_dataset_name(file);
      if (dataset.empty())
        throw error_at("--dataset", file.path + " does not name its data set: give --dataset");
      const std::string data_dir = a["data-dir"].as<std::string>();
      data::Dataset test = data::load_dataset(dataset, data_dir, data::Split::Test);
      nn::limit_dataset(test, a["limit-test"].as<size_t>());
      const cli::RemoteIndices t =
          cli::extract_remote_indices(file, test, centroids, batch_size, "codec-bench extract");
      d.tables = cli::stored_codec_tables(file, centroids);
      d.model_id = cli::model_weights_id(*file.model);
      if (d.tables) {
        d.n_train = size_t(file.meta.at("codec").at("fitted_on_images").as_int());
        d.tables_source = "stored in " + file.path + " (fitted on " +
                          std::to_string(file.meta.at("codec").at("fitted_on_images").as_int()) +
                          " images)";
      } else {
        std::printf(
            "codec-bench: %s holds no codec tables (run agilenn fit-codec); fitting them now on "
            "the training split, not stored\n",
            file.path.c_str());
        data::Dataset train = data::load_dataset(dataset, data_dir, data::Split::Train);
        nn::limit_dataset(train, a["limit-train"].as<size_t>());
        const cli::RemoteIndices f =
            cli::extract_remote_indices(file, train, centroids, batch_size, "codec-bench fit");
        d.train = f.indices;
        d.n_train = f.images;
        d.tables_source =
            "fitted now on " + std::to_string(f.images) + " " + train.name + " images (not stored)";
      }
      d.shape = t.shape;
      d.k = t.k;
      d.alphabet = t.alphabet;
      d.image_bytes = test.image_size();
      d.test = t.indices;
      d.n_test = t.images;
      d.source = file.path + " on " + test.name;
      d.model = Json::object();
      d.model["path"] = file.path;
      d.model["model_id"] = d.model_id;
      d.model["dataset"] = test.name;
      d.model["features"] = t.features;
      Json cs = Json::array(), order = Json::array();
      for (float v : centroids.values) cs.push_back(Json(double(v)));
      for (uint32_t i : centroids.model_index) order.push_back(Json(i));
      d.model["centroids"] = std::move(cs);
      d.model["centroid_model_index"] = std::move(order);
      d.model["quantizer_disagreements"] = (unsigned long)t.model_disagreements;
      d.model["full_float32_feature_bytes_per_image"] =
          (unsigned long)(size_t(t.shape.height) * t.shape.width * t.features * 4);
      if (const Json* m = file.meta.find("metrics")) d.model["metrics"] = *m;
    } else if (synthetic) {
      SyntheticSpec spec;
      spec.height = a["height"].as<uint32_t>();
      spec.width = a["width"].as<uint32_t>();
      spec.channels = a["channels"].as<uint32_t>();
      spec.alphabet = a["alphabet"].as<uint32_t>();
      const uint32_t k = a["k"].as<uint32_t>();
      if (k < 1 || k >= spec.channels) throw error_at("--k", "must be 1..channels-1");
      spec.n = a["train"].as<uint32_t>();
      spec.seed = a["seed"].as<uint64_t>();
      if (spec.n == 0) throw error_at("--train", "must be >= 1");
      const FeaturesFile train = synthetic_file(spec, k, a["image-bytes"].as<uint64_t>());
      spec.n = a["test"].as<uint32_t>();
      spec.seed += 1;
      if (spec.n == 0) throw error_at("--test", "must be >= 1");
      const FeaturesFile test = synthetic_file(spec, k, a["image-bytes"].as<uint64_t>());
      if (!a["write-features"].as<std::string>().empty())
        write_features_file(a["write-features"].as<std::string>(), test);
      d.train = quantize_remote(train);
      d.test = quantize_remote(test);
      d.n_train = train.shape.n;
      d.n_test = test.shape.n;
      d.shape = {spec.height, spec.width, spec.channels - k};
      d.k = k;
      d.alphabet = spec.alphabet;
      d.image_bytes = a["image-bytes"].as<uint64_t>();
      d.source = "synthetic (seed " + std::to_string(a["seed"].as<uint64_t>()) + ")";
    } else {
      FeaturesFile test = read_features_file(features);
      d.shape = {test.shape.height, test.shape.width, test.shape.channels - test.k};
      d.k = test.k;
      d.alphabet = uint32_t(test.centroids.size());
      d.image_bytes = test.image_bytes;
      const std::vector<uint8_t> idx = quantize_remote(test);
      if (fit_features.empty()) {
        if (test.shape.n < 2) throw error_at(features, "needs >= 2 images to split fit/test");
        d.n_train = test.shape.n / 2;
        d.n_test = test.shape.n - d.n_train;
        d.train.assign(idx.begin(), idx.begin() + d.n_train * d.shape.size());
        d.test.assign(idx.begin() + d.n_train * d.shape.size(), idx.end());
      } else {
        const FeaturesFile train = read_features_file(fit_features);
        if (train.shape.height != test.shape.height || train.shape.width != test.shape.width ||
            train.shape.channels != test.shape.channels || train.k != test.k ||
            train.centroids != test.centroids)
          throw error_at(fit_features, "shape, k or centroids differ from " + features);
        d.train = quantize_remote(train);
        d.n_train = train.shape.n;
        d.test = idx;
        d.n_test = test.shape.n;
      }
      d.source = features;
    }
    const size_t per_image = d.shape.size();

    const auto t_fit = Clock::now();
    const CodecTables tables =
        d.tables ? *d.tables
                 : CodecTables::fit(d.train, d.n_train, d.shape, d.alphabet, d.k, d.model_id);
    if (!d.tables) {
      char buf[96];
      std::snprintf(buf, sizeof buf, "fitted here on %zu images in %.2f s", d.n_train,
                    seconds_since(t_fit));
      if (d.tables_source.empty()) d.tables_source = buf;
    }

    // Order-0 entropy of the test indices (empirical distribution of the whole test set).
    std::vector<uint64_t> counts(d.alphabet, 0);
    for (uint8_t v : d.test) ++counts[v];
    double h0 = 0;
    for (uint64_t c : counts)
      if (c) h0 -= double(c) / d.test.size() * std::log2(double(c) / d.test.size());
    const double entropy_bits = h0 * per_image;

    auto image = [&](size_t i) { return std::span(d.test).subspan(i * per_image, per_image); };
    const double total_mb = double(d.test.size()) / 1e6;
    std::vector<Row> rows;
    std::vector<std::pair<std::string, CoderId>> coders;
    for (unsigned c = 0; c < kCoderCount; ++c)
      coders.push_back({coder_name(CoderId(c)), CoderId(c)});
    coders.push_back({"auto", kDefaultCoder});
    for (const auto& [name, id] : coders) {
      Row row;
      row.name = name;
      const bool is_auto = name == "auto";
      std::vector<std::vector<uint8_t>> packets(d.n_test);
      double enc_s = 1e30, dec_s = 1e30;
      for (uint32_t rep = 0; rep < repeat; ++rep) {
        const auto t0 = Clock::now();
        for (size_t i = 0; i < d.n_test; ++i)
          packets[i] = is_auto ? encode_packet_auto(image(i), d.shape, tables)
                               : encode_packet(image(i), d.shape, tables, id);
        enc_s = std::min(enc_s, seconds_since(t0));
      }
      for (const auto& p : packets) {
        row.packet += double(p.size()) / d.n_test;
        row.payload += double(p.size() - kPacketHeaderBytes) / d.n_test;
      }
      std::vector<DecodedPacket> decoded(d.n_test);
      for (uint32_t rep = 0; rep < repeat; ++rep) {
        const auto t0 = Clock::now();
        for (size_t i = 0; i < d.n_test; ++i) {
          try {
            decoded[i] = decode_packet(packets[i], tables);
          } catch (const Error&) {
            decoded[i].indices.clear();
          }
        }
        dec_s = std::min(dec_s, seconds_since(t0));
      }
      for (size_t i = 0; i < d.n_test; ++i) {
        const auto im = image(i);
        row.ok +=
            std::equal(im.begin(), im.end(), decoded[i].indices.begin(), decoded[i].indices.end());
      }
      row.total = d.n_test;
      row.enc_mbs = total_mb / enc_s;
      row.dec_mbs = total_mb / dec_s;
      rows.push_back(row);
    }
    for (const auto& comp : compare::general_purpose_compressors()) {
      Row row;
      row.name = comp.name;
      row.is_codec = false;
      std::vector<std::vector<uint8_t>> out(d.n_test);
      const auto t0 = Clock::now();
      for (size_t i = 0; i < d.n_test; ++i) out[i] = comp.compress(image(i));
      row.enc_mbs = total_mb / seconds_since(t0);
      const auto t1 = Clock::now();
      for (size_t i = 0; i < d.n_test; ++i) {
        try {
          const auto back = comp.decompress(out[i], per_image);
          const auto im = image(i);
          row.ok += std::equal(im.begin(), im.end(), back.begin(), back.end());
        } catch (const Error&) {
        }
      }
      row.dec_mbs = total_mb / seconds_since(t1);
      for (const auto& o : out) row.payload += double(o.size()) / d.n_test;
      row.packet = row.payload;
      row.total = d.n_test;
      rows.push_back(row);
    }

    auto find = [&](const std::string& n) -> const Row& {
      for (const auto& r : rows)
        if (r.name == n) return r;
      throw Error("internal: no row " + n);
    };
    const Row& def = find("auto");
    const double float_bytes = double(per_image) * 4;
    std::printf("codec-bench: %s\n", d.source.c_str());
    std::printf("  test images %zu, map %ux%ux%u remote (k=%u), C=%u\n", d.n_test, d.shape.height,
                d.shape.width, d.shape.channels, d.k, d.alphabet);
    std::printf("  tables: %s, fingerprint %08x\n", d.tables_source.c_str(), tables.fingerprint());
    if (!d.model.is_null())
      std::printf("  model's own quantizer disagrees on %lld of %zu test indices\n",
                  (long long)d.model.at("quantizer_disagreements").as_int(), d.test.size());
    std::printf("  context model: L=%u levels, G=%u groups, shift %u, %zu B of tables\n",
                tables.context.config().levels, tables.context.config().groups,
                tables.context.config().shift, tables.context.table_bytes());
    std::printf("  %-9s %12s %12s %10s %10s %10s\n", "coder", "payload B", "packet B", "enc MB/s",
                "dec MB/s", "round trip");
    for (const auto& r : rows)
      std::printf("  %-9s %12.1f %12.1f %10.1f %10.1f %6zu/%zu\n", r.name.c_str(), r.payload,
                  r.packet, r.enc_mbs, r.dec_mbs, r.ok, r.total);
    std::printf(
        "  order-0 entropy: %.3f bits/index = %.1f B/image; default payload = %.3f x that\n", h0,
        entropy_bits / 8, def.payload / (entropy_bits / 8));
    std::printf(
        "  raw: %zu B packed indices (%u bits), %.0f B float32 remote features%s\n",
        size_t((per_image * index_bits(d.alphabet) + 7) / 8), index_bits(d.alphabet), float_bytes,
        d.image_bytes ? (", " + std::to_string(d.image_bytes) + " B raw image").c_str() : "");
    if (!d.model.is_null())
      std::printf("  the whole float32 feature map (local + remote) is %lld B per image\n",
                  (long long)d.model.at("full_float32_feature_bytes_per_image").as_int());
    std::printf(
        "  default (auto = context, packed fallback) packet: %.1fx smaller than float32%s\n",
        float_bytes / def.packet,
        d.image_bytes ? (", " + std::to_string(d.image_bytes / def.packet).substr(0, 5) +
                         "x smaller than the raw image")
                            .c_str()
                      : "");
    Json checks = Json::object();
    bool all = true;
    auto check = [&](const std::string& what, bool ok) {
      checks[what] = ok;
      all = all && ok;
      std::printf("  [%s] %s\n", ok ? "ok" : "FAIL", what.c_str());
    };
    for (const char* other : {"lzw", "huffman", "zlib-9", "zstd-19", "xz-9"})
      check(std::string("default packet < ") + other,
            def.packet < find(other).payload && def.packet < find(other).packet);
    check("default payload <= order-0 entropy", def.payload <= entropy_bits / 8);
    check("default payload <= 0.9 x order-0 entropy (aim)", def.payload <= 0.9 * entropy_bits / 8);
    bool round_trips = true;
    for (const auto& r : rows) round_trips = round_trips && r.ok == r.total;
    check("every round trip exact", round_trips);
    const bool pass = checks_mode == "all" ? all : round_trips;

    Json summary = Json::object();
    summary["source"] = d.source;
    summary["test_images"] = (unsigned long)d.n_test;
    summary["fit_images"] = (unsigned long)d.n_train;
    summary["tables_source"] = d.tables_source;
    if (!d.model.is_null()) summary["model"] = d.model;
    summary["shape"] =
        Json(Json::Array{Json(d.shape.height), Json(d.shape.width), Json(d.shape.channels)});
    summary["k"] = d.k;
    summary["alphabet"] = d.alphabet;
    summary["default_coder"] = "auto (context, packed fallback)";
    summary["tables_fingerprint"] = tables.fingerprint();
    summary["context_table_bytes"] = (unsigned long)tables.context.table_bytes();
    Json coders_json = Json::object();
    for (const auto& r : rows) {
      Json c = Json::object();
      c["kind"] = r.is_codec ? "agilenn packet" : "general-purpose (comparison only, no header)";
      c["mean_payload_bytes"] = r.payload;
      c["mean_packet_bytes"] = r.packet;
      c["encode_MBps"] = r.enc_mbs;
      c["decode_MBps"] = r.dec_mbs;
      c["round_trip_ok"] = (unsigned long)r.ok;
      c["round_trip_total"] = (unsigned long)r.total;
      coders_json[r.name] = std::move(c);
    }
    summary["coders"] = std::move(coders_json);
    summary["speed_unit"] = "MB/s of index bytes (one byte per index), host, best of --repeat";
    summary["order0_entropy_bits_per_index"] = h0;
    summary["order0_entropy_bits_per_image"] = entropy_bits;
    summary["packed_index_bytes_per_image"] =
        (unsigned long)((per_image * index_bits(d.alphabet) + 7) / 8);
    summary["float32_feature_bytes_per_image"] = float_bytes;
    summary["raw_image_bytes"] = (unsigned long long)d.image_bytes;
    summary["checks"] = std::move(checks);
    const std::string out = a["out"].as<std::string>();
    write_file_atomic(out + "/codec_tables.bin", std::span<const uint8_t>(tables.to_bytes()));
    write_file_atomic(out + "/codec_tables.json", tables.to_json().dump(1) + "\n");
    write_file_atomic(out + "/summary.json", summary.dump(1) + "\n");
    std::printf("  wrote %s/summary.json\n", out.c_str());
    if (!pass) std::printf("  exit status 1: --checks %s failed\n", checks_mode.c_str());
    return pass ? 0 : 1;
  } catch (const Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}

agilenn::cli::CommandRegistrar reg(
    "codec-bench", "Measure the link codec (bytes per image, speed) vs zlib/zstd/xz",
    run_codec_bench);
}  // namespace
