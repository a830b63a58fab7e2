"""A whole stack on this machine for one benchmark or drill, started and stopped by the bench itself.

Real components only: a Temporal dev server (tuned as in the developers' guide, file-backed
SQLite so it can be restarted mid-flight), a fresh PostgreSQL database on 127.0.0.1:5432,
worker processes (`python -m worker.main`) and the API (`python -m api.main`, uvicorn) as
subprocesses configured through `CC_*` environment variables, exactly as deployed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from adapters.db.engine import create_engine_from_url
from core.temporal_dev import DEV_SERVER_TUNING, SQLITE_TUNING, TEMPORAL_CLI

REPO = Path(__file__).resolve().parent.parent
DEFAULT_ADMIN_URL = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_for_port(port: int, timeout: float, proc: subprocess.Popen[bytes] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            _, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.1)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return
    raise TimeoutError(f"127.0.0.1:{port} not reachable after {timeout}s")


def default_admin_url() -> str:
    """Where to create the bench database: CC_BENCH_ADMIN_DATABASE_URL, else the test server's."""
    if "CC_BENCH_ADMIN_DATABASE_URL" in os.environ:
        return os.environ["CC_BENCH_ADMIN_DATABASE_URL"]
    if "CC_TEST_DATABASE_URL" in os.environ:
        url = make_url(os.environ["CC_TEST_DATABASE_URL"]).set(database="postgres")
        return url.render_as_string(hide_password=False)
    return DEFAULT_ADMIN_URL


@dataclass
class WorkerSpec:
    """One worker process: its roles and extra `CC_*` settings (e.g. a fixed-latency LLM)."""

    roles: tuple[str, ...] = ("workflows", "llm")
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass
class StackOptions:
    workers: list[WorkerSpec] = field(default_factory=lambda: [WorkerSpec()])
    # Settings shared by API and workers (CC_* names without the prefix, lower case).
    settings: Mapping[str, str] = field(default_factory=dict)
    api_env: Mapping[str, str] = field(default_factory=dict)
    # Point the workers' database URL at this port instead of 5432 (a proxy the drill controls).
    worker_db_port: int | None = None
    admin_database_url: str = field(default_factory=lambda: default_admin_url())


