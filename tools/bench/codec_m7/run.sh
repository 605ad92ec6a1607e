#!/usr/bin/env bash
# Instruction counts of the C context encoders (adaptive coder 3, static coder 4) on a Cortex-M7
# in QEMU, on golden image 12.
#   tools/bench/codec_m7/run.sh      (needs gcc-arm-none-eabi, newlib, qemu-system-arm)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
python3 - "$root/tests/codec/golden" "$out/data.h" <<'PY'
import struct, sys, zlib
g, dst = sys.argv[1], sys.argv[2]
H, W = 14, 14
tb = open(g + "/tables.bin", "rb").read()
C = tb[5] + 1
R = struct.unpack("<H", tb[6:8])[0]
off = 4 + 1 + 1 + 2 + 1 + 1 + 4 + C
levels, groups = struct.unpack("<HH", tb[off:off + 4])
shift = tb[off + 4]
cnt = struct.unpack("<I", tb[off + 6:off + 10])[0]
probs = struct.unpack("<%dH" % cnt, tb[off + 10:off + 10 + 2 * cnt])
n = H * W * R
img = open(g + "/indices.bin", "rb").read()[12 * n:13 * n]
payload = open(g + "/image12_context.pkt", "rb").read()[24:]
payload_static = open(g + "/image12_context-static.pkt", "rb").read()[24:]
# ContextModel::static_cdf (codec/context_coder.cpp), the same integer steps.
nodes, leaf = (1 << 3) - 1, 8
assert C <= leaf
cdf = []
for c in range(cnt // nodes):
    p = probs[c * nodes:(c + 1) * nodes]
    mass = [0] * (2 * leaf)
    mass[1] = 1 << 16
    for k in range(1, leaf):
        m0 = (mass[k] * p[k - 1]) >> 12
        mass[2 * k], mass[2 * k + 1] = m0, mass[k] - m0
    total = sum(mass[leaf:leaf + C])
    freq = [max(1, (mass[leaf + s] * 4096 + total // 2) // total) if total else 1 for s in range(C)]
    while sum(freq) != 4096:
        big = max(range(C), key=lambda s: (freq[s], -s))
        freq[big] += 1 if sum(freq) < 4096 else -1
    cum = [0]
    for f in freq:
        cum.append(cum[-1] + f)
    cdf += cum
with open(dst, "w") as f:
    f.write("static const unsigned char img[%d] = {%s};\n" % (n, ",".join(map(str, img))))
    f.write("static const unsigned short probs_init[%d] = {%s};\n" % (cnt, ",".join(map(str, probs))))
    f.write("static const unsigned short cdf[%d] = {%s};\n" % (len(cdf), ",".join(map(str, cdf))))
    f.write("#define GOLDEN_STATIC_LEN %du\n#define GOLDEN_STATIC_CRC 0x%08xu\n"
            % (len(payload_static), zlib.crc32(payload_static)))
    f.write("#define H_ %du\n#define W_ %du\n#define C_ %d\n#define R_ %du\n#define L_ %d\n"
            "#define G_ %d\n#define SHIFT_ %d\n#define NPROBS %d\n#define GOLDEN_LEN %du\n"
            "#define GOLDEN_CRC 0x%08xu\n" % (H, W, C, R, levels, groups, shift, cnt,
                                             len(payload), zlib.crc32(payload)))
PY
arm-none-eabi-gcc -std=c99 -mcpu=cortex-m7 -mthumb -mfpu=fpv5-sp-d16 -mfloat-abi=hard -O2 \
  -I"$out" -I"$root/codec/c" "$here/startup.c" "$here/main.c" "$root/codec/c/agilenn_codec.c" \
  -nostartfiles --specs=rdimon.specs -T "$here/link.ld" -o "$out/enc.elf"
arm-none-eabi-size "$out/enc.elf" | tail -1
timeout 120 qemu-system-arm -M mps2-an500 -nographic -semihosting -icount shift=0 -kernel "$out/enc.elf"
