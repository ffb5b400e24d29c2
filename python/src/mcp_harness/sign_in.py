"""Headless OAuth sign-in for Python tests: runs ``mcp-harness token`` (the same flow as the TS ``signIn()``)."""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Sequence
from pathlib import Path

from .errors import HarnessError
from .server import HarnessServer, find_command


def sign_in(
    target: HarnessServer | str,
    *,
    user: str | None = None,
    scopes: Sequence[str] = (),
    command: Sequence[str] | str | None = None,
    cwd: str | os.PathLike[str] | None = None,
    timeout: float = 60.0,
) -> str:
    """Signs in to an OAuth-protected MCP server served by the harness and returns an access token.

    Runs protected-resource metadata, authorization-server metadata, dynamic client registration,
    PKCE S256, the Worker's consent page, the mocked upstream sign-in and the code exchange.

    >>> token = sign_in(server, user="ada")  # then: headers={"Authorization": f"Bearer {token}"}
    """
    url = target.mcp_url if isinstance(target, HarnessServer) else target
    if isinstance(command, str):
        argv, root = shlex.split(command), Path(cwd or Path.cwd())
    elif command is not None:
        argv, root = list(command), Path(cwd or Path.cwd())
    elif os.environ.get("MCP_HARNESS_COMMAND"):
        argv, root = shlex.split(os.environ["MCP_HARNESS_COMMAND"]), Path(cwd or Path.cwd())
    else:
        argv, root = find_command(Path(cwd or Path.cwd()).resolve())
    args = [*argv, "token", "--url", url]
    if user:
        args += ["--user", user]
    if scopes:
        args += ["--scope", " ".join(scopes)]
    env = dict(os.environ)
    # The CLI needs Node >= 22; the npm package `node` puts one in node_modules/.bin.
    env["PATH"] = os.pathsep.join([str(root / "node_modules" / ".bin"), env.get("PATH", "")])
    try:
        done = subprocess.run(args, cwd=str(cwd or root), env=env, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as error:
        raise HarnessError("ERR_SIGN_IN", f"Failed to sign in at {url}: `mcp-harness token` took longer than {timeout:.0f} s.") from error
    if done.returncode != 0:
        # The CLI prints one line naming the step and what the server answered.
        raise HarnessError("ERR_SIGN_IN", done.stderr.strip().removeprefix("mcp-harness token: ") or f"`mcp-harness token` exited {done.returncode}")
    return done.stdout.strip()
