"""Starts ``mcp-harness serve --json --control`` (or attaches to a running emulator) for Python tests."""

from __future__ import annotations

import json
import os
import queue
import shlex
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any

from .control import ControlClient, Faults, Transport, WebSockets
from .errors import HarnessError

ENV_URL = "MCP_HARNESS_URL"
ENV_CONTROL_URL = "MCP_HARNESS_CONTROL_URL"
ENV_CONTROL_TOKEN = "MCP_HARNESS_CONTROL_TOKEN"
ENV_BIN = "MCP_HARNESS_BIN"
ENV_COMMAND = "MCP_HARNESS_COMMAND"
POSIX = os.name == "posix"


@dataclass
class HarnessServer:
    """A running emulator: its URLs plus the control plane's operations."""

    url: str
    control: ControlClient
    process: subprocess.Popen[str] | None = field(default=None, repr=False)
    ready: dict[str, Any] = field(default_factory=dict, repr=False)
    _log: IO[str] | None = field(default=None, repr=False)
    # Session ids that existed when the current test started (set by ``for_test``): ``evict()``
    # without a session leaves them alone, so one test cannot hibernate another test's sessions.
    _baseline: frozenset[str] | None = field(default=None, repr=False)

    @property
    def mcp_url(self) -> str:
        """Streamable HTTP endpoint."""
        return self.url.rstrip("/") + "/mcp"

    @property
    def sse_url(self) -> str:
        """Legacy SSE endpoint."""
        return self.url.rstrip("/") + "/sse"

    @property
    def faults(self) -> Faults:
        """Hop faults: ``faults.set([...])``, ``faults.clear()``, ``faults.list()``."""
        return Faults(self.control)

    def evict(self, session: str | None = None, *, transport: Transport | None = None, web_sockets: WebSockets = "hibernate") -> list[str]:
        """Evicts a session's Durable Object now, as production hibernation does: state kept, instance fields lost.

        Without ``session`` it evicts every active session, or, on the ``mcp_harness`` fixture, every
        active session the current test opened (sessions left by earlier tests are not touched).
        """
        if session is not None or self._baseline is None:
            return self.control.evict(session, transport=transport, web_sockets=web_sockets)
        evicted: list[str] = []
        for info in self.sessions():
            if info.get("id") in self._baseline or info.get("state") != "active":
                continue
            if transport is not None and info.get("transport") != transport:
                continue
            evicted.extend(self.control.evict(str(info["id"]), web_sockets=web_sockets))
        return evicted

    def for_test(self) -> HarnessServer:
        """A view of this server for one test: fresh transcript, and ``evict()`` scoped to the sessions the test opens."""
        self.reset_transcript()
        # A view never owns the process: closing it leaves the emulator running.
        return replace(self, process=None, _log=None, _baseline=frozenset(str(info["id"]) for info in self.sessions()))

    def crash(self) -> dict[str, Any]:
        """Aborts every Durable Object like a crash: sockets close 1006, storage kept."""
        return self.control.crash()

    def restart(self) -> dict[str, Any]:
        """Restarts the runtime, keeping storage and ports."""
        return self.control.restart()

    def sessions(self) -> list[dict[str, Any]]:
        """MCP sessions seen on the Worker→DO hop: ``{id, transport, name, state, ...}``."""
        return self.control.sessions()

    def transcript(self, *, layer: str | None = None, type: str | None = None, since: int | None = None) -> list[dict[str, Any]]:
        """Transcript events, optionally filtered by layer, type and sequence number."""
        return self.control.transcript(layer=layer, type=type, since=since)

    def reset_transcript(self) -> None:
        self.control.reset_transcript()

    def save_cassette(self, path: str | os.PathLike[str], *, client: str = "python-mcp", scenario: str = "pytest", transport: str | None = None) -> dict[str, Any]:
        """Saves the transcript so far (redacted, normalized) as a cassette file; returns ``{path, interactions}``.

        ``path`` is relative to the control plane's cassette folder (``./cassettes`` where the emulator runs);
        absolute paths and ``..`` are refused (``ERR_PATH``)."""
        return self.control.save_cassette(os.fspath(path), client=client, scenario=scenario, transport=transport)

    def close(self, timeout: float = 10.0) -> None:
        """Stops the emulator this object started (SIGTERM, then SIGKILL) and removes its log; an attached one is left running."""
        process = self.process
        try:
            if process is not None and process.poll() is None:
                _terminate_tree(process, timeout)
        finally:
            _remove_log(self._log)
            self._log = None

    def __enter__(self) -> HarnessServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def attach(url: str | None = None, control_url: str | None = None, token: str | None = None) -> HarnessServer:
    """Attaches to a running emulator (arguments, else MCP_HARNESS_URL / _CONTROL_URL / _CONTROL_TOKEN)."""
    url = url or os.environ.get(ENV_URL)
    control_url = control_url or os.environ.get(ENV_CONTROL_URL)
    token = token or os.environ.get(ENV_CONTROL_TOKEN)
    if not (url and control_url and token):
        raise HarnessError("ERR_CONTROL", f"Failed to attach to an emulator: set {ENV_URL}, {ENV_CONTROL_URL} and {ENV_CONTROL_TOKEN} (from the ready line of `mcp-harness serve --json --control`).")
    control = ControlClient(control_url if control_url.endswith("/") else control_url + "/", token)
    control.health()
    return HarnessServer(url=url, control=control)


def _terminate_tree(process: subprocess.Popen[str], timeout: float) -> None:
    """Stops the CLI and the workerd it runs as a child."""
    if POSIX:
        # The CLI leads its own process group (start_new_session): signal the whole group.
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        return
    # Windows has no process groups to signal: taskkill /T ends the process tree it started.
    subprocess.run(["taskkill", "/PID", str(process.pid), "/T", "/F"], capture_output=True, check=False)
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(5)


