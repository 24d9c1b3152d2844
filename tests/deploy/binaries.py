"""Where the deployment tests' tools are; a missing one fails with the command that installs it."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

INSTALL = "bash scripts/install-test-tools.sh (run by `make test`)"


def find(name: str) -> str:
    """A tool from the virtual environment's bin/ (PyPI tools), else from PATH (Debian packages)."""
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: {INSTALL}")
    return found


def compose(version: str) -> list[str]:
    """Docker Compose "v1" (`docker-compose` 1.x) or "v2" (the `docker compose` plugin, else the
    binary install-test-tools.sh unpacks into the environment). v1 must exist; v2 is checked where it
    could be installed, and skipped otherwise."""
    if version == "v1":
        command = [find("docker-compose")]
        if not run_version(command).startswith("docker-compose version 1."):
            pytest.fail(f"{command[0]} is not Compose v1")
        return command
    docker = shutil.which("docker")
    for command in ([docker, "compose"] if docker else None, [str(Path(sys.executable).parent / "docker-compose-v2")]):
        if command and Path(command[0]).exists() and run_version(command).startswith("Docker Compose version"):
            return command
    pytest.skip(f"Compose v2 is not installed here ({INSTALL} fetches it where Debian's archive can be reached)")


def run_version(command: list[str]) -> str:
    result = subprocess.run([*command, "version"], capture_output=True, text=True, timeout=60)
    return result.stdout.strip() if result.returncode == 0 else ""
