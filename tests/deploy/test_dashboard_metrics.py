"""Every metric and label the dashboards query exists on a running gateway's /metrics.

The dashboards are read from their JSON, so a renamed metric or label fails here rather than leaving
an empty panel. A labelled metric that has seen no event yet has its `# TYPE` line but no samples;
its label names then come from its definition in server/metrics.py.
"""

from __future__ import annotations

import re

import httpx
import pytest
from prometheus_client.metrics import MetricWrapperBase

from server.ops import metrics as gateway_metrics
from tests.deploy import dashboards
from tests.deploy.traffic import send_traffic

pytestmark = pytest.mark.engine

SCRAPE_LABELS = {"instance", "job"}  # added by Prometheus to every series
_SAMPLE = re.compile(r"^([A-Za-z_:][A-Za-z0-9_:]*)(?:\{(.*)\})?\s")
_LABEL = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=\"")
_SUFFIXES = {"counter": ["_total"], "histogram": ["_bucket", "_sum", "_count"], "summary": ["_sum", "_count", ""],
             "gauge": [""], "untyped": [""], "info": ["_info"]}


def exposed_series(text: str) -> dict[str, set[str]]:
    """Series name -> label names, from the text exposition format."""
    series: dict[str, set[str]] = {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(maxsplit=3)
            base = name.removesuffix("_total") if kind == "counter" else name
            for suffix in _SUFFIXES.get(kind, [""]):
                series.setdefault(base + suffix, set())
        elif line and not line.startswith("#") and (match := _SAMPLE.match(line)):
            series.setdefault(match.group(1), set()).update(_LABEL.findall(match.group(2) or ""))
    return series


def declared_labels() -> dict[str, set[str]]:
    """Series name -> label names, from the gateway's own metric definitions."""
    declared: dict[str, set[str]] = {}
    for metric in vars(gateway_metrics).values():
        if not isinstance(metric, MetricWrapperBase):
            continue
        labels = set(metric._labelnames)
        for family in metric.describe():
            for suffix in _SUFFIXES.get(family.type, [""]):
                name = family.name + suffix
                declared[name] = labels | ({"le"} if suffix == "_bucket" else set())
    return declared


@pytest.fixture(scope="module")
def series(gateway) -> dict[str, set[str]]:
    send_traffic(gateway.base_url)
    exposed = exposed_series(httpx.get(gateway.base_url + "/metrics", timeout=10).text)
    declared = declared_labels()
    for name, labels in exposed.items():
        if not labels and name in declared:
            labels.update(declared[name])
    return exposed


@pytest.mark.parametrize("target", dashboards.targets(), ids=str)
def test_dashboard_query_uses_exposed_metrics_and_labels(series, target):
    names = dashboards.metric_names(target.expr)
    missing = sorted(name for name in names if name not in series)
    assert not missing, f"{target}: not on /metrics: {missing}"

    for metric, labels in dashboards.selector_labels(target.expr):
        unknown = labels - series[metric] - SCRAPE_LABELS
        assert not unknown, f"{target}: {metric} has no label {sorted(unknown)}"

    available = set().union(*(series[name] for name in names)) | SCRAPE_LABELS
    unknown = dashboards.grouping_labels(target.expr) - available
    assert not unknown, f"{target}: grouping by labels no metric has: {sorted(unknown)}"

    unknown = dashboards.legend_labels(target.legend) - dashboards.grouping_labels(target.expr) - SCRAPE_LABELS
    if "by (" in target.expr:
        assert not unknown, f"{target}: legend names labels the query drops: {sorted(unknown)}"


def test_the_metrics_the_issue_names_are_exposed(series):
    for name in ["lfm2_requests_total", "lfm2_request_duration_seconds_bucket",
                 "lfm2_time_to_first_token_seconds_bucket", "lfm2_inter_token_latency_seconds_bucket",
                 "lfm2_requests_in_flight", "lfm2_requests_queued", "lfm2_prompt_tokens_total",
                 "lfm2_completion_tokens_total", "lfm2_tool_calls_total", "lfm2_tool_parse_seconds_bucket",
                 "lfm2_stream_disconnects_total", "lfm2_rejected_requests_total", "lfm2_engine_healthy",
                 "lfm2_model_info", "lfm2_build_info", "vllm:num_requests_running", "vllm:num_requests_waiting",
                 "vllm:kv_cache_usage_perc", "vllm:generation_tokens_total",
                 "vllm:time_to_first_token_seconds_bucket"]:
        assert name in series, name
    assert {"route", "model", "status"} <= series["lfm2_requests_total"]
    assert {"outcome", "function"} <= series["lfm2_tool_calls_total"]
    assert {"model", "max_model_len", "dtype"} <= series["lfm2_model_info"]
    assert {"version", "vllm"} <= series["lfm2_build_info"]