def _remove_log(log: IO[str] | None) -> None:
    if log is None:
        return
    log.close()
    try:
        os.unlink(log.name)
    except FileNotFoundError:
        pass


def _bin_command(path: Path) -> list[str]:
    # A bin given as its JavaScript file runs with the node on PATH; a shim (.bin/mcp-harness, .cmd) runs as is.
    return ["node", str(path)] if path.suffix == ".js" else [str(path)]


def find_command(start: Path) -> tuple[list[str], Path]:
    """Finds how to run the CLI: ``MCP_HARNESS_BIN``, a project's ``node_modules/.bin/mcp-harness`` (searched upwards), or this repository's bin."""
    if os.environ.get(ENV_BIN):
        path = Path(os.environ[ENV_BIN]).resolve()
        if not path.exists():
            raise HarnessError("ERR_TARGET", f"Failed to find the mcp-harness CLI: {ENV_BIN}={os.environ[ENV_BIN]} does not exist. Point it at node_modules/.bin/mcp-harness of your Worker project.")
        return _bin_command(path), start
    names = ["mcp-harness"] if POSIX else ["mcp-harness.cmd", "mcp-harness"]
    for folder in [start, *start.parents]:
        for name in names:
            linked = folder / "node_modules" / ".bin" / name
            if linked.exists():
                return [str(linked)], folder
        own = folder / "bin" / "mcp-harness.js"
        node = folder / "node_modules" / ".bin" / "node"
        if own.exists() and node.exists():
            return [str(node), str(own)], folder
    raise HarnessError("ERR_TARGET", f"Failed to find the mcp-harness CLI in {start} or above: no node_modules/.bin/mcp-harness. Run `npm install -D mcp-harness` in your Worker project, or set {ENV_BIN}.")


def start(
    config: str | os.PathLike[str] | None = None,
    *,
    command: Sequence[str] | str | None = None,
    extra_args: Sequence[str] = (),
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 90.0,
) -> HarnessServer:
    """Starts ``mcp-harness serve --port 0 --json --control`` and waits for its JSON ready line.

    Without ``config`` the CLI runs in ``cwd`` (default: the current folder) and reads what
    ``npx mcp-harness serve`` reads there: the harness config (``mcp-harness.config.ts``), else the
    wrangler config. With ``config`` (a wrangler config or its folder) it serves that Worker.
    """
    config_path = Path(config).resolve() if config is not None else None
    project = Path(cwd).resolve() if cwd is not None else (config_path.parent if config_path is not None else Path.cwd())
    if isinstance(command, str):
        argv = shlex.split(command)
        root = Path(cwd or Path.cwd())
    elif command is not None:
        argv, root = list(command), Path(cwd or Path.cwd())
    elif os.environ.get(ENV_COMMAND):
        argv, root = shlex.split(os.environ[ENV_COMMAND]), Path(cwd or Path.cwd())
    else:
        argv, root = find_command(project)
    env = dict(os.environ)
    # The CLI needs Node >= 22; the npm package `node` puts one in node_modules/.bin.
    env["PATH"] = os.pathsep.join([str(root / "node_modules" / ".bin"), env.get("PATH", "")])
    env.setdefault("NO_COLOR", "1")
    log = tempfile.NamedTemporaryFile("w+", prefix="mcp-harness-", suffix=".log", delete=False)
    args = [*argv, "serve", *(["--config", str(config_path)] if config_path is not None else []), "--port", "0", "--json", "--control", *extra_args]
    # A process group of its own (POSIX) or a new console group (Windows), so close() can stop workerd too.
    group: dict[str, Any] = {"start_new_session": True} if POSIX else {"creationflags": getattr(subprocess, "CREATE_NEW_PROCESS_GROUP", 0)}
    process = subprocess.Popen(args, cwd=str(cwd or (project if config_path is None else root)), env=env, stdout=subprocess.PIPE, stderr=log, text=True, **group)
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        # Keep draining stdout for the emulator's whole life so its pipe never fills up.
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout
    ready: dict[str, Any] | None = None
    seen: list[str] = []
    while ready is None:
        remaining = deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(remaining, 0.01))
        except queue.Empty:
            line = ""
        if line is None or remaining <= 0:
            HarnessServer(url="", control=ControlClient("", ""), process=process).close()
            log.seek(0)
            stderr = log.read()[-1500:]
            _remove_log(log)
            why = "exited" if line is None else f"did not print a ready line within {timeout:.0f} s"
            raise HarnessError("ERR_TARGET", f"Failed to start `{' '.join(args)}`: it {why}. stdout: {''.join(seen)[-800:]!r} stderr: {stderr!r}")
        seen.append(line)
        ready = _parse_ready(line)
    control = ready.get("control")
    if not isinstance(control, dict) or "url" not in control or "token" not in control:
        HarnessServer(url="", control=ControlClient("", ""), process=process, _log=log).close()
        raise HarnessError("ERR_TARGET", f"Failed to read the control plane from the ready line {ready!r}: no \"control\": {{\"url\", \"token\"}}. Is the CLI older than --control?")
    control_url = str(control["url"])
    return HarnessServer(
        url=str(ready["url"]),
        control=ControlClient(control_url if control_url.endswith("/") else control_url + "/", str(control["token"])),
        process=process,
        ready=ready,
        _log=log,
    )


def _parse_ready(line: str) -> dict[str, Any] | None:
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        value = json.loads(line)
    except ValueError:
        return None
    return value if isinstance(value, dict) and "url" in value and "control" in value else None
