#!/usr/bin/env bash
# Rebuild the decoder's WebAssembly kernels from decoder_kernels.c, twice:
# with relaxed SIMD (fused multiply-adds; Chrome 114+) and with 128-bit SIMD
# only (for browsers without relaxed SIMD), and write each module, base64,
# into decoder.js's DECODER_KERNELS_RELAXED and DECODER_KERNELS_SIMD lines.
# The same source and compiler give the same bytes:
# tests/browser/test_decoder_js.py checks decoder.js against a fresh build.
#
# Usage: bash vaeapp/web/wasm/build_decoder_kernels.sh [--check]
#   --check: build and compare only; exit 1 if decoder.js differs.
# Needs clang 19 and wasm-ld (Debian 12: apt-get install clang-19 lld-19);
# CLANG names another clang.
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
DECODER_JS="$HERE/../decoder.js"
CLANG="${CLANG:-clang-19}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
LINES="$WORK/lines"
: > "$LINES"
for variant in RELAXED SIMD; do
  flags="-msimd128"
  [ "$variant" = RELAXED ] && flags="$flags -mrelaxed-simd"
  # shellcheck disable=SC2086
  "$CLANG" --target=wasm32 -O3 $flags -fno-builtin -nostdlib \
    -Wl,--no-entry -Wl,--export=__heap_base -Wl,--strip-all \
    -o "$WORK/$variant.wasm" "$HERE/decoder_kernels.c"
  echo "const DECODER_KERNELS_$variant = \"$(base64 -w 0 "$WORK/$variant.wasm")\";" >> "$LINES"
  echo "$variant: $(wc -c < "$WORK/$variant.wasm") bytes of WebAssembly" >&2
done
python3 - "$DECODER_JS" "$LINES" "${1:-}" <<'PY'
import sys

path, lines_path, mode = sys.argv[1:4]
new = dict(
    (line.split(" = ", 1)[0], line)
    for line in open(lines_path, encoding="utf-8").read().splitlines()
)
text = open(path, encoding="utf-8").read()
lines = text.split("\n")
out = [new.get(line.split(" = ", 1)[0], line) for line in lines]
missing = set(new) - {line.split(" = ", 1)[0] for line in lines}
if missing:
    sys.exit(f"{path}: no line starting {sorted(missing)}")
if mode == "--check":
    if out != lines:
        sys.exit(f"{path}: the kernels differ from a fresh build")
else:
    open(path, "w", encoding="utf-8").write("\n".join(out))
PY
