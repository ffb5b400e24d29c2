"""HTTP client of the emulator's control plane (API: emulator/control/openapi.json, version 1)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
import builtins
from typing import Any, Literal, cast

from .errors import HarnessError

Transport = Literal["streamable-http", "sse"]
WebSockets = Literal["hibernate", "close"]


@dataclass(frozen=True)
class ControlClient:
    """Calls one control plane; ``url`` ends with the version prefix (``http://127.0.0.1:<port>/v1/``)."""

    url: str
    token: str
    timeout: float = 30.0

    def request(self, method: str, path: str, body: dict[str, Any] | None = None, query: dict[str, Any] | None = None) -> Any:
        """Sends one request and returns the decoded JSON; raises HarnessError with the server's message."""
        target = urllib.parse.urljoin(self.url, path)
        if query:
            target += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(target, data=data, method=method)
        req.add_header("authorization", f"Bearer {self.token}")
        if data is not None:
            req.add_header("content-type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return json.loads(res.read() or b"null")
        except urllib.error.HTTPError as error:
            raw = error.read()
            try:
                detail = json.loads(raw)["error"]
                raise HarnessError(detail["code"], detail["message"], status=error.code) from None
            except (ValueError, KeyError, TypeError):
                raise HarnessError("ERR_CONTROL", f"Failed to call {method} {target}: HTTP {error.code} {raw[:200]!r}", status=error.code) from None
        except urllib.error.URLError as error:
            raise HarnessError("ERR_CONTROL", f"Failed to reach the control plane at {self.url}: {error.reason}. Is the emulator running?") from None

    def health(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self.request("GET", "health"))

    def urls(self) -> dict[str, str]:
        return cast("dict[str, str]", self.request("GET", "urls"))

    def sessions(self) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", self.request("GET", "sessions")["sessions"])

    def evict(self, session: str | None = None, *, transport: Transport | None = None, web_sockets: WebSockets = "hibernate") -> list[str]:
        """Evicts one session's Durable Object (id or DO name), or every active one; returns the DO names."""
        body: dict[str, Any] = {"webSockets": web_sockets}
        if session is not None:
            body["session"] = session
        if transport is not None:
            body["transport"] = transport
        return cast("list[str]", self.request("POST", "evict", body)["evicted"])

    def crash(self) -> dict[str, Any]:
        """Aborts every Durable Object like a crash (sockets close 1006, storage kept)."""
        return cast("dict[str, Any]", self.request("POST", "crash", {}))

    def restart(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self.request("POST", "restart"))

    def transcript(self, *, layer: str | None = None, type: str | None = None, since: int | None = None) -> list[dict[str, Any]]:
        return cast("list[dict[str, Any]]", self.request("GET", "transcript", query={"layer": layer, "type": type, "since": since})["events"])

    def reset_transcript(self) -> None:
        self.request("DELETE", "transcript")

    def save_cassette(self, path: str, *, client: str = "python-mcp", scenario: str = "pytest", transport: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"path": path, "client": client, "scenario": scenario}
        if transport is not None:
            body["transport"] = transport
        return cast("dict[str, Any]", self.request("POST", "cassettes", body))


@dataclass(frozen=True)
class Faults:
    """Hop faults of the Worker→Durable Object hop (drop, delay, status, close), set through the control plane."""

    control: ControlClient

    def list(self) -> builtins.list[dict[str, Any]]:
        """Faults set through the control plane: ``{id, fired, fault}``."""
        return cast("builtins.list[dict[str, Any]]", self.control.request("GET", "faults")["faults"])

    def set(self, faults: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        """Replaces the faults, e.g. ``[{"match": {"method": "tools/call"}, "action": {"type": "delay", "ms": 300}, "times": 1}]``."""
        return cast("builtins.list[dict[str, Any]]", self.control.request("PUT", "faults", {"faults": faults})["faults"])

    def clear(self) -> None:
        self.control.request("DELETE", "faults")
