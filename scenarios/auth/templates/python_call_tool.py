"""Calls one tool on an OAuth-protected MCP server with the official Python SDK and a bearer token.

Usage: python python_call_tool.py <mcp url> <access token> <tool>; prints the tool's first text content.
"""

import sys

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client


async def main() -> None:
    url, token, tool = sys.argv[1], sys.argv[2], sys.argv[3]
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30, read=60)) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="legacy", read_timeout_seconds=20) as client:
            result = await client.call_tool(tool, {})
            print(result.content[0].text)


anyio.run(main)
