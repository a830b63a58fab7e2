"""A real Prometheus (Debian's binary) on a config file, for tests and the screenshot script."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import IO


@contextlib.contextmanager
def running_prometheus(
    binary: str, config_file: Path, port: int, *, log: IO[bytes] | None = None
) -> Iterator[str]:
    """Serve on 127.0.0.1:`port` (data next to the config) until the block ends; yields the base URL."""
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config_file}",
            f"--storage.tsdb.path={config_file.parent / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
        stdout=subprocess.DEVNULL,
        stderr=log if log is not None else subprocess.DEVNULL,
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
