"""Hop faults and crashes driven from Python, observed by the MCP Python SDK client."""

from __future__ import annotations

import time

import pytest
from sdk import connect

from mcp_harness import HarnessError, HarnessServer

pytestmark = pytest.mark.anyio


async def test_a_delay_fault_on_the_hop_slows_one_tool_call(mcp_harness: HarnessServer) -> None:
    async with connect(mcp_harness, "streamable-http") as session:
        with pytest.raises(HarnessError) as caught:
            mcp_harness.faults.set([{"action": {"type": "explode"}}])
        assert caught.value.status == 400
        mcp_harness.faults.set([{"match": {"session": session.session_id, "method": "tools/call", "direction": "do->worker"}, "action": {"type": "delay", "ms": 300}, "times": 1}])
        try:
            started = time.monotonic()
            assert await session.text("add", {"a": 1, "b": 1}) == "2"
            assert time.monotonic() - started >= 0.29
            assert mcp_harness.faults.list()[0]["fired"] == 1
        finally:
            mcp_harness.faults.clear()
        assert mcp_harness.faults.list() == []


async def test_a_crash_keeps_storage_and_the_streamable_session(mcp_harness: HarnessServer) -> None:
    async with connect(mcp_harness, "streamable-http") as session:
        assert await session.text("counter") == "1"
        mcp_harness.crash()
        assert await session.text("counter") == "2"
    assert len(mcp_harness.transcript(layer="lifecycle", type="crashed")) == 1
