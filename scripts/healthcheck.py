"""Container health check: `python -m scripts.healthcheck` (the image's HEALTHCHECK).

GETs `HEALTHCHECK_URL` (the API's /healthz by default; a worker points it at its metrics
endpoint) and exits 0 on a 2xx answer, 1 otherwise. Standard library only, so it costs a
few milliseconds and no extra package in the image.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8000/healthz"


def check(url: str, timeout: float = 3.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main() -> int:
    return 0 if check(os.environ.get("HEALTHCHECK_URL", DEFAULT_URL)) else 1


if __name__ == "__main__":
    sys.exit(main())
