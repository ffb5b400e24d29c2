"""The emulator image from Python: testcontainers starts it, the plugin's HarnessServer attaches to it."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sdk import TRANSPORTS, TransportKind, connect

from mcp_harness import HarnessServer, attach

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "python-container-lane-token-01234"
# testcontainers' reaper image cannot be pulled here (no registry); the fixture stops the container.
os.environ.setdefault("TESTCONTAINERS_RYUK_DISABLED", "true")
os.environ.setdefault("TESTCONTAINERS_HOST_OVERRIDE", "localhost")


def _docker_answers() -> bool:
    if shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "version"], capture_output=True, timeout=15).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope="module")
def image() -> str:
    if not _docker_answers():
        if os.environ.get("CI") == "true":
            pytest.fail("The container lane must run in CI, but no Docker engine answers (.ci/run installs and starts docker.io).")
        pytest.skip("Container lane skipped: no Docker engine. Enable it with `apt-get install -y docker.io && dockerd &`.")
    if os.environ.get("MCP_HARNESS_IMAGE"):
        return os.environ["MCP_HARNESS_IMAGE"]
    node = ROOT / "node_modules" / ".bin" / "node"
    built = subprocess.run([str(node), str(ROOT / "container" / "build-image.ts")], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    return built.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def containerized(image: str) -> Iterator[HarnessServer]:
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    container = (
        DockerContainer(image)
        .with_env("MCP_HARNESS_CONTROL_TOKEN", TOKEN)
        .with_volume_mapping(str(ROOT / "server"), "/srv/mcp-harness/worker", mode="ro")
        .waiting_for(LogMessageWaitStrategy('"control":{"url"').with_startup_timeout(120))
    )
    # Published on the host's loopback only (docker-py takes (address, port); None picks a free port).
    container.ports.update({"8787/tcp": ("127.0.0.1", None), "8788/tcp": ("127.0.0.1", None)})  # type: ignore[dict-item]
    container.start()
    try:
        # The ports are bound to the host's loopback, whatever host testcontainers would guess.
        host = "127.0.0.1"
        url = f"http://{host}:{container.get_exposed_port(8787)}/"
        control = f"http://{host}:{container.get_exposed_port(8788)}/v1/"
        yield attach(url, control, TOKEN)
    finally:
        container.stop()


def test_the_container_publishes_on_loopback_only(containerized: HarnessServer, image: str) -> None:
    assert containerized.control.health()["worker"] == "mcp-harness-reference"
    published = subprocess.run(["docker", "ps", "--filter", f"ancestor={image}", "--format", "{{.Ports}}"], capture_output=True, text=True).stdout
    assert "127.0.0.1:" in published and "0.0.0.0:" not in published, published


@pytest.mark.anyio
@pytest.mark.parametrize("kind", TRANSPORTS)
async def test_ki11_in_the_container(containerized: HarnessServer, kind: TransportKind) -> None:
    async with connect(containerized, kind) as session:
        assert await session.text("counter") == "1"
        assert await session.text("memo") == "1"
        assert containerized.evict(session.session_id) == [session.object_name]
        assert await session.text("counter") == "2"
        assert await session.text("memo") == "1"
