"""mcp-harness for Python: drive the Workers MCP emulator from pytest, and validate cassettes."""

from .cassette import CASSETTE_VERSION, cassette_schema, load_cassette, validate_cassette
from .control import ControlClient, Faults
from .errors import HarnessError
from .server import HarnessServer, attach, start
from .sign_in import sign_in

__all__ = [
    "CASSETTE_VERSION",
    "ControlClient",
    "Faults",
    "HarnessError",
    "HarnessServer",
    "attach",
    "cassette_schema",
    "load_cassette",
    "sign_in",
    "start",
    "validate_cassette",
]
