"""Run the real `knowdesk` command line in a subprocess (it shares the test database)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def knowdesk(
    *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    # A wide terminal keeps rich from wrapping table rows that the tests read.
    return subprocess.run(
        [sys.executable, "-m", "knowdesk", *map(str, args)],
        env={**os.environ, "COLUMNS": "200", **(env or {})},
        capture_output=True,
        text=True,
        timeout=240,
    )
