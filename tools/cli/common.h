// Helpers the training/evaluation commands share: presets + flags -> data sets, threads, the
// frozen reference network.
#pragma once
#include <string>

#include <cxxopts.hpp>

#include "nn/data/augment.h"
#include "nn/data/dataset.h"
#include "xai/preset.h"

namespace agilenn::cli {

// Adds --preset --dataset --data-dir --threads --seed --limit-train --limit-test.
void add_common_flags(cxxopts::Options& opts);
void set_threads(int threads);  // 0 = all cores

struct DataBundle {
  data::Dataset train, test;
  data::AugmentOptions augment;  // with the model's input size
};
// Loads the preset's (or --dataset's) train and test splits with the preset's preprocessing.
DataBundle load_data(const xai::Preset& preset, const cxxopts::ParseResult& r,
                     bool need_train = true);

// Adds --epochs --batch-size --lr --resume --stop-after-epoch (the training commands' recipe
// flags).
void add_recipe_flags(cxxopts::Options& opts);
// The preset's recipe with those flags applied and checked.
xai::TrainRecipe recipe_from_flags(const cxxopts::ParseResult& r, xai::TrainRecipe preset_recipe);

// Returns the flag's value if given, else `fallback`.
template <typename T>
T flag_or(const cxxopts::ParseResult& r, const std::string& name, T fallback) {
  return r.count(name) ? r[name].as<T>() : fallback;
}

// Prints cxxopts help when --help was given; returns true if it did.
bool handle_help(const cxxopts::Options& opts, const cxxopts::ParseResult& r);

}  // namespace agilenn::cli
