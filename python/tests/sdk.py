"""Connects the official MCP Python SDK client to the emulator over either transport, capturing the session id."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal

import anyio
import httpx2
import mcp_types as types
from mcp import Client
from mcp.client.session import ElicitationFnT, SamplingFnT
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared._httpx_utils import create_mcp_http_client

from mcp_harness import HarnessServer

TransportKind = Literal["streamable-http", "sse"]
TRANSPORTS: list[TransportKind] = ["streamable-http", "sse"]


@dataclass
class PySession:
    client: Client
    kind: TransportKind
    _ids: dict[str, str]

    @property
    def session_id(self) -> str:
        return self._ids["id"]

    @property
    def object_name(self) -> str:
        return f"{self.kind}:{self.session_id}"

    async def text(self, tool: str, args: dict[str, Any] | None = None, **kwargs: Any) -> str:
        result = await self.client.call_tool(tool, args or {}, **kwargs)
        assert not result.is_error, f"{tool} failed: {result.content}"
        first = result.content[0]
        assert isinstance(first, types.TextContent), first
        return first.text


async def _get_stream_open(server: HarnessServer, session_id: str, timeout: float = 5.0) -> None:
    """Waits until the client's standalone GET stream is answered.

    The SDK opens it in the background right after `initialize`. A tool call that overlaps the GET's
    upgrade to the Durable Object leaves the object unevictable for ~30 s ("it still has active
    references"), so tests that evict start calling tools only once the stream is open.
    """
    deadline = anyio.current_time() + timeout
    while anyio.current_time() < deadline:
        events = server.transcript(layer="client")
        gets = {e["exchange"] for e in events if e["type"] == "request" and e["method"] == "GET" and e.get("headers", {}).get("mcp-session-id") == session_id}
        if any(e["type"] == "response" and e["exchange"] in gets for e in events):
            return
        await anyio.sleep(0.01)
    raise AssertionError(f"the SDK's GET stream for session {session_id} did not open within {timeout} s")


@asynccontextmanager
async def connect(
    server: HarnessServer,
    kind: TransportKind,
    *,
    elicit: ElicitationFnT | None = None,
    sample: SamplingFnT | None = None,
) -> AsyncIterator[PySession]:
    """Opens one MCP session with the Python SDK; McpAgent speaks the 2025 handshake, so mode is 'legacy'."""
    ids: dict[str, str] = {}
    if kind == "streamable-http":

        async def remember(response: httpx2.Response) -> None:
            if response.headers.get("mcp-session-id"):
                ids["id"] = response.headers["mcp-session-id"]

        http = create_mcp_http_client()
        http.event_hooks["response"].append(remember)
        async with http:
            transport = streamable_http_client(server.mcp_url, http_client=http)
            async with Client(transport, mode="legacy", elicitation_callback=elicit, sampling_callback=sample, read_timeout_seconds=20) as client:
                await _get_stream_open(server, ids["id"])
                yield PySession(client, kind, ids)
    else:
        transport = sse_client(server.sse_url, timeout=10, on_session_created=lambda sid: ids.__setitem__("id", sid))
        async with Client(transport, mode="legacy", elicitation_callback=elicit, sampling_callback=sample, read_timeout_seconds=20) as client:
            yield PySession(client, kind, ids)
