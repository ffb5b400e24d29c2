"""The one error type of the Python side, mirroring the TypeScript HarnessError codes."""

from __future__ import annotations


class HarnessError(Exception):
    """A failure the harness detected, with a code (e.g. ``ERR_CONTROL``) and an actionable message."""

    def __init__(self, code: str, message: str, *, status: int | None = None) -> None:
        super().__init__(message if message.startswith("[mcp-harness]") else f"[mcp-harness] {code}: {message}")
        self.code = code
        self.status = status
