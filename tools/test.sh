#!/usr/bin/env bash
# Run every test: install what is missing, build with ASan+UBSan, run CTest.
#   tools/test.sh [ctest args...]
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh --sanitize --build-dir build-asan
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
# One BLAS thread per test process: the tests run two at a time on two cores.
export OPENBLAS_NUM_THREADS=1
cd build-asan && ctest --output-on-failure -j 2 "$@"
