"""The Grafana dashboards' queries as data: which panel, which PromQL, which metrics and labels.

Grafana fills in `$__rate_interval`, `$__range` and the dashboard's template variables before it asks
Prometheus; `promql()` does the same with fixed values, so a query can be sent to a real Prometheus.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD_DIR = ROOT / "deploy" / "grafana" / "dashboards"

GRAFANA_BUILTINS = {"__rate_interval": "1m", "__interval": "15s", "__range": "5m"}
ALL = ".*"  # a template variable set to "All" (allValue)

_VARIABLE = re.compile(r"\$\{(\w+)\}|\$(\w+)")
_METRIC = re.compile(r"\b(?:lfm2_[A-Za-z0-9_]+|vllm:[A-Za-z0-9_:]+)")
_SELECTOR = re.compile(r"(lfm2_[A-Za-z0-9_]+|vllm:[A-Za-z0-9_:]+)\s*\{([^}]*)\}")
_MATCHER = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)\s*(?:=~|!~|!=|=)\s*\"")
_GROUPING = re.compile(r"\b(?:by|without)\s*\(([^)]*)\)")
_LEGEND_LABEL = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")


@dataclass(frozen=True)
class Target:
    dashboard: str
    panel: str
    ref: str
    expr: str
    legend: str

    def __str__(self) -> str:
        return f"{self.dashboard} / {self.panel} / {self.ref}"


def dashboard_files() -> list[Path]:
    return sorted(DASHBOARD_DIR.glob("*.json"))


def load(path: Path) -> dict:
    return json.loads(path.read_text())


def panels(dashboard: dict) -> Iterator[dict]:
    for panel in dashboard["panels"]:
        yield panel
        yield from panel.get("panels", [])  # panels inside a collapsed row


def targets() -> list[Target]:
    found = []
    for path in dashboard_files():
        dashboard = load(path)
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                found.append(Target(path.name, panel["title"], target["refId"], target["expr"],
                                    target.get("legendFormat", "")))
    return found


def template_variables(dashboard: dict) -> dict[str, dict]:
    return {v["name"]: v for v in dashboard.get("templating", {}).get("list", [])}


def promql(expr: str, variables: dict[str, str] | None = None) -> str:
    """The query Grafana would send, with every variable set to `variables` or else to All."""
    values = {**GRAFANA_BUILTINS, **(variables or {})}

    def fill(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        return values.get(name, ALL)

    return _VARIABLE.sub(fill, expr)


def metric_names(expr: str) -> set[str]:
    return set(_METRIC.findall(expr))


def selector_labels(expr: str) -> list[tuple[str, set[str]]]:
    """(metric, label names matched on it) for each `metric{...}` selector."""
    return [(m.group(1), set(_MATCHER.findall(m.group(2)))) for m in _SELECTOR.finditer(expr)]


def grouping_labels(expr: str) -> set[str]:
    labels: set[str] = set()
    for group in _GROUPING.findall(expr):
        labels |= {name.strip() for name in group.split(",") if name.strip()}
    return labels


def legend_labels(legend: str) -> set[str]:
    return set(_LEGEND_LABEL.findall(legend))
