"""Drives one MCP session with the official Python SDK client; used to record the python-mcp cassette.

Run: python drive_session.py <base url>   (the recording proxy's URL; paths /mcp are preserved)
"""

from __future__ import annotations

import sys

import anyio
import mcp_types as types
from mcp.client.session import ClientRequestContext
from sdk import connect

from mcp_harness import ControlClient, HarnessServer


async def elicit(context: ClientRequestContext, params: types.ElicitRequestParams) -> types.ElicitResult:
    return types.ElicitResult(action="accept", content={"name": "Ada"})


async def sample(context: ClientRequestContext, params: types.CreateMessageRequestParams) -> types.CreateMessageResult:
    return types.CreateMessageResult(role="assistant", content=types.TextContent(type="text", text="a haiku"), model="scripted")


async def main(base: str) -> None:
    # Only the URLs are used: a session through a proxy has no control plane.
    target = HarnessServer(url=base, control=ControlClient("", ""))
    async with connect(target, "streamable-http", elicit=elicit, sample=sample) as session:
        tools = await session.client.list_tools()
        assert any(tool.name == "add" for tool in tools.tools)
        assert await session.text("add", {"a": 2, "b": 3}) == "5"
        assert await session.text("elicit_name") == "Hello, Ada"
        assert await session.text("sample", {"prompt": "write a haiku"}) == "a haiku"


if __name__ == "__main__":
    anyio.run(main, sys.argv[1])
