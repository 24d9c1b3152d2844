"""Test modules import by basename (no packages under tests/), so basenames must stay unique."""

from __future__ import annotations

from collections import Counter
from pathlib import Path


def test_test_module_basenames_are_unique():
    names = Counter(p.name for p in Path(__file__).parent.rglob("*.py") if "node_modules" not in p.parts)
    names.pop("__init__.py", None)
    assert [n for n, c in names.items() if c > 1] == []
