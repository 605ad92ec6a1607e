#!/usr/bin/env bash
# Rebuilds the seed corpus from the golden packets and tables (run after regenerating golden/).
set -euo pipefail
cd "$(dirname "$0")"
g=../golden
rm -f corpus/seed_*
for f in "$g"/image1[25]_*.pkt; do
  b=$(basename "$f" .pkt)
  { printf '\x00'; cat "$f"; } > "corpus/seed_packet_$b"
  { printf '\x01'; cat "$f"; } > "corpus/seed_crcfixed_$b"
done
mode=2
for coder in packed lzw huffman context; do
  # payload of image 12 with the 14x14 shape bytes (13, 13)
  { printf "\\x0$mode\\x0d\\x0d"; tail -c +25 "$g/image12_$coder.pkt"; } > "corpus/seed_payload_$coder"
  mode=$((mode + 1))
done
{ printf '\x06'; cat "$g/tables.bin"; } > corpus/seed_tables_bin
{ printf '\x07'; cat "$g/tables.json"; } > corpus/seed_tables_json
ls corpus | wc -l
