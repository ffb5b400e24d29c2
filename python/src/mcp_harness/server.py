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
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .control import ControlClient, Faults, Transport, WebSockets
from .errors import HarnessError

ENV_URL = "MCP_HARNESS_URL"
ENV_CONTROL_URL = "MCP_HARNESS_CONTROL_URL"
ENV_CONTROL_TOKEN = "MCP_HARNESS_CONTROL_TOKEN"


@dataclass
class HarnessServer:
    """A running emulator: its URLs plus the control plane's operations."""

    url: str
    control: ControlClient
    process: subprocess.Popen[str] | None = field(default=None, repr=False)
    ready: dict[str, Any] = field(default_factory=dict, repr=False)
    _log: IO[str] | None = field(default=None, repr=False)

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
        """Evicts a session's Durable Object now (or every active one), as production hibernation does: state kept, instance fields lost."""
        return self.control.evict(session, transport=transport, web_sockets=web_sockets)

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
        """Stops the emulator this object started (SIGTERM, then SIGKILL); an attached one is left running."""
        process = self.process
        if process is None or process.poll() is not None:
            return
        # The CLI runs workerd as a child: signal the whole group it leads.
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(5)
        if self._log is not None:
            self._log.close()

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


def find_command(start: Path) -> tuple[list[str], Path]:
    """Finds how to run the CLI: a project's ``node_modules/.bin/mcp-harness``, or this repository's bin."""
    for folder in [start, *start.parents]:
        linked = folder / "node_modules" / ".bin" / "mcp-harness"
        if linked.exists():
            return [str(linked)], folder
        own = folder / "bin" / "mcp-harness.js"
        node = folder / "node_modules" / ".bin" / "node"
        if own.exists() and node.exists():
            return [str(node), str(own)], folder
    raise HarnessError("ERR_TARGET", f"Failed to find the mcp-harness CLI above {start}: no node_modules/.bin/mcp-harness. Run `npm install` in the project, or set MCP_HARNESS_COMMAND.")


def start(
    config: str | os.PathLike[str],
    *,
    command: Sequence[str] | str | None = None,
    extra_args: Sequence[str] = (),
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 90.0,
) -> HarnessServer:
    """Starts ``mcp-harness serve --config <config> --port 0 --json --control`` and waits for its JSON ready line."""
    config_path = Path(config).resolve()
    if isinstance(command, str):
        argv = shlex.split(command)
        root = Path(cwd or Path.cwd())
    elif command is not None:
        argv, root = list(command), Path(cwd or Path.cwd())
    elif os.environ.get("MCP_HARNESS_COMMAND"):
        argv, root = shlex.split(os.environ["MCP_HARNESS_COMMAND"]), Path(cwd or Path.cwd())
    else:
        argv, root = find_command(config_path.parent)
    env = dict(os.environ)
    # The CLI needs Node >= 22; the npm package `node` puts one in node_modules/.bin.
    env["PATH"] = os.pathsep.join([str(root / "node_modules" / ".bin"), env.get("PATH", "")])
    env.setdefault("NO_COLOR", "1")
    log = tempfile.NamedTemporaryFile("w+", prefix="mcp-harness-", suffix=".log", delete=False)
    args = [*argv, "serve", "--config", str(config_path), "--port", "0", "--json", "--control", *extra_args]
    process = subprocess.Popen(args, cwd=str(cwd or root), env=env, stdout=subprocess.PIPE, stderr=log, text=True, start_new_session=True)
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
            server = HarnessServer(url="", control=ControlClient("", ""), process=process)
            server.close()
            log.seek(0)
            why = "exited" if line is None else f"did not print a ready line within {timeout:.0f} s"
            raise HarnessError("ERR_TARGET", f"Failed to start `{' '.join(args)}`: it {why}. stdout: {''.join(seen)[-800:]!r} stderr: {log.read()[-1500:]!r}")
        seen.append(line)
        ready = _parse_ready(line)
    control = ready.get("control")
    if not isinstance(control, dict) or "url" not in control or "token" not in control:
        HarnessServer(url="", control=ControlClient("", ""), process=process).close()
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
