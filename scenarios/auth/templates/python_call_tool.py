"""Calls one tool on an OAuth-protected MCP server with the official Python SDK and a bearer token.

The token is given (``--token``) or obtained by ``mcp_harness.sign_in()`` (``--sign-in``), which
runs the whole OAuth flow through ``mcp-harness token``. Prints the tool's first text content.

Usage: python python_call_tool.py <mcp url> <tool> (--token T | --sign-in [--user U] [--scope S]...) [--args JSON]
"""

import argparse
import json
from pathlib import Path

import anyio
import httpx2
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

import mcp_harness

ROOT = Path(__file__).resolve().parents[3]


async def call(url: str, token: str, tool: str, arguments: dict) -> None:
    async with httpx2.AsyncClient(headers={"Authorization": f"Bearer {token}"}, timeout=httpx2.Timeout(30, read=60)) as http:
        async with Client(streamable_http_client(url, http_client=http), mode="legacy", read_timeout_seconds=20) as client:
            result = await client.call_tool(tool, arguments)
            print(result.content[0].text)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("tool")
    auth = parser.add_mutually_exclusive_group(required=True)
    auth.add_argument("--token")
    auth.add_argument("--sign-in", action="store_true")
    parser.add_argument("--user")
    parser.add_argument("--scope", action="append", default=[])
    parser.add_argument("--args", default="{}")
    options = parser.parse_args()
    token = options.token or mcp_harness.sign_in(options.url, user=options.user, scopes=options.scope, cwd=ROOT, timeout=90)
    anyio.run(call, options.url, token, options.tool, json.loads(options.args))


main()
