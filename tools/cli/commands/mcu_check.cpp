// agilenn mcu-check: export the device bundle, run it on the host and on a Cortex-M7 under QEMU,
// compare local logits and packets byte for byte with the C++ fixed-point reference, count
// instructions, decode every packet with the C++ codec, and (trained model) measure the accuracy of
// the full pipeline with the int8 device part against the float model. Writes <out>/summary.json.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <string>

#include <cxxopts.hpp>

#include "codec/packet.h"
#include "mcu/edge_compressor.h"
#include "mcu/export.h"
#include "mcu/images.h"
#include "mcu/packet_encoder.h"
#include "mcu/pipeline_accuracy.h"
#include "mcu/reference.h"
#include "nn/io/atomic_file.h"
#include "nn/io/error.h"
#include "tools/cli/command.h"
#include "tools/cli/commands/mcu_export_flags.h"

namespace {

using namespace agilenn;
using namespace agilenn::mcu;

int run_mcu_check(int argc, char** argv) {
  cxxopts::Options opts(argv[0],
                        "Export the device bundle and verify it bit-exactly on the host and on a "
                        "Cortex-M7 (QEMU mps2-an500); writes <out>/summary.json.");
  agilenn::cli::add_mcu_export_flags(opts);
  opts.add_options()("accuracy-images",
                     "Test images for the int8 vs float accuracy (0: the whole test set)",
                     cxxopts::value<size_t>()->default_value("0"))(
      "test-source",
      "Random model's test images: fashion-mnist (test set) or random (a trained model uses its "
      "test set)",
      cxxopts::value<std::string>()->default_value("fashion-mnist"))(
      "images", "Images checked on the host", cxxopts::value<size_t>()->default_value("1000"))(
      "qemu-images", "Images checked on the Cortex-M7 under QEMU (0: skip QEMU)",
      cxxopts::value<size_t>()->default_value("20"))(
      "out", "Output directory (device/, build/, summary.json)",
      cxxopts::value<std::string>()->default_value("runs/mcu-check"))("h,help", "Show this help");
  try {
    auto r = opts.parse(argc, argv);
    if (r.count("help")) {
      std::puts(opts.help().c_str());
      return 0;
    }
    const ExportOptions o = agilenn::cli::mcu_export_options(r);
    size_t n_accuracy = r["accuracy-images"].as<size_t>();
    size_t n_images = r["images"].as<size_t>(), n_qemu = r["qemu-images"].as<size_t>();
    if (n_images == 0) throw error_at("--images", "must be >= 1");
    std::string out = std::filesystem::absolute(r["out"].as<std::string>()).string();
    std::string device = out + "/device", build = out + "/build";

    ExportedModel e = export_device_model(o);
    write_bundle(e.bundle, device);
    std::string arm_missing = tool_missing_reason("arm-none-eabi-gcc");
    ArmSizes sizes;
    Json mem;
    if (arm_missing.empty()) {
      sizes = measure_arm_sizes(device, build + "/size");
      mem = memory_json(e, &sizes, "");
    } else {
      mem = memory_json(e, nullptr, "not measured: " + arm_missing);
    }
    write_file_atomic(device + "/memory.json", mem.dump(2) + "\n");

    std::string test_source = r["test-source"].as<std::string>();
    std::vector<std::vector<uint8_t>> images;
    data::Dataset test;
    if (e.trained) {
      test = load_model_dataset(e, data::Split::Test);
      test_source = e.dataset + " (test set)";
      if (test.size() < n_images)
        throw error_at("--images", std::to_string(n_images) + " requested, the test set has " +
                                       std::to_string(test.size()));
      for (size_t i = 0; i < n_images; ++i)
        images.emplace_back(test.image(i).begin(), test.image(i).end());
    } else {
      images = model_images(e.model, test_source,
                            o.data_dir.empty() ? std::string(kFashionMnistDir) : o.data_dir, false,
                            n_images, o.seed + 2);
    }
    std::vector<ReferenceResult> refs;
    for (const auto& im : images) refs.push_back(reference_run(e.int8, im));

    // 1. Host build of the generated C.
    DeviceRun host = run_bundle_on_host(device, images, build + "/host");
    size_t host_mismatch = 0, decode_mismatch = 0, packet_bytes = 0, context_packets = 0;
    for (size_t i = 0; i < images.size(); ++i) {
      host_mismatch += host.images[i].rc != 0 || host.images[i].logits != refs[i].local_logits ||
                       host.images[i].packet != refs[i].packet;
      // The server's side: the generated C's packet decodes to exactly the device's indices.
      try {
        codec::DecodedPacket d = codec::decode_packet(host.images[i].packet, e.int8.codec);
        decode_mismatch += d.indices != refs[i].indices;
        context_packets += d.header.coder == e.int8.device_coder;
      } catch (const agilenn::Error&) {
        ++decode_mismatch;
      }
      packet_bytes += host.images[i].packet.size();
    }

    // 2. Cortex-M7 under QEMU.
    Json summary = Json::object();
    Json qemu_json = nullptr;
    std::string qemu_skip;
    n_qemu = std::min(n_qemu, images.size());
    if (n_qemu == 0)
      qemu_skip = "--qemu-images 0";
    else if (!arm_missing.empty())
      qemu_skip = arm_missing;
    else
      qemu_skip = tool_missing_reason("qemu-system-arm");
    double instructions = 0;
    bool edge_compressors_ok = true;
    Json stage_json = Json::array();
    if (qemu_skip.empty()) {
      std::vector<std::vector<uint8_t>> subset(images.begin(), images.begin() + long(n_qemu));
      DeviceRun m7 = run_bundle_on_qemu(device, subset, build + "/qemu");
      size_t mismatch = 0;
      double ticks = 0;
      std::vector<double> stage_ticks(e.bundle.stages.size(), 0.0);
      for (size_t i = 0; i < n_qemu; ++i) {
        const auto& d = m7.images[i];
        mismatch += d.rc != 0 || d.logits != refs[i].local_logits || d.packet != refs[i].packet ||
                    d.logits != host.images[i].logits || d.packet != host.images[i].packet;
        ticks += double(d.ticks - m7.call_overhead_ticks);
        for (size_t s = 0; s < stage_ticks.size() && s < d.stage_ticks.size(); ++s)
          stage_ticks[s] += double(d.stage_ticks[s]);
      }
      instructions = ticks / double(n_qemu) / kTicksPerInstruction;
      summary["bit_exact_qemu"] = mismatch == 0;
      summary["qemu_images_checked"] = n_qemu;
      summary["qemu_mismatches"] = mismatch;
      for (size_t s = 0; s < stage_ticks.size(); ++s) {
        const auto& st = e.bundle.stages[s];
        double instr = stage_ticks[s] / double(n_qemu) / kTicksPerInstruction;
        Json js = Json::object();
        js["stage"] = st.name;
        js["instructions"] = instr;
        js["macs"] = st.macs;
        js["instructions_per_mac"] = st.macs > 0 ? Json(instr / double(st.macs)) : Json(nullptr);
        stage_json.push_back(js);
      }
      summary["instructions_per_image"] = instructions;
      // The edge-only baseline's compressors on the same device and images: LZW and PNG of the
      // raw bytes, each with the flash and SRAM of its build.
      const ImageShape shape{e.model.in_h, e.model.in_w, e.model.in_c};
      EdgeCompressorRun lzw = run_lzw_on_qemu(subset, build + "/qemu_lzw");
      LzwFootprint lzw_fp = measure_lzw_footprint(build + "/qemu_lzw");
      PngCompressorRun png = run_png_on_qemu(subset, shape, build + "/qemu_png");
      const double lzw_sram = double(lzw_fp.work_bytes + lzw_fp.out_bytes + shape.bytes() +
                                     lzw_fp.compressor.data_bytes + lzw_fp.compressor.bss_bytes);
      const double png_sram = double(png.peak_heap_bytes + shape.bytes() +
                                     png.footprint.data_bytes + png.footprint.bss_bytes);
      summary["edge_compressor_instructions_lzw"] = lzw.instructions_per_image;
      summary["edge_compressor_lzw_payload_bytes"] = lzw.mean_payload_bytes;
      summary["edge_compressor_lzw_bit_exact"] = lzw.mismatches == 0;
      summary["edge_compressor_lzw_flash_bytes"] = lzw_fp.compressor.flash_bytes();
      summary["edge_compressor_lzw_sram_bytes"] = lzw_sram;
      summary["edge_compressor_instructions_png"] = png.instructions_per_image;
      summary["edge_compressor_png_payload_bytes"] = png.mean_payload_bytes;
      summary["edge_compressor_png_bit_exact"] = png.mismatches == 0;
      summary["edge_compressor_png_peak_heap_bytes"] = png.peak_heap_bytes;
      summary["edge_compressor_png_flash_bytes"] = png.footprint.flash_bytes();
      summary["edge_compressor_png_sram_bytes"] = png_sram;
      auto footprint_json = [](const CompressorFootprint& f) {
        Json j = Json::object();
        j["code_bytes"] = f.code_bytes;
        j["rodata_bytes"] = f.rodata_bytes;
        j["data_bytes"] = f.data_bytes;
        j["bss_bytes"] = f.bss_bytes;
        j["note"] = f.note;
        return j;
      };
      Json detail = Json::object();
      Json lj = footprint_json(lzw_fp.compressor);
      lj["work_area_bytes"] = lzw_fp.work_bytes;
      lj["output_buffer_bytes"] = lzw_fp.out_bytes;
      lj["image_bytes"] = shape.bytes();
      detail["lzw"] = lj;
      Json pj = footprint_json(png.footprint);
      pj["peak_heap_bytes"] = png.peak_heap_bytes;
      pj["newlib_heap_arena_bytes"] = png.newlib_heap_arena;
      pj["image_bytes"] = shape.bytes();
      detail["png"] = pj;
      summary["edge_compressors"] = detail;
      summary["edge_compressor_note"] =
          "Cortex-M7 under QEMU, same timing as instructions_per_image, on the raw bytes of the "
          "same test images. LZW: codec/c/agilenn_lzw.c (the bytes of codec::lzw_encode, "
          "alphabet 256, hash-table dictionary); PNG: stb_image_write's stbi_write_png_to_mem "
          "(level 8, adaptive filters; bytes compared with the host's), its allocations through "
          "a counting allocator (realloc counted with old and new block live). Flash: the "
          "compressor's symbols kept in the linked ELF (newlib's malloc/memmove not counted). "
          "SRAM: LZW work area + output buffer + image, PNG peak heap (output included) + image; "
          "plus the compressor's static data; stack not counted";
      edge_compressors_ok = lzw.mismatches == 0 && png.mismatches == 0;
      std::printf(
          "edge-only compressor (LZW, cortex-m7): %.0f instructions/image, %.0f B, %s; "
          "flash %zu B, SRAM %.0f B\n",
          lzw.instructions_per_image, lzw.mean_payload_bytes,
          lzw.mismatches == 0 ? "bytes equal to the C++ LZW" : "MISMATCH",
          lzw_fp.compressor.flash_bytes(), lzw_sram);
      std::printf(
          "edge-only compressor (PNG, cortex-m7): %.0f instructions/image, %.0f B, %s; "
          "flash %zu B, peak heap %zu B, SRAM %.0f B\n",
          png.instructions_per_image, png.mean_payload_bytes,
          png.mismatches == 0 ? "bytes equal to the host's stb_image_write" : "MISMATCH",
          png.footprint.flash_bytes(), png.peak_heap_bytes, png_sram);
    } else {
      summary["bit_exact_qemu"] = nullptr;
      summary["qemu_skipped"] = qemu_skip;
      summary["instructions_per_image"] = nullptr;
    }
    summary["bit_exact_host"] = host_mismatch == 0;
    summary["packets_decode_exactly"] = decode_mismatch == 0;
    summary["packet_decode_mismatches"] = decode_mismatch;
    summary["mean_packet_bytes"] = double(packet_bytes) / double(images.size());
    summary["packed_packet_bytes"] = e.bundle.packet_max_bytes;
    summary["context_coded_packets"] = context_packets;  // of the device coder, not packed bits
    summary["device_coder"] = mem.at("device_coder");
    summary["skipped_remote_channels"] = mem.at("skipped_remote_channels");
    summary["codec_tables"] = e.codec_tables;
    summary["images_checked"] = images.size();
    summary["host_mismatches"] = host_mismatch;
    summary["test_images"] = test_source;
    summary["macs_per_image"] = e.bundle.macs_per_image();
    summary["head_macs"] = e.int8.head_macs();
    summary["local_head_macs_fraction_of_extractor"] =
        mem.at("local_head_macs_fraction_of_extractor");
    summary["instructions_note"] =
        "QEMU -icount shift=7, CMSDK timer0 ticks / 3.2 around a noipa call, minus the empty-call "
        "overhead; instructions, not cycles (an estimate at 216 MHz assumes 1 instruction/cycle)";
    if (qemu_skip.empty()) {
      summary["estimated_ms_at_216mhz"] = instructions / 216e3;
      summary["stages"] = stage_json;
    }
    summary["flash_bytes"] = mem.at("flash_bytes");
    summary["sram_bytes"] = mem.at("sram_bytes");
    summary["arena_bytes"] = e.bundle.arena_bytes;
    summary["stack_bytes_estimate"] = mem.at("stack_bytes_estimate");
    summary["io_buffers_bytes"] = mem.at("io_buffers_bytes");

    // 3. int8 vs float on the same images (random weights: agreement, not accuracy).
    size_t argmax_agree = 0, idx_agree = 0, idx_total = 0;
    double max_rel_err = 0;
    for (size_t i = 0; i < images.size(); ++i) {
      FloatForward f = float_forward(e.model, images[i]);
      const auto& q = refs[i];
      auto fa =
          std::max_element(f.local_logits.begin(), f.local_logits.end()) - f.local_logits.begin();
      auto qa =
          std::max_element(q.local_logits.begin(), q.local_logits.end()) - q.local_logits.begin();
      argmax_agree += fa == qa;
      double range = 1e-12, err = 0;
      for (size_t c = 0; c < f.local_logits.size(); ++c) {
        range = std::max(range, double(std::abs(f.local_logits[c])));
        err = std::max(err,
                       std::abs(q.local_logits[c] * e.int8.dense.logit_scale - f.local_logits[c]));
      }
      max_rel_err = std::max(max_rel_err, err / range);
      for (size_t j = 0; j < f.indices.size(); ++j) idx_agree += f.indices[j] == q.indices[j];
      idx_total += f.indices.size();
    }
    Json agree = Json::object();
    agree["local_argmax_agreement"] = double(argmax_agree) / double(images.size());
    agree["remote_index_agreement"] = double(idx_agree) / double(idx_total);
    agree["max_relative_logit_error"] = max_rel_err;
    summary["int8_float_agreement"] = agree;
    bool accuracy_ok = true;
    if (e.trained) {
      if (n_accuracy > 0 && n_accuracy < test.size()) {
        test.images.resize(n_accuracy * test.image_size());
        test.labels.resize(n_accuracy);
      }
      PipelineAccuracy a = pipeline_accuracy(e, test);
      summary["int8_accuracy"] = a.int8_accuracy;
      summary["float_accuracy"] = a.float_accuracy;
      summary["int8_local_accuracy"] = a.int8_local_accuracy;
      summary["float_local_accuracy"] = a.float_local_accuracy;
      summary["accuracy_images"] = a.images;
      summary["accuracy_packet_decode_mismatches"] = a.decode_mismatches;
      summary["accuracy_mean_packet_bytes"] = a.mean_packet_bytes;
      summary["alpha"] = a.alpha;
      summary["accuracy_note"] =
          "int8: local int8 logits * logit_scale and the float remote predictor on the centroids "
          "of the indices decoded from the device's packets, combined with alpha; float: the "
          "float SplitModel";
      accuracy_ok = a.decode_mismatches == 0;
      std::printf(
          "accuracy on %zu test images: int8 pipeline %.4f, float %.4f (local only: int8 "
          "%.4f, float %.4f)\n",
          a.images, a.int8_accuracy, a.float_accuracy, a.int8_local_accuracy,
          a.float_local_accuracy);
    } else {
      summary["int8_accuracy"] = nullptr;
      summary["float_accuracy"] = nullptr;
      summary["accuracy_note"] = "random weights: accuracy needs a trained model (--model)";
    }
    summary["model"] = e.description;
    summary["calibration"] = e.calibration;
    write_file_atomic(out + "/summary.json", summary.dump(2) + "\n");

    std::printf("host: %zu images, %s; packets decode %s (mean %.0f B, packed %zu B)\n",
                images.size(), host_mismatch == 0 ? "bit-exact" : "MISMATCH",
                decode_mismatch == 0 ? "exactly" : "WITH MISMATCHES",
                double(packet_bytes) / double(images.size()), e.bundle.packet_max_bytes);
    if (qemu_skip.empty())
      std::printf("cortex-m7 (qemu): %zu images, %s, %.0f instructions/image (%.1f per MAC)\n",
                  n_qemu, summary.at("bit_exact_qemu").as_bool() ? "bit-exact" : "MISMATCH",
                  instructions, instructions / double(e.bundle.macs_per_image()));
    else
      std::printf("cortex-m7 (qemu): skipped: %s\n", qemu_skip.c_str());
    std::printf("flash %s B, SRAM %s B (arena %zu B), %lld MACs/image; wrote %s/summary.json\n",
                mem.at("flash_bytes").dump().c_str(), mem.at("sram_bytes").dump().c_str(),
                e.bundle.arena_bytes, (long long)e.bundle.macs_per_image(), out.c_str());
    bool ok = host_mismatch == 0 && decode_mismatch == 0 && accuracy_ok && edge_compressors_ok &&
              (!qemu_skip.empty() || summary.at("bit_exact_qemu").as_bool());
    return ok ? 0 : 1;
  } catch (const cxxopts::exceptions::exception& ex) {
    std::fprintf(stderr, "agilenn mcu-check: %s\n", ex.what());
    return 2;
  } catch (const agilenn::Error& ex) {
    std::fprintf(stderr, "agilenn mcu-check: %s\n", ex.what());
    return 1;
  }
}

agilenn::cli::CommandRegistrar reg(
    "mcu-check", "Verify the device bundle bit-exactly on host and Cortex-M7 (QEMU)",
    run_mcu_check);
}  // namespace
