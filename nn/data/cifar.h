// CIFAR-10 / CIFAR-100 binary versions. Each record is the label byte(s) followed by a 32x32 RGB
// image stored planar (1024 R, then 1024 G, then 1024 B bytes); we convert to HWC.
//   CIFAR-10:  <1 label byte> <3072 pixel bytes>, files data_batch_1..5.bin, test_batch.bin
//   CIFAR-100: <coarse label> <fine label> <3072 pixel bytes>, files train.bin, test.bin
#pragma once
#include <string>
#include <vector>

#include "nn/data/dataset.h"

namespace agilenn::data {

enum class CifarLabels { Fine, Coarse };  // CIFAR-100: 100 fine or 20 coarse classes

// Appends the records of one binary file; `label_bytes` is 1 (CIFAR-10) or 2 (CIFAR-100, the
// byte at `label_index` is used); labels must be < num_classes.
void append_cifar_file(const std::string& path, int label_bytes, int label_index, int num_classes,
                       Dataset& out);

// `dir` may be the folder holding the .bin files or its parent (cifar-10-batches-bin/,
// cifar-100-binary/ as the archives unpack).
Dataset load_cifar10(const std::string& dir, Split split);
Dataset load_cifar100(const std::string& dir, Split split, CifarLabels labels);

}  // namespace agilenn::data
