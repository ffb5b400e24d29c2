"""The control plane as the plugin sees it: health, URLs, errors, transcript."""

from __future__ import annotations

import urllib.request

import pytest

from mcp_harness import ControlClient, HarnessError, HarnessServer


def test_health_and_urls(mcp_harness: HarnessServer) -> None:
    health = mcp_harness.control.health()
    assert health["ok"] is True and health["apiVersion"].startswith("1.")
    urls = mcp_harness.control.urls()
    assert urls["mcp"] == mcp_harness.mcp_url and urls["sse"] == mcp_harness.sse_url
    with urllib.request.urlopen(mcp_harness.url.rstrip("/") + "/health", timeout=10) as res:
        assert res.status == 200


def test_wrong_token_is_refused_with_401(mcp_harness: HarnessServer) -> None:
    intruder = ControlClient(mcp_harness.control.url, "not-the-token-not-the-token-xx")
    with pytest.raises(HarnessError) as caught:
        intruder.health()
    assert caught.value.status == 401 and caught.value.code == "ERR_CONTROL"


def test_malformed_evict_is_refused_with_400(mcp_harness: HarnessServer) -> None:
    with pytest.raises(HarnessError) as caught:
        mcp_harness.control.request("POST", "evict", {"session": 5, "webSockets": "sometimes"})
    assert caught.value.status == 400
    assert "webSockets" in str(caught.value)


def test_unknown_session_is_404(mcp_harness: HarnessServer) -> None:
    with pytest.raises(HarnessError) as caught:
        mcp_harness.evict("never-seen")
    assert caught.value.status == 404 and caught.value.code == "ERR_UNKNOWN_SESSION"


def test_transcript_is_reset_per_test(mcp_harness: HarnessServer) -> None:
    assert mcp_harness.transcript(layer="client") == []
    urllib.request.urlopen(mcp_harness.url.rstrip("/") + "/health", timeout=10).close()
    requests = mcp_harness.transcript(layer="client", type="request")
    assert [e["path"] for e in requests] == ["/health"]
