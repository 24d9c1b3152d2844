"""The compose files: Docker Compose itself validates them (`config`), then the merged model is read.

Each check runs with Compose v1 and v2, in a copy of the project with no `.env`, as a fresh clone has,
and again with .env.example copied to `.env`: the files must work without one, and an `.env` must reach
the gateway (that the example is a valid env file is part of what is checked). Compose runs with none
of the caller's settings in its environment, so a variable set in the shell cannot hide a missing
default. The GPU stack is `docker-compose.yml`; the CPU stack is that file with `docker-compose.cpu.yml`
over it, whose `gateway-cpu` replaces the GPU `gateway` (moved into the "gpu" profile, which `up`
leaves alone) and answers to its name on the network.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from server.settings import Settings
from tests.deploy.binaries import compose
from tests.deploy.dashboards import ROOT

GPU_FILE = "docker-compose.yml"
CPU_FILE = "docker-compose.cpu.yml"
# Where the CPU gateway may differ from the GPU one; everything else must stay the same.
CPU_DIFFERS = {"build", "image", "deploy", "environment", "networks"}
SERVICE = {GPU_FILE: "gateway", CPU_FILE: "gateway-cpu"}
FIXED = {"LFM2_HOST", "LFM2_PORT"}  # set inside the container, not settings a user passes


def make_project(root: Path, env_file: bool) -> Path:
    for name in (GPU_FILE, CPU_FILE, "Dockerfile", "Dockerfile.cpu", ".env.example"):
        shutil.copy(ROOT / name, root / name)
    if env_file:
        shutil.copy(ROOT / ".env.example", root / ".env")
    (root / "deploy").symlink_to(ROOT / "deploy")
    return root


@pytest.fixture(scope="module", params=["v1", "v2"])
def tool(request) -> list[str]:
    return compose(request.param)


@pytest.fixture(scope="module", params=["fresh clone", "with .env"])
def project(request, tmp_path_factory) -> Path:
    return make_project(tmp_path_factory.mktemp("compose"), env_file=request.param == "with .env")


def config(tool: list[str], project: Path, *files: str) -> dict:
    """The merged model as `up` would run it: services in a profile (not started by `up`) left out,
    as v2 prints it (v1 lists them with their `profiles`)."""
    env = {k: os.environ[k] for k in ("PATH", "HOME") if k in os.environ}  # nothing from the caller's settings
    args = [a for f in files for a in ("-f", f)]
    result = subprocess.run([*tool, *args, "config"], cwd=project, capture_output=True, text=True,
                            timeout=120, env=env)
    assert result.returncode == 0, f"compose {' '.join(args)} config:\n{result.stderr}"
    model = dict(yaml.safe_load(result.stdout))
    model["services"] = {name: s for name, s in model["services"].items() if not s.get("profiles")}
    return model


@pytest.fixture(scope="module")
def gpu(tool, project) -> dict:
    return config(tool, project, GPU_FILE)


@pytest.fixture(scope="module")
def cpu(tool, project) -> dict:
    return config(tool, project, GPU_FILE, CPU_FILE)


def gateway(stack: dict) -> dict:
    (name,) = [n for n in stack["services"] if n.startswith("gateway")]
    return stack["services"][name]


def has_env_file(project: Path) -> bool:
    return (project / ".env").exists()


def test_both_stacks_run_one_gateway_prometheus_and_grafana(gpu, cpu):
    assert set(gpu["services"]) == {"gateway", "prometheus", "grafana"}
    assert set(cpu["services"]) == {"gateway-cpu", "prometheus", "grafana"}


def test_gpu_reservation_by_default_and_none_on_cpu(gpu, cpu):
    (device,) = gateway(gpu)["deploy"]["resources"]["reservations"]["devices"]
    assert device["driver"] == "nvidia" and "gpu" in device["capabilities"]
    assert gateway(gpu)["build"]["dockerfile"] == "Dockerfile"
    assert "deploy" not in gateway(cpu)
    assert gateway(cpu)["build"]["dockerfile"] == "Dockerfile.cpu"


def test_prometheus_finds_the_cpu_gateway_by_the_gateway_name(cpu):
    targets = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())["scrape_configs"][0]
    assert targets["static_configs"][0]["targets"] == ["gateway:8000"]
    assert "gateway" in gateway(cpu)["networks"]["default"]["aliases"]


@pytest.mark.parametrize("stack", ["gpu", "cpu"])
def test_gateway_service(stack, gpu, cpu, project):
    gateway_ = gateway({"gpu": gpu, "cpu": cpu}[stack])
    check = gateway_["healthcheck"]
    assert check["test"][0] == "CMD" and "http://127.0.0.1:8000/ready" in " ".join(check["test"])
    assert "start_period" in check
    assert ("hf-cache", "/cache/huggingface") in [mount(v) for v in gateway_["volumes"]]
    environment = gateway_["environment"]
    assert environment["HF_HOME"] == "/cache/huggingface"
    assert environment["LFM2_PORT"] == "8000"
    assert environment["LFM2_METRICS_PUBLIC"] == "true"  # Prometheus scrapes without a key
    if has_env_file(project):
        assert environment["LFM2_DTYPE"] == "auto"  # from .env: it reaches the gateway
    else:
        assert environment.get("LFM2_DTYPE") is None  # unset: the gateway keeps its own default


def test_cpu_defaults_suit_a_laptop_without_env_file(cpu):
    environment = gateway(cpu)["environment"]
    assert environment["LFM2_MODEL"] == "LiquidAI/LFM2-350M"
    assert environment["LFM2_CPU_KVCACHE_SPACE_GIB"] == "4"


@pytest.mark.parametrize("file", [GPU_FILE, CPU_FILE])
def test_every_setting_reaches_the_gateway(file):
    """With no env_file (Compose v1 cannot make one optional), each setting is passed by name: one
    missing here would be silently ignored when set in .env."""
    service = yaml.safe_load((ROOT / file).read_text())["services"][SERVICE[file]]
    settings = {f"LFM2_{name.upper()}" for name in Settings.model_fields}
    assert settings - FIXED <= set(service["environment"]), sorted(settings - FIXED - set(service["environment"]))
    assert "HF_TOKEN" in service["environment"]
    assert "env_file" not in service


def mount(volume: str | dict) -> tuple[str, str]:
    """(source, target): Compose v1 prints the short syntax, v2 the long one."""
    if isinstance(volume, dict):
        return volume["source"], volume["target"]
    source, target = volume.split(":")[:2]
    return source, target


def test_cpu_gateway_matches_gpu_gateway_elsewhere(gpu, cpu):
    g, c = gateway(gpu), gateway(cpu)
    for key in (set(g) | set(c)) - CPU_DIFFERS:
        assert g.get(key) == c.get(key), f"gateway.{key} differs between {GPU_FILE} and {CPU_FILE}"
    for name in ("prometheus", "grafana"):  # untouched by the override; v1 may reorder the mounts
        assert unordered(gpu["services"][name]) == unordered(cpu["services"][name]), name


def unordered(service: dict) -> dict:
    return {k: sorted(map(str, v)) if k == "volumes" else v for k, v in service.items()}


def test_env_example_names_only_real_settings():
    fields = {f"LFM2_{name.upper()}" for name in Settings.model_fields}
    for line in (ROOT / ".env.example").read_text().splitlines():
        name = line.lstrip("# ").split("=", 1)[0]
        if "=" in line and name.startswith("LFM2_"):
            assert name in fields, f".env.example: {name} is not a gateway setting"


def test_compose_mounts_exist():
    compose_file = yaml.safe_load((ROOT / GPU_FILE).read_text())
    for service in compose_file["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), volume
