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


def compose() -> list[str]:
    """Docker Compose v2 (`docker compose`) where the plugin exists, else v1 (`docker-compose`)."""
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    return [find("docker-compose")]
