"""The lifecycle suite with the official MCP Python SDK client, over Streamable HTTP and legacy SSE."""

from __future__ import annotations

from typing import Any

import mcp_types as types
import pytest
from mcp.client.session import ClientRequestContext

from mcp_harness import HarnessServer

from sdk import TRANSPORTS, TransportKind, connect

pytestmark = [pytest.mark.anyio, pytest.mark.parametrize("kind", TRANSPORTS)]


async def test_initializes_and_lists_the_reference_tools(mcp_harness: HarnessServer, kind: TransportKind) -> None:
    async with connect(mcp_harness, kind) as session:
        assert session.client.server_info is not None
        assert session.client.protocol_version.startswith("2025-")
        names = {tool.name for tool in (await session.client.list_tools()).tools}
        assert {"add", "counter", "memo", "slow", "elicit_name", "sample"} <= names
        assert await session.text("add", {"a": 2, "b": 3}) == "5"
    assert any(s["name"] == session.object_name for s in mcp_harness.sessions())


async def test_progress_notifications_arrive_per_step(mcp_harness: HarnessServer, kind: TransportKind) -> None:
    seen: list[float] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append(progress)

    async with connect(mcp_harness, kind) as session:
        assert await session.text("slow", {"steps": 3, "ms": 5}, progress_callback=on_progress) == "done"
    assert seen == [1, 2, 3]


async def test_elicitation_callback_answers_accept_and_decline(mcp_harness: HarnessServer, kind: TransportKind) -> None:
    answers: list[types.ElicitResult] = [
        types.ElicitResult(action="accept", content={"name": "Ada"}),
        types.ElicitResult(action="decline"),
    ]
    asked: list[str] = []

    async def elicit(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
        asked.append(params.message)
        return answers.pop(0)

    async with connect(mcp_harness, kind, elicit=elicit) as session:
        assert await session.text("elicit_name") == "Hello, Ada"
        assert await session.text("elicit_name") == "declined"
    assert asked == ["What is your name?", "What is your name?"]


async def test_sampling_callback_supplies_the_completion(mcp_harness: HarnessServer, kind: TransportKind) -> None:
    prompts: list[Any] = []

    async def sample(context: ClientRequestContext, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
        prompts.append(params.messages[0].content)
        return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text="a haiku"), model="scripted")

    async with connect(mcp_harness, kind, sample=sample) as session:
        assert await session.text("sample", {"prompt": "write a haiku"}) == "a haiku"
    assert [getattr(p, "text", None) for p in prompts] == ["write a haiku"]


async def test_ki11_session_continues_after_eviction_and_a_new_session_starts_fresh(mcp_harness: HarnessServer, kind: TransportKind) -> None:
    async with connect(mcp_harness, kind) as session:
        assert await session.text("counter") == "1"
        assert await session.text("memo") == "1"
        mcp_harness.evict(session.session_id, transport=kind)
        # The Worker reconnects to the woken Durable Object under the same session id.
        assert await session.text("counter") == "2"
        assert await session.text("memo") == "1"
        first = session.session_id
    async with connect(mcp_harness, kind) as again:
        assert again.session_id != first
        assert await again.text("counter") == "1"
