"""The server's packages are layers, and imports run one way: down.

    server.cli, server.app, server.lifecycle    the process: flags, app factory, drain
    server.api                                  the HTTP face: routes, SSE, auth; one subpackage per API
    server.core                                 the chat core both APIs share: prompt, sampling, tool choice, decoding
    server.grammar  server.wire  server.engine  server.checkpoints
    server.ops  server.errors  server.settings  metrics, admission, CPU tuning; the error tree; settings

A module may import its own layer or any layer below it, never one above. pydantic stays at the HTTP
edge: the core takes plain requests (`server.core.requests`), which `server.api.intake` builds.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1] / "server"
LAYERS = [
    {"cli", "app", "lifecycle"},
    {"api"},
    {"core"},
    {"grammar", "wire", "engine", "checkpoints"},
    {"ops", "errors", "settings"},
]


def layer_of(module: str) -> int | None:
    parts = module.split(".")
    if parts[0] != "server" or len(parts) < 2:
        return None
    return next((i for i, names in enumerate(LAYERS) if parts[1] in names), None)


def imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module:
            if node.module == "server":
                found += [f"server.{a.name}" for a in node.names]
            else:
                found.append(node.module)
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names]
    return found


def test_every_server_module_is_in_a_layer():
    loose = [p for p in ROOT.rglob("*.py") if p.name != "__init__.py" or p.parent != ROOT]
    modules = ["server." + ".".join(p.relative_to(ROOT).with_suffix("").parts) for p in loose]
    assert [m for m in modules if layer_of(m) is None] == []


def test_imports_run_down_the_layers():
    upward = []
    for path in ROOT.rglob("*.py"):
        if path.parent == ROOT and path.name == "__init__.py":
            continue
        me = layer_of("server." + ".".join(path.relative_to(ROOT).with_suffix("").parts))
        assert me is not None
        for target in imports(path):
            other = layer_of(target)
            if other is not None and other < me:
                upward.append(f"{path.relative_to(ROOT.parent)} imports {target}")
    assert upward == []


def test_the_core_knows_no_wire_types():
    wired = [f"{path.relative_to(ROOT.parent)} imports {target}"
             for path in (ROOT / "core").rglob("*.py") for target in imports(path)
             if target.split(".")[0] == "pydantic" or target.startswith("server.wire")]
    assert wired == []