class Stack:
    """Temporal + PostgreSQL database + workers + API; `async with Stack.start(options) as stack:`."""

    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.tmp = Path(tempfile.mkdtemp(prefix="cc-bench-"))
        self.temporal_port = free_port()
        self.api_port = free_port()
        self.database = f"bench_{uuid.uuid4().hex[:12]}"
        admin = make_url(options.admin_database_url)
        self.database_url = admin.set(database=self.database).render_as_string(hide_password=False)
        self.temporal: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes] | None] = [None] * len(options.workers)
        self.engine: AsyncEngine | None = None
        self.token: str | None = None

    # ---- lifecycle -------------------------------------------------------------------------
    @classmethod
    @contextlib.asynccontextmanager
    async def start(cls, options: StackOptions | None = None) -> AsyncIterator[Stack]:
        stack = cls(options or StackOptions())
        try:
            await stack._create_database()
            await stack.start_temporal()
            for index in range(len(stack.options.workers)):
                stack.start_worker(index)
            await stack.start_api()
            yield stack
        finally:
            await stack.stop()

    async def _create_database(self) -> None:
        admin = create_engine_from_url(self.options.admin_database_url)
        try:
            async with admin.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f'CREATE DATABASE "{self.database}"'))
        finally:
            await admin.dispose()
        # Migrations run once, as their own step, before any worker starts.
        await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "adapters.db.migrate"],
            check=True,
            env=self._env({"CC_DATABASE_URL": self.database_url}),
            cwd=REPO,
        )
        self.engine = create_engine_from_url(self.database_url)

    async def _drop_database(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
        admin = create_engine_from_url(self.options.admin_database_url)
        try:
            async with admin.connect() as conn:
                conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
                await conn.execute(text(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)'))
        finally:
            await admin.dispose()

    def _env(self, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "CC_TEMPORAL_ADDRESS": f"127.0.0.1:{self.temporal_port}",
            "CC_DATABASE_URL": self.database_url,
            "CC_LOG_LEVEL": "WARNING",
            "CC_LLM_BACKEND": "fake",
            # Migrations run once, as their own step (see _create_database).
            "CC_MIGRATE_ON_START": "false",
            # The API and the token command share this stack's local signing key.
            "CC_AUTH_LOCAL_KEY_DIR": str(self.tmp / "auth"),
            # A benchmark is one caller sending far more than a person would.
            "CC_RATE_LIMIT_BEARER": "1000000/minute",
            "CC_PAYLOAD_KEYRING_FILE": str(self.tmp / "payload-keys.json"),
        }
        env.update({f"CC_{key.upper()}": value for key, value in self.options.settings.items()})
        env.update(extra or {})
        return env

    async def start_temporal(self) -> None:
        self.temporal = _spawn(
            [
                str(TEMPORAL_CLI),
                "server",
                "start-dev",
                "--ip",
                "127.0.0.1",
                "--port",
                str(self.temporal_port),
                "--http-port",
                str(free_port()),
                "--metrics-port",
                str(free_port()),
                "--headless",
                "--db-filename",
                str(self.tmp / "temporal.sqlite"),
                "--log-level",
                "error",
                *DEV_SERVER_TUNING,
                *SQLITE_TUNING,
            ],
            None,
            self.tmp / "temporal.log",
        )
        await wait_for_port(self.temporal_port, 30, self.temporal)

    def stop_temporal(self) -> None:
        _stop(self.temporal, sig=signal.SIGTERM)
        self.temporal = None

    def start_worker(self, index: int) -> None:
        spec = self.options.workers[index]
        extra = {
            "CC_WORKER_ROLES": _json_list(spec.roles),
            "CC_WORKER_METRICS_PORT": str(free_port()),
            "CC_WORKER_APP_METRICS_PORT": str(free_port()),
            **spec.env,
        }
        if self.options.worker_db_port is not None:
            extra["CC_DATABASE_URL"] = (
                make_url(self.database_url)
                .set(port=self.options.worker_db_port)
                .render_as_string(hide_password=False)
            )
        self.workers[index] = _spawn(
            [sys.executable, "-m", "worker.main"], self._env(extra), self.tmp / f"worker-{index}.log"
        )

    def kill_worker(self, index: int) -> None:
        """SIGKILL: no graceful shutdown, in-flight activities are lost with the process."""
        _stop(self.workers[index], sig=signal.SIGKILL)
        self.workers[index] = None

    def stop_worker(self, index: int) -> None:
        _stop(self.workers[index], sig=signal.SIGTERM)
        self.workers[index] = None

    async def start_api(self) -> None:
        self.api = _spawn(
            [sys.executable, "-m", "api.main"],
            self._env({"CC_API_PORT": str(self.api_port), **self.options.api_env}),
            self.tmp / "api.log",
        )
        await wait_for_port(self.api_port, 60, self.api)
        self.token = _issue_token(self._env())
        await self.wait_ready()

    async def wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        async with httpx.AsyncClient(base_url=self.url, timeout=5) as http:
            while time.monotonic() < deadline:
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get("/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise TimeoutError("API not ready")

    async def stop(self) -> None:
        _stop(self.api, sig=signal.SIGTERM)
        for index in range(len(self.workers)):
            _stop(self.workers[index], sig=signal.SIGTERM)
        _stop(self.temporal, sig=signal.SIGTERM)
        with contextlib.suppress(Exception):
            await self._drop_database()

    # ---- clients ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def http(self, timeout: float = 120, connections: int = 1000) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        return httpx.AsyncClient(
            base_url=self.url,
            timeout=timeout,
            headers=headers,
            limits=httpx.Limits(max_connections=connections, max_keepalive_connections=connections),
        )

    async def rows(self, sql: str, **params: Any) -> list[dict[str, Any]]:
        assert self.engine is not None
        async with self.engine.connect() as conn:
            result = await conn.execute(text(sql), params)
            return [dict(row._mapping) for row in result]

    def rss_mb(self) -> dict[str, float | None]:
        return {
            "api": _rss_mb(self.api),
            "workers": _sum_or_none(_rss_mb(worker) for worker in self.workers),
            "temporal": _rss_mb(self.temporal),
        }


def _json_list(values: tuple[str, ...]) -> str:
    return "[" + ",".join(f'"{value}"' for value in values) + "]"


def _issue_token(env: Mapping[str, str]) -> str | None:
    """A bearer token from the API's own token command, when the API requires credentials."""
    if not (REPO / "api" / "security.py").exists():
        return None
    done = subprocess.run(
        [sys.executable, "-m", "api.security", "token", "--subject", "bench", "--role", "intake"],
        env=dict(env),
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
    )
    token = done.stdout.strip().splitlines()[-1] if done.returncode == 0 and done.stdout.strip() else None
    return token


def _spawn(args: list[str], env: Mapping[str, str] | None, log_file: Path) -> subprocess.Popen[bytes]:
    """Start a child process logging to a file in the stack's directory (kept for post-mortems)."""
    with log_file.open("ab") as log:
        return subprocess.Popen(
            args, env=None if env is None else dict(env), cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )


def _stop(proc: subprocess.Popen[bytes] | None, *, sig: int) -> None:
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


def _rss_mb(proc: subprocess.Popen[bytes] | None) -> float | None:
    if proc is None or proc.poll() is not None:
        return None
    try:
        with open(f"/proc/{proc.pid}/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        return None
    return None


def _sum_or_none(values: Any) -> float | None:
    present = [value for value in values if value is not None]
    return round(sum(present), 1) if present else None
