"""Pictures where failures happen, on the Python side: with ``MCP_HARNESS_REPORT=on-failure`` (the
default when ``CI`` is set) a failing test that used the ``mcp_harness`` fixture gets the HTML report
of its own transcript, drawn by ``mcp-harness report``, and its path in the failure output."""

from __future__ import annotations

import json
import os
import re
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from .errors import HarnessError
from .server import find_command

MODES = ("on-failure", "always", "off")


def report_mode(env: dict[str, str] | os._Environ[str] = os.environ) -> str:
    """``MCP_HARNESS_REPORT``: ``on-failure``, ``always`` or ``off``; unset means ``on-failure`` in CI, ``off`` elsewhere."""
    value = env.get("MCP_HARNESS_REPORT", "")
    if not value:
        return "on-failure" if env.get("CI") not in (None, "", "false", "0") else "off"
    if value not in MODES:
        raise HarnessError("ERR_OPTIONS", f"Invalid environment variable MCP_HARNESS_REPORT={value!r}: expected one of {', '.join(MODES)}.")
    return value


def _file_name(test_name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", test_name.lower()).strip("-")[:100]
    return f"{slug or 'test'}.html"


def write_report(events: list[dict[str, Any]], test_name: str, *, directory: str | os.PathLike[str] | None = None, cwd: Path | None = None) -> Path:
    """Writes ``<directory>/<test name>.html`` for these transcript events with the project's CLI; returns its path."""
    out_dir = Path(directory or os.environ.get("MCP_HARNESS_REPORT_DIR") or Path.cwd() / "test-results" / "mcp-harness")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / _file_name(test_name)
    argv, _root = find_command(cwd or Path.cwd())
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"events": events}, handle)
        transcript = handle.name
    try:
        done = subprocess.run([*argv, "report", transcript, "--out", str(out)], capture_output=True, text=True, timeout=120, check=False)
    finally:
        os.unlink(transcript)
    if done.returncode != 0:
        raise HarnessError("ERR_TARGET", f"Failed to draw the report of {test_name!r}: mcp-harness report exited {done.returncode}: {(done.stderr or done.stdout).strip()[:500]}")
    return out
