// libFuzzer entry point (built with -DAGILENN_FUZZ=ON and clang): see fuzz_target.h.
#include "fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  agilenn::codec::fuzz::fuzz_one(data, size);
  return 0;
}
