// The codec tables a model's device and server share. Until `agilenn fit-codec` stores fitted
// tables in the model directory, both sides fit them here the same way (deterministically) from
// the first `n_images` training images run through the float device path; `load_or_fit` is the
// seam to swap for the stored tables.
#pragma once
#include <string>

#include "codec/tables.h"
#include "nn/data/dataset.h"
#include "runtime/device_compute.h"

namespace agilenn::runtime {

// model_id = CRC-32 of the model file, so packets of another model's tables are refused.
codec::CodecTables fit_codec_tables(const xai::AgileModelFile& model, FloatDevice& device,
                                    const data::Dataset& train, size_t n_images);

// DIR/codec_tables.bin when present (the bytes of CodecTables::to_bytes), else fitted.
codec::CodecTables load_or_fit_codec_tables(const std::string& model_dir,
                                            const xai::AgileModelFile& model, FloatDevice& device,
                                            const data::Dataset& train, size_t n_images,
                                            std::string* how = nullptr);

}  // namespace agilenn::runtime
