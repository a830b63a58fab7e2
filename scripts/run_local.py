"""`make run`: Temporal dev server + worker + API in the foreground; Ctrl-C stops all three.

A small supervisor, not a process manager: it starts the children in order, waits until each
is reachable, and on Ctrl-C/SIGTERM (or when any child dies) stops them in reverse order.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from core.config import get_settings
from core.temporal_dev import DEV_SERVER_TUNING, SQLITE_TUNING, TEMPORAL_CLI

log = logging.getLogger("run_local")


def _wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        with socket.socket() as sock:
            sock.settimeout(0.5)
            if sock.connect_ex((host, port)) == 0:
                return
        time.sleep(0.2)
    raise TimeoutError(f"{host}:{port} not reachable after {timeout}s")


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="[run] %(message)s")
    settings = get_settings()
    host, port = settings.temporal_address.rsplit(":", 1)
    settings.temporal_db_file.parent.mkdir(parents=True, exist_ok=True)
    children: list[subprocess.Popen[bytes]] = []
    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    codec_endpoint = f"http://{settings.codec_server_host}:{settings.codec_server_port}"
    try:
        temporal = subprocess.Popen(
            [
                str(TEMPORAL_CLI),
                "server",
                "start-dev",
                "--ip",
                host,
                "--port",
                port,
                "--ui-port",
                str(settings.temporal_ui_port),
                # The UI decodes the encrypted payloads through our codec server (docs/compliance.md).
                "--ui-codec-endpoint",
                codec_endpoint,
                "--db-filename",
                str(settings.temporal_db_file),
                "--log-level",
                "warn",
                *DEV_SERVER_TUNING,
                *SQLITE_TUNING,
            ]
        )
        children.append(temporal)
        _wait_for_port(host, int(port), 30, temporal)
        log.info(
            "Temporal %s, Web UI http://%s:%d", settings.temporal_address, host, settings.temporal_ui_port
        )
        subprocess.run([sys.executable, "-m", "adapters.db.migrate"], check=True, env=env)
        children.append(subprocess.Popen([sys.executable, "-m", "worker.main"], env=env))
        codec = subprocess.Popen([sys.executable, "-m", "api.codec_server"], env=env)
        children.append(codec)
        api = subprocess.Popen([sys.executable, "-m", "api.main"], env=env)
        children.append(api)
        _wait_for_port(settings.api_host, settings.api_port, 60, api)
        _wait_for_port(settings.codec_server_host, settings.codec_server_port, 30, codec)
        log.info(
            "Codec server %s (sign in at %s/session to decode in the Web UI)", codec_endpoint, codec_endpoint
        )
        log.info(
            "API http://%s:%d (readiness: /readyz) - Ctrl-C to stop", settings.api_host, settings.api_port
        )
        while not stopping and all(child.poll() is None for child in children):
            time.sleep(0.5)
    finally:
        for child in reversed(children):
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in reversed(children):
            try:
                child.wait(timeout=20)
            except subprocess.TimeoutExpired:
                child.kill()
        log.info("stopped")
    failed = [c for c in children if c.returncode not in (0, -signal.SIGTERM, None)]
    return 1 if failed and not stopping else 0


if __name__ == "__main__":
    raise SystemExit(main())
