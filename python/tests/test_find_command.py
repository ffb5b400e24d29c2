"""How the plugin finds the CLI: MCP_HARNESS_BIN first, then the nearest node_modules/.bin/mcp-harness."""

from __future__ import annotations

from pathlib import Path

import pytest

from mcp_harness import HarnessError
from mcp_harness.server import find_command


def test_finds_the_nearest_project_bin_above_the_start_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MCP_HARNESS_BIN", raising=False)
    bin_dir = tmp_path / "node_modules" / ".bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "mcp-harness").write_text("#!/bin/sh\n")
    nested = tmp_path / "tests" / "python"
    nested.mkdir(parents=True)
    argv, root = find_command(nested)
    assert argv == [str(bin_dir / "mcp-harness")]
    assert root == tmp_path


def test_mcp_harness_bin_wins_and_a_js_file_runs_with_node(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    script = tmp_path / "mcp-harness.js"
    script.write_text("")
    monkeypatch.setenv("MCP_HARNESS_BIN", str(script))
    argv, root = find_command(tmp_path)
    assert argv == ["node", str(script)]
    assert root == tmp_path


def test_a_missing_mcp_harness_bin_is_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MCP_HARNESS_BIN", str(tmp_path / "nowhere"))
    with pytest.raises(HarnessError, match="MCP_HARNESS_BIN=.*does not exist"):
        find_command(tmp_path)
