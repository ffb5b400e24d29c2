"""Cassettes (recorded MCP sessions) on the Python side: load and validate against the exported JSON Schema."""

from __future__ import annotations

import json
import os
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, cast

from jsonschema import Draft202012Validator

from .errors import HarnessError

CASSETTE_VERSION = 1
ENV_SCHEMA = "MCP_HARNESS_CASSETTE_SCHEMA"


def _repo_schema() -> Path | None:
    # In a checkout (editable install) the TypeScript side's exported schema is the source of truth.
    candidate = Path(__file__).resolve().parents[3] / "recordings" / "format" / "cassette.schema.json"
    return candidate if candidate.exists() else None


@lru_cache(maxsize=4)
def cassette_schema(path: str | None = None) -> dict[str, Any]:
    """The cassette JSON Schema: ``path``, else $MCP_HARNESS_CASSETTE_SCHEMA, else the repository's, else the bundled copy."""
    chosen = path or os.environ.get(ENV_SCHEMA) or (str(_repo_schema()) if _repo_schema() else None)
    if chosen:
        return cast("dict[str, Any]", json.loads(Path(chosen).read_text("utf-8")))
    return cast("dict[str, Any]", json.loads(resources.files("mcp_harness").joinpath("schemas/cassette.schema.json").read_text("utf-8")))


def validate_cassette(cassette: Any, *, source: str = "<cassette>", schema_path: str | None = None) -> dict[str, Any]:
    """Validates a decoded cassette; raises HarnessError ``ERR_CASSETTE`` naming every failing path."""
    if isinstance(cassette, dict) and cassette.get("version") != CASSETTE_VERSION and isinstance(cassette.get("version"), int):
        raise HarnessError("ERR_CASSETTE", f"Failed to load cassette {source}: version {cassette['version']} is not {CASSETTE_VERSION}. Migrate it with the TypeScript side (recordings/format/migrate.ts); it is never coerced.")
    validator = Draft202012Validator(cassette_schema(schema_path))
    errors = sorted(validator.iter_errors(cassette), key=lambda e: list(e.absolute_path))
    if errors:
        lines = [f"  - {'/'.join(str(p) for p in e.absolute_path) or '(root)'}: {e.message}" for e in errors[:10]]
        more = f"\n  ... and {len(errors) - 10} more" if len(errors) > 10 else ""
        raise HarnessError("ERR_CASSETTE", f"Failed to load cassette {source}: it does not match the cassette schema:\n" + "\n".join(lines) + more)
    return cast("dict[str, Any]", cassette)


def load_cassette(path: str | os.PathLike[str], *, schema_path: str | None = None) -> dict[str, Any]:
    """Reads and validates one cassette file."""
    text = Path(path).read_text("utf-8")
    try:
        value = json.loads(text)
    except ValueError as error:
        raise HarnessError("ERR_CASSETTE", f"Failed to load cassette {path}: not JSON ({error}).") from None
    return validate_cassette(value, source=str(path), schema_path=schema_path)
