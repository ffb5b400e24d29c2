"""pytest plugin (entry point ``pytest11``): fixtures that start or attach to an mcp-harness emulator."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from .report import report_mode, write_report
from .server import ENV_CONTROL_TOKEN, ENV_CONTROL_URL, ENV_URL, HarnessServer, attach, start


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("mcp-harness")
    group.addoption("--mcp-harness-config", default=None, help="wrangler config of the Worker to serve (env MCP_HARNESS_CONFIG); default: what `npx mcp-harness serve` reads in the rootdir")
    group.addoption("--mcp-harness-command", default=None, help="command that runs the mcp-harness CLI (env MCP_HARNESS_COMMAND)")
    parser.addini("mcp_harness_config", "wrangler config of the Worker to serve, relative to the ini file", default="")
    parser.addini("mcp_harness_command", "command that runs the mcp-harness CLI", default="")


def _setting(config: pytest.Config, name: str) -> str | None:
    return config.getoption(f"--mcp-harness-{name}") or os.environ.get(f"MCP_HARNESS_{name.upper()}") or str(config.getini(f"mcp_harness_{name}") or "") or None


@pytest.fixture(scope="session")
def mcp_harness_server(pytestconfig: pytest.Config) -> Iterator[HarnessServer]:
    """One emulator for the test session: attached via MCP_HARNESS_URL/_CONTROL_URL/_CONTROL_TOKEN, else started.

    Without a configured Worker the CLI starts in pytest's rootdir and reads what `npx mcp-harness
    serve` reads there: mcp-harness.config.ts (the same harness config as the JS side), else the
    wrangler config.
    """
    if os.environ.get(ENV_URL) and os.environ.get(ENV_CONTROL_URL) and os.environ.get(ENV_CONTROL_TOKEN):
        yield attach()
        return
    config = _setting(pytestconfig, "config")
    command = _setting(pytestconfig, "command")
    if config:
        # An ini value is relative to the ini file; an option or env value to the working directory.
        base = Path(pytestconfig.inipath).parent if pytestconfig.inipath and config == pytestconfig.getini("mcp_harness_config") else Path.cwd()
        server = start(base / config, command=command)
    else:
        server = start(command=command, cwd=pytestconfig.rootpath)
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def mcp_harness(request: pytest.FixtureRequest, mcp_harness_server: HarnessServer) -> HarnessServer:
    """The session's emulator for this test: a fresh transcript, and `evict()` without a session
    evicts only the sessions this test opened."""
    view = mcp_harness_server.for_test()
    request.node.stash[_VIEW] = view
    return view


_VIEW = pytest.StashKey[HarnessServer]()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    """A failing test that used ``mcp_harness`` gets the report of its own transcript (``MCP_HARNESS_REPORT``)."""
    outcome = yield
    report = outcome.get_result()
    view = item.stash.get(_VIEW, None)
    if view is None or report.when != "call":
        return
    mode = report_mode()
    if mode == "off" or (mode == "on-failure" and not report.failed):
        return
    try:
        path = write_report(view.transcript(), item.nodeid, cwd=item.config.rootpath)
        report.sections.append(("mcp-harness report", f"mcp-harness report: {path}"))
    except Exception as error:  # the report must never hide the test's own failure
        report.sections.append(("mcp-harness report", f"mcp-harness report not written: {error}"))
