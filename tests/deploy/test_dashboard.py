"""The dashboards and their provisioning, read as files: well-formed, wired to the provisioned
datasource, every query fully resolvable; and Prometheus's own config checker on prometheus.yml."""

from __future__ import annotations

import subprocess

import pytest
import yaml

from tests.deploy import dashboards
from tests.deploy.binaries import find
from tests.deploy.dashboards import ROOT

GRAFANA = ROOT / "deploy" / "grafana"


def test_there_is_a_dashboard_with_queries():
    assert dashboards.dashboard_files(), "no dashboard JSON under deploy/grafana/dashboards"
    assert len(dashboards.targets()) >= 10


@pytest.mark.parametrize("path", dashboards.dashboard_files(), ids=lambda p: p.name)
def test_dashboard_structure(path):
    dashboard = dashboards.load(path)
    assert dashboard["uid"] and dashboard["title"]
    panels = list(dashboards.panels(dashboard))
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), "panel ids must be unique"
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", panel["title"]
        assert panel["targets"], f"{panel['title']} has no query"
        refs = [t["refId"] for t in panel["targets"]]
        assert len(refs) == len(set(refs)), panel["title"]


@pytest.mark.parametrize("path", dashboards.dashboard_files(), ids=lambda p: p.name)
def test_template_variables(path):
    variables = dashboards.template_variables(dashboards.load(path))
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for name, variable in variables.items():
        if variable["type"] == "query":
            assert variable["includeAll"] and variable["allValue"] == dashboards.ALL, name


@pytest.mark.parametrize("target", dashboards.targets(), ids=str)
def test_every_query_resolves(target):
    dashboard = dashboards.load(dashboards.DASHBOARD_DIR / target.dashboard)
    known = set(dashboards.template_variables(dashboard)) | set(dashboards.GRAFANA_BUILTINS)
    for match in dashboards._VARIABLE.finditer(target.expr):
        assert (match.group(1) or match.group(2)) in known, f"{target}: unknown variable {match.group(0)}"
    assert "$" not in dashboards.promql(target.expr)
    assert dashboards.metric_names(target.expr), f"{target}: no lfm2_* or vllm:* metric"


def test_provisioning_points_at_the_dashboards_and_prometheus():
    datasources = yaml.safe_load((GRAFANA / "provisioning" / "datasources" / "prometheus.yml").read_text())
    (source,) = datasources["datasources"]
    assert source["type"] == "prometheus"
    assert source["uid"] == "prometheus"  # the dashboards' datasource variable defaults to it
    assert source["url"] == "http://prometheus:9090"  # the compose service
    providers = yaml.safe_load((GRAFANA / "provisioning" / "dashboards" / "lfm2.yml").read_text())
    (provider,) = providers["providers"]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts


def test_promtool_accepts_the_prometheus_config():
    config = ROOT / "deploy" / "prometheus" / "prometheus.yml"
    result = subprocess.run([find("promtool"), "check", "config", "--syntax-only", str(config)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    scrape = yaml.safe_load(config.read_text())["scrape_configs"]
    gateway = next(job for job in scrape if job["job_name"] == "lfm2-gateway")
    assert gateway["static_configs"][0]["targets"] == ["gateway:8000"]
