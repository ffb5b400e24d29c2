"""Issue 13 item 5 (Python side): a failing pytest test that used ``mcp_harness`` gets the HTML report
of its own transcript, and the failure output names its path."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mcp_harness import HarnessServer
from mcp_harness.report import report_mode

pytest_plugins = ["pytester"]
ROOT = Path(__file__).resolve().parents[2]

FAILING_TEST = '''
import urllib.request

def test_that_fails(mcp_harness):
    urllib.request.urlopen(mcp_harness.url.rstrip("/") + "/health").read()
    assert False, "fails on purpose"

def test_that_passes(mcp_harness):
    urllib.request.urlopen(mcp_harness.url.rstrip("/") + "/health").read()
'''


def test_a_failing_test_gets_the_report_of_its_transcript(pytester: pytest.Pytester, mcp_harness_server: HarnessServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # The inner run attaches to this session's emulator instead of starting one.
    monkeypatch.setenv("MCP_HARNESS_URL", mcp_harness_server.url)
    monkeypatch.setenv("MCP_HARNESS_CONTROL_URL", mcp_harness_server.control.url)
    monkeypatch.setenv("MCP_HARNESS_CONTROL_TOKEN", mcp_harness_server.control.token)
    monkeypatch.setenv("MCP_HARNESS_REPORT", "on-failure")
    # The inner project is a temporary folder: point it at this checkout's CLI, run by Node 22 from node_modules.
    monkeypatch.setenv("MCP_HARNESS_BIN", str(ROOT / "bin" / "mcp-harness.js"))
    monkeypatch.setenv("PATH", f"{ROOT / 'node_modules' / '.bin'}{os.pathsep}{os.environ.get('PATH', '')}")
    reports = pytester.path / "reports"
    monkeypatch.setenv("MCP_HARNESS_REPORT_DIR", str(reports))
    pytester.makepyfile(test_inner=FAILING_TEST)
    result = pytester.runpytest_subprocess()
    result.assert_outcomes(passed=1, failed=1)
    written = sorted(path.name for path in reports.glob("*.html"))
    assert written == ["test-inner-py-test-that-fails.html"]
    result.stdout.fnmatch_lines(["*mcp-harness report: *test-inner-py-test-that-fails.html*"])
    html = (reports / written[0]).read_text()
    # The drawn events are the failing test's own: its request to /health is there.
    assert 'data-layer="client"' in html and "/health" in html


def test_the_mode_follows_ci_unless_set() -> None:
    assert report_mode({}) == "off"
    assert report_mode({"CI": "true"}) == "on-failure"
    assert report_mode({"CI": "true", "MCP_HARNESS_REPORT": "off"}) == "off"
    with pytest.raises(Exception, match="MCP_HARNESS_REPORT"):
        report_mode({"MCP_HARNESS_REPORT": "sometimes"})
