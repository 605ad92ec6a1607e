#!/usr/bin/env bash
# Install what the project needs from Debian (skipping what is present) and build.
#   tools/setup.sh [--deps-only] [--with-torch] [--sanitize] [--build-dir DIR]
set -euo pipefail
cd "$(dirname "$0")/.."

deps_only=0; with_torch=0; sanitize=0; build_dir=build
while [[ $# -gt 0 ]]; do
  case "$1" in
    --deps-only) deps_only=1 ;;
    --with-torch) with_torch=1 ;;
    --sanitize) sanitize=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    *) echo "setup.sh: unknown flag '$1'" >&2; exit 2 ;;
  esac
  shift
done

packages=(cmake g++ make pkg-config libopenblas-dev libstb-dev libcxxopts-dev libboost-test-dev
          libboost-dev zlib1g-dev libzstd-dev liblzma-dev gcc-arm-none-eabi libnewlib-arm-none-eabi
          qemu-system-arm dataset-fashion-mnist gnuplot-nox)
[[ $with_torch == 1 ]] && packages+=(python3-torch)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [[ ${#missing[@]} -gt 0 ]]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [[ $(id -u) -ne 0 ]] && SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
else
  echo "setup: all ${#packages[@]} packages present"
fi
[[ $deps_only == 1 ]] && exit 0

cmake_flags=(-DCMAKE_BUILD_TYPE=Release)
[[ $sanitize == 1 ]] && cmake_flags+=(-DAGILENN_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo)
cmake -S . -B "$build_dir" "${cmake_flags[@]}" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
