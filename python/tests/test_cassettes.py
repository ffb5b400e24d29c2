"""Cassettes cross the language border: TypeScript-recorded ones validate here, Python sessions save as valid ones."""

from __future__ import annotations

import json
import shutil
import uuid
from pathlib import Path

import pytest
from sdk import connect

from mcp_harness import HarnessError, HarnessServer, cassette_schema, load_cassette, validate_cassette

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = sorted((ROOT / "recordings" / "cassettes").rglob("*.json"))
PYTHON_RECORDED = ROOT / "scenarios" / "python" / "cassettes" / "python-mcp-session.json"


def test_the_bundled_schema_is_the_exported_one() -> None:
    exported = json.loads((ROOT / "recordings" / "format" / "cassette.schema.json").read_text())
    bundled = json.loads((ROOT / "python" / "src" / "mcp_harness" / "schemas" / "cassette.schema.json").read_text())
    assert bundled == exported, "run: cp recordings/format/cassette.schema.json python/src/mcp_harness/schemas/"
    assert cassette_schema() == exported


def test_there_are_committed_typescript_cassettes() -> None:
    assert len(COMMITTED) >= 3


def test_the_python_recorded_cassette_validates() -> None:
    cassette = load_cassette(PYTHON_RECORDED)
    assert cassette["meta"]["client"] == "mcp-python-sdk" and cassette["meta"]["recordedWith"] == "proxy"


@pytest.mark.parametrize("path", COMMITTED, ids=lambda p: str(p.relative_to(ROOT)))
def test_committed_cassette_validates(path: Path) -> None:
    cassette = load_cassette(path)
    assert cassette["version"] == 1 and cassette["interactions"]


def test_a_broken_cassette_fails_naming_the_path(tmp_path: Path) -> None:
    cassette = json.loads(COMMITTED[0].read_text())
    cassette["interactions"][0]["request"]["method"] = 42
    with pytest.raises(HarnessError) as caught:
        validate_cassette(cassette, source="broken.json")
    assert caught.value.code == "ERR_CASSETTE"
    assert "interactions/0/request/method" in str(caught.value)
    cassette["version"] = 2
    with pytest.raises(HarnessError, match="migrate|Migrate"):
        validate_cassette(cassette, source="future.json")


@pytest.mark.anyio
async def test_a_python_session_saves_as_a_valid_cassette(mcp_harness: HarnessServer, tmp_path: Path) -> None:
    async with connect(mcp_harness, "streamable-http") as session:
        assert await session.text("add", {"a": 20, "b": 22}) == "42"
        sid = session.session_id
    # Paths are relative to the control plane's cassette folder (./cassettes of the CLI's working directory).
    saved = mcp_harness.save_cassette(f"pytest-{uuid.uuid4().hex[:8]}/python.json", client="python-mcp", scenario="add")
    try:
        cassette = load_cassette(saved["path"])
    finally:
        shutil.rmtree(Path(saved["path"]).parent, ignore_errors=True)
    assert cassette["meta"]["client"] == "python-mcp" and cassette["meta"]["transport"] == "streamable-http"
    assert sid not in json.dumps(cassette), "session ids are replaced by placeholders"
    methods = [i["request"].get("body", {}).get("method") for i in cassette["interactions"] if isinstance(i["request"].get("body"), dict)]
    assert "initialize" in methods and "tools/call" in methods


def test_the_control_plane_refuses_a_cassette_path_outside_its_folder(mcp_harness: HarnessServer, tmp_path: Path) -> None:
    for path in (str(tmp_path / "python.json"), "../escape.json"):
        with pytest.raises(HarnessError) as caught:
            mcp_harness.save_cassette(path)
        assert caught.value.code == "ERR_PATH" and caught.value.status == 400
    assert not (tmp_path / "python.json").exists()
