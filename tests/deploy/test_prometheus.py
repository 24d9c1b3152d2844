"""A real Prometheus scrapes the gateway; every dashboard query and the autoscaler's query then run
through Prometheus's HTTP API without error, and the panels return data.

Prometheus (Debian's `prometheus`, see scripts/install-test-tools.sh) listens on a free loopback port
and scrapes the session's gateway every second. Traffic goes in two rounds, each waited for in
Prometheus, so that counters created by the first round have grown by the second: `rate()` is then
above zero, as it is on a live dashboard.
"""

from __future__ import annotations

import math
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from tests.deploy import dashboards
from tests.deploy.binaries import find
from tests.deploy.dashboards import ROOT
from tests.deploy.traffic import send_traffic

pytestmark = pytest.mark.engine

START_TIMEOUT = 30.0
SCRAPE_TIMEOUT = 30.0
# Labels the Prometheus Operator puts on the ServiceMonitor's series, so the autoscaler's query
# (deploy/k8s/scaledobject.yaml) runs here verbatim.
TARGET_LABELS = {"namespace": "lfm2", "service": "lfm2-gateway"}
JOB = "lfm2-gateway"
# Panels allowed to be empty after the test traffic (nothing was rejected).
MAY_BE_EMPTY = {"Rejected requests by reason"}
# Panels whose first query must be above zero after the traffic.
MOVING = {"Requests/s", "Request rate by route and status", "Tokens/s", "Tool calls by outcome",
          "Tool calls by function", "Engine healthy replicas"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Prometheus:
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.http = httpx.Client(base_url=base_url, timeout=30)

    def query(self, promql: str) -> dict[str, Any]:
        response = self.http.get("/api/v1/query", params={"query": promql})
        body = response.json()
        assert response.status_code == 200 and body["status"] == "success", f"{promql}\n-> {body}"
        return dict(body["data"])

    def value(self, promql: str) -> float | None:
        result = self.query(promql)["result"]
        return float(result[0]["value"][1]) if result else None

    def wait_for(self, promql: str, at_least: float) -> None:
        deadline = time.monotonic() + SCRAPE_TIMEOUT
        while time.monotonic() < deadline:
            value = self.value(promql)
            if value is not None and value >= at_least:
                return
            time.sleep(0.5)
        raise AssertionError(f"Prometheus did not see {promql} >= {at_least} within {SCRAPE_TIMEOUT}s")


@pytest.fixture(scope="module")
def prometheus(gateway, tmp_path_factory) -> Iterator[Prometheus]:
    workdir: Path = tmp_path_factory.mktemp("prometheus")
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "scrape_configs": [{
            "job_name": JOB,
            "scrape_interval": "1s",
            "scrape_timeout": "1s",
            "static_configs": [{"targets": [urlsplit(gateway.base_url).netloc], "labels": TARGET_LABELS}],
        }],
    }
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = _free_port()
    log = (workdir / "prometheus.log").open("wb")
    process = subprocess.Popen(
        [find("prometheus"), f"--config.file={workdir / 'prometheus.yml'}",
         f"--storage.tsdb.path={workdir / 'data'}", f"--web.listen-address=127.0.0.1:{port}",
         "--storage.tsdb.retention.time=1h", "--log.level=warn"],
        stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    server = Prometheus(f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"prometheus exited {process.returncode}:\n{_tail(workdir)}")
            try:
                if server.http.get("/-/ready").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"prometheus not ready in {START_TIMEOUT}s:\n{_tail(workdir)}")
            time.sleep(0.2)
        yield server
    finally:
        server.http.close()
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def _tail(workdir: Path) -> str:
    return (workdir / "prometheus.log").read_text(errors="replace")[-3000:]


@pytest.fixture(scope="module")
def scraped(gateway, prometheus) -> Prometheus:
    """Two rounds of traffic, each seen by Prometheus before going on."""
    counter = f'sum(lfm2_requests_total{{job="{JOB}", route="/v1/chat/completions"}})'
    for _ in range(2):
        send_traffic(gateway.base_url)
        prometheus.wait_for(counter, _chat_requests(gateway))
    # One scrape more, so every series has a sample after the last request.
    time.sleep(1.5)
    return prometheus


