"""How the benchmarks print: a section header with the command, machine, date and load, and cells as
"median (min-max)" over repetitions, the form bench/RESULTS.md reads."""

from __future__ import annotations

import datetime
import os
import platform
import statistics
import subprocess
import sys


def uptime() -> str:
    """`uptime`'s line (the load averages), printed before and after a run."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()
    except OSError:
        return "?"


def spread(values: list[float | None], scale: float = 1.0, digits: int = 0, unit: str = "") -> str:
    """`median (min-max)` of the values that were measured, scaled; "-" when none was."""
    measured = [v * scale for v in values if v is not None]
    if not measured:
        return "-"
    med, lo, hi = statistics.median(measured), min(measured), max(measured)
    return f"{med:.{digits}f}{unit} ({lo:.{digits}f}-{hi:.{digits}f})"


def header(title: str, *lines: str, loads: tuple[str, str] | None = None) -> None:
    """`## title (date, host, CPUs)`, the command as run, then `lines` and the load before and after."""
    print(f"\n## {title} ({datetime.date.today()}, {platform.node()}, {os.cpu_count()} CPUs)\n")
    print(f"`{' '.join(sys.argv)}`")
    for line in lines:
        print(line)
    if loads is not None:
        print(f"load before: `{loads[0]}`; after: `{loads[1]}`")
    print()
