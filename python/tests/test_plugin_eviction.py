"""KI-11 from pytest, using only the plugin's fixture and the official MCP Python SDK client."""

from __future__ import annotations

import pytest

from mcp_harness import HarnessServer

from sdk import TRANSPORTS, TransportKind, connect

pytestmark = pytest.mark.anyio


@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_ki11_eviction_keeps_counter_and_resets_memo(mcp_harness: HarnessServer, kind: TransportKind) -> None:
    async with connect(mcp_harness, kind) as session:
        assert await session.text("counter") == "1"
        assert await session.text("memo") == "1"
        assert mcp_harness.evict(session.session_id) == [session.object_name]
        # this.state survives hibernation; an instance field does not (KI-11).
        assert await session.text("counter") == "2"
        assert await session.text("memo") == "1"
    evictions = mcp_harness.transcript(layer="lifecycle", type="evicted")
    assert [e["name"] for e in evictions] == [session.object_name]
