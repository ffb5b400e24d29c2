"""Issue 10: ``mcp_harness.sign_in()`` signs in to an OAuth Worker (the GitHub template fixture) served by the harness."""

from __future__ import annotations

import os
from pathlib import Path

import httpx2
import pytest

import mcp_harness

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server():
    # The TS scenario serves the GitHub OAuth fixture with a mocked GitHub and passes its MCP URL.
    url = os.environ.get("MCP_HARNESS_SIGN_IN_URL")
    if not url:
        pytest.skip("MCP_HARNESS_SIGN_IN_URL is set by scenarios/auth/token-command.test.ts")
    return url


def test_sign_in_returns_a_token_the_server_accepts(server: str) -> None:
    token = mcp_harness.sign_in(server, user="grace", cwd=ROOT)
    response = httpx2.post(
        server,
        headers={"Authorization": f"Bearer {token}", "Accept": "application/json, text/event-stream", "Content-Type": "application/json"},
        json={"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "pytest", "version": "0"}}},
        timeout=30,
    )
    assert response.status_code == 200


def test_sign_in_failure_names_the_step(server: str) -> None:
    with pytest.raises(mcp_harness.HarnessError) as caught:
        mcp_harness.sign_in(server, user="nobody", cwd=ROOT)
    assert caught.value.code == "ERR_SIGN_IN"
    assert 'step "upstream"' in str(caught.value)
