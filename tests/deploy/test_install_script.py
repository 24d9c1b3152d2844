"""scripts/install.sh picks AMD's zentorch plugin on AMD Zen CPUs with AVX-512 only (vLLM's own rule)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INSTALL = (ROOT / "scripts" / "install.sh").read_text()
ZEN_CPU = re.search(r"^zen_cpu\(\) \{\n.*?^\}\n", INSTALL, re.M | re.S)


def cpuinfo(vendor: str, family: int, flags: str) -> str:
    one = f"processor\t: 0\nvendor_id\t: {vendor}\ncpu family\t: {family}\nflags\t\t: {flags}\n\n"
    return one + one.replace("processor\t: 0", "processor\t: 1")


@pytest.mark.parametrize(("text", "zen"), [
    (cpuinfo("AuthenticAMD", 25, "fpu avx2 avx512f avx512_bf16"), True),  # Zen 4
    (cpuinfo("AuthenticAMD", 26, "fpu avx2 avx512f"), True),  # Zen 5
    (cpuinfo("AuthenticAMD", 23, "fpu avx2"), False),  # Zen 2: no AVX-512, vLLM would not use it
    (cpuinfo("AuthenticAMD", 21, "fpu avx2 avx512f"), False),  # not a Zen family
    (cpuinfo("GenuineIntel", 6, "fpu avx2 avx512f amx_tile"), False),
])
def test_zen_cpu(tmp_path, text, zen):
    assert ZEN_CPU is not None
    (tmp_path / "cpuinfo").write_text(text)
    script = ZEN_CPU.group(0) + "zen_cpu"
    result = subprocess.run(["bash", "-c", script], env={"LFM2_CPUINFO": str(tmp_path / "cpuinfo")})
    assert (result.returncode == 0) == zen


def test_zentorch_pin_matches_torch():
    assert 'pip install "zentorch==2.13.0.2"' in INSTALL
    assert 'pip install "torch==2.13.0"' in INSTALL
    assert 'LFM2_ZENTORCH:-auto' in INSTALL