def _chat_requests(gateway) -> float:
    text = httpx.get(gateway.base_url + "/metrics", timeout=10).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith("lfm2_requests_total{") and 'route="/v1/chat/completions"' in line)


def test_prometheus_scrapes_the_gateway(scraped):
    (target,) = scraped.http.get("/api/v1/targets").json()["data"]["activeTargets"]
    assert target["health"] == "up", target.get("lastError")
    assert scraped.value(f'up{{job="{JOB}"}}') == 1


@pytest.mark.parametrize("target", dashboards.targets(), ids=str)
def test_dashboard_query_evaluates(scraped, target):
    data = scraped.query(dashboards.promql(target.expr))
    if target.panel in MAY_BE_EMPTY:
        return
    assert data["result"], f"{target}: no data\n{dashboards.promql(target.expr)}"
    if target.panel in MOVING and target.ref == "A":
        values = [float(series["value"][1]) for series in data["result"]]
        assert max(values) > 0, f"{target}: {values}"


@pytest.mark.parametrize("target", [t for t in dashboards.targets() if "histogram_quantile" in t.expr
                                    and "tool_parse" not in t.expr], ids=str)
def test_latency_percentiles_are_numbers(scraped, target):
    """After traffic inside the rate window, a percentile is a number of seconds, not NaN."""
    if "route" in target.expr and "by (le, route)" in target.expr:
        series = scraped.query(dashboards.promql(target.expr))["result"]
        values = [float(s["value"][1]) for s in series if s["metric"].get("route") == "/v1/chat/completions"]
    else:
        values = [float(s["value"][1]) for s in scraped.query(dashboards.promql(target.expr))["result"]]
    assert values and all(math.isfinite(v) and v >= 0 for v in values), f"{target}: {values}"


def test_template_variables_have_values(scraped, gateway):
    model = httpx.get(gateway.api + "/models", timeout=10).json()["data"][0]["id"]
    for path in dashboards.dashboard_files():
        for name, variable in dashboards.template_variables(dashboards.load(path)).items():
            if variable["type"] != "query":
                continue
            metric, label = _label_values(variable["query"]["query"])
            values = scraped.http.get(f"/api/v1/label/{label}/values", params={"match[]": metric}).json()["data"]
            assert values, f"${name}: no values for {variable['query']['query']}"
            if name == "model":
                assert model in values


def _label_values(query: str) -> tuple[str, str]:
    assert query.startswith("label_values(") and query.endswith(")"), query
    metric, label = (part.strip() for part in query[len("label_values("):-1].split(","))
    return metric, label


def test_autoscaler_query_evaluates(scraped):
    scaled = yaml.safe_load((ROOT / "deploy" / "k8s" / "scaledobject.yaml").read_text())
    (trigger,) = scaled["spec"]["triggers"]
    query = trigger["metadata"]["query"]
    assert "vllm:num_requests_waiting" in query
    result = scraped.query(query)["result"]
    # KEDA's prometheus scaler takes exactly one element and rejects several.
    assert len(result) == 1, f"the autoscaler's query returns {len(result)} series: {query}"
    assert float(result[0]["value"][1]) >= 0


def test_every_exposed_sample_is_accepted(scraped):
    """Prometheus dropped no sample of the gateway's (duplicate series, out of order, out of bounds)."""
    own = scraped.http.get("/metrics").text
    for counter in ("prometheus_target_scrapes_sample_duplicate_timestamp_total",
                    "prometheus_target_scrapes_sample_out_of_order_total",
                    "prometheus_target_scrapes_sample_out_of_bounds_total"):
        values = [float(line.rsplit(" ", 1)[1]) for line in own.splitlines() if line.startswith(counter)]
        assert values == [0.0], f"{counter}: {values}"
