#!/usr/bin/env bash
# Instruction count of the C context encoder on a Cortex-M7 in QEMU, on golden image 12.
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
with open(dst, "w") as f:
    f.write("static const unsigned char img[%d] = {%s};\n" % (n, ",".join(map(str, img))))
    f.write("static const unsigned short probs_init[%d] = {%s};\n" % (cnt, ",".join(map(str, probs))))
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
