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


class _OneAtATimeWhileTheGetStreamOpens(httpx2.AsyncBaseTransport):
    """Keeps the SDK's background GET stream from opening while a POST is being answered, and back.

    @fixme The SDK opens its standalone GET right after sending `notifications/initialized`, so the
    GET's upgrade to the Durable Object can overlap a POST. After such an overlap workerd refuses to
    evict the object for 30 s ("it still has active references") and the Node event loop waits with
    it, which would make every eviction test flaky. Ordering the two (as a slower client would) avoids
    it; the overlap itself is reported as an emulator issue.
    """

    def __init__(self) -> None:
        self._inner = httpx2.AsyncHTTPTransport()
        self._lock = anyio.Lock()

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        # Held until the response head arrives; SSE bodies keep streaming after the lock is released.
        async with self._lock:
            return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


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

        http = httpx2.AsyncClient(
            transport=_OneAtATimeWhileTheGetStreamOpens(),
            timeout=httpx2.Timeout(30, read=300),
            event_hooks={"response": [remember]},
        )
        async with http:
            transport = streamable_http_client(server.mcp_url, http_client=http)
            async with Client(transport, mode="legacy", elicitation_callback=elicit, sampling_callback=sample, read_timeout_seconds=20) as client:
                yield PySession(client, kind, ids)
    else:
        transport = sse_client(server.sse_url, timeout=10, on_session_created=lambda sid: ids.__setitem__("id", sid))
        async with Client(transport, mode="legacy", elicitation_callback=elicit, sampling_callback=sample, read_timeout_seconds=20) as client:
            yield PySession(client, kind, ids)
