"""The decoder's WebAssembly kernels in vaeapp/web/decoder.js are what
vaeapp/web/wasm/build_decoder_kernels.sh builds from decoder_kernels.c now
(the source and the base64 in decoder.js cannot drift apart)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from vaeapp.web import files

BUILD = files.WEB_DIR / "wasm" / "build_decoder_kernels.sh"


@pytest.mark.skipif(
    shutil.which("clang-19") is None or shutil.which("wasm-ld-19") is None,
    reason="clang-19 and wasm-ld-19 not installed (apt-get install clang-19 lld-19)",
)
def test_decoder_js_holds_a_fresh_build_of_the_kernels() -> None:
    """build_decoder_kernels.sh --check finds decoder.js's two modules equal
    to a fresh build of decoder_kernels.c."""
    done = subprocess.run(
        ["bash", str(BUILD), "--check"], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr


def test_decoder_js_has_both_kernel_lines() -> None:
    """decoder.js carries the relaxed-SIMD and the SIMD module, each a
    WebAssembly binary (its magic number, base64)."""
    text = Path(files.DECODER_JS).read_text(encoding="utf-8")
    for name in ("DECODER_KERNELS_RELAXED", "DECODER_KERNELS_SIMD"):
        [line] = [x for x in text.splitlines() if x.startswith(f"const {name} = ")]
        assert line.startswith(f'const {name} = "AGFzbQEAAAA')  # \\0asm, version 1
