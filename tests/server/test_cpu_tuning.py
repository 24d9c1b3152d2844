"""cpu_tuning: which preloads and thread binding the launcher applies, and when it leaves things alone."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from server.ops import cpu_tuning

TCMALLOC = "/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4"
IOMP = "/venv/lib/libiomp5.so"


@pytest.fixture
def cpu_host(monkeypatch):
    """A CPU build of vLLM with both libraries installed, no preloads, no quota, tuning not yet done."""
    for name in ("LD_PRELOAD", cpu_tuning.MARKER, cpu_tuning.SWITCH, cpu_tuning.BIND):
        monkeypatch.setenv(name, "")  # recorded, so what prepare() writes is undone after the test
        monkeypatch.delenv(name)
    monkeypatch.setattr(cpu_tuning, "is_cpu_build", lambda: True)
    monkeypatch.setattr(cpu_tuning, "find_tcmalloc", lambda: TCMALLOC)
    monkeypatch.setattr(cpu_tuning, "find_iomp", lambda: IOMP)
    monkeypatch.setattr(cpu_tuning, "thread_binding", lambda: None)
    return monkeypatch


def test_plan_preloads_both_libraries(cpu_host):
    assert cpu_tuning.plan() == cpu_tuning.Plan((TCMALLOC, IOMP), None)


@pytest.mark.parametrize(("preloaded", "added"), [
    ("/opt/libjemalloc.so.2", (IOMP,)),  # the operator chose an allocator
    ("/torch/lib/libgomp-a34b3233.so.1", (TCMALLOC,)),  # and an OpenMP runtime
    (f"{TCMALLOC}:{IOMP}", ()),
])
def test_plan_keeps_the_operators_choice(cpu_host, preloaded, added):
    cpu_host.setenv("LD_PRELOAD", preloaded)
    assert cpu_tuning.plan().preload == added


def test_changes_are_what_prepare_applies(cpu_host):
    """The benches start engines with `changes()`: the same variables the launcher sets for itself."""
    cpu_host.setenv("LD_PRELOAD", "/opt/libfoo.so")
    cpu_host.setattr(cpu_tuning, "thread_binding", lambda: "0,1")
    changed = cpu_tuning.changes()
    assert changed == {"LD_PRELOAD": f"{TCMALLOC}:{IOMP}:/opt/libfoo.so", cpu_tuning.BIND: "0,1"}
    cpu_tuning.prepare(reexec=False)
    assert {name: os.environ[name] for name in changed} == changed


def test_prepare_without_reexec_sets_the_environment_once(cpu_host):
    cpu_host.setenv("LD_PRELOAD", "/opt/libfoo.so")
    cpu_tuning.prepare(reexec=False)

    assert os.environ["LD_PRELOAD"] == f"{TCMALLOC}:{IOMP}:/opt/libfoo.so"
    assert os.environ[cpu_tuning.MARKER] == "1"
    cpu_host.setenv("LD_PRELOAD", "changed")
    cpu_tuning.prepare(reexec=False)  # the marker says it is done
    assert os.environ["LD_PRELOAD"] == "changed"


def test_prepare_reexecutes_the_launcher_with_its_arguments(cpu_host):
    calls = []

    def fake_execv(path, argv):
        calls.append((path, argv))
        raise SystemExit(0)

    cpu_host.setattr(cpu_tuning.os, "execv", fake_execv)
    cpu_host.setattr(sys, "orig_argv", ["python3", "-m", "server.cli", "--model", "tiny"])
    with pytest.raises(SystemExit):
        cpu_tuning.prepare(reexec=True)
    assert calls == [(sys.executable, [sys.executable, "-m", "server.cli", "--model", "tiny"])]


def test_the_environment_is_restored_after_each_test():
    assert cpu_tuning.MARKER not in os.environ


@pytest.mark.parametrize("value", ["0", "false", "off"])
def test_switch_turns_it_off(cpu_host, value):
    cpu_host.setenv(cpu_tuning.SWITCH, value)
    cpu_tuning.prepare(reexec=False)
    assert "LD_PRELOAD" not in os.environ
    assert "off" in cpu_tuning.describe()


def test_nothing_on_a_gpu_build(cpu_host):
    cpu_host.setattr(cpu_tuning, "is_cpu_build", lambda: False)
    cpu_tuning.prepare(reexec=False)
    assert "LD_PRELOAD" not in os.environ


def test_nothing_to_add_means_no_reexec(cpu_host):
    cpu_host.setattr(cpu_tuning, "find_tcmalloc", lambda: None)
    cpu_host.setattr(cpu_tuning, "find_iomp", lambda: None)
    cpu_host.setattr(cpu_tuning.os, "execv", lambda *a: pytest.fail("re-executed"))
    cpu_tuning.prepare(reexec=True)


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


@pytest.mark.parametrize(("cpu_max", "expected"), [
    ("200000 100000", "0"),  # 2 CPUs' worth: one for OpenMP, one left to the server
    ("400000 100000", "0,1,2"),
    ("150000 100000", "0"),
    ("800000 100000", None),  # as many as the visible cores: vLLM's own binding is right
    ("max 100000", None),
])
def test_quota_binding_cgroup_v2(tmp_path, cpu_max, expected):
    write(tmp_path / "cgroup" / "cpu.max", cpu_max)
    assert cpu_tuning.quota_binding(tmp_path / "cgroup", list(range(8)), tmp_path / "nosysfs") == expected


def test_quota_binding_cgroup_v1(tmp_path):
    write(tmp_path / "cpu" / "cpu.cfs_quota_us", "300000")
    write(tmp_path / "cpu" / "cpu.cfs_period_us", "100000")
    assert cpu_tuning.cpu_quota(tmp_path) == 3.0
    write(tmp_path / "cpu" / "cpu.cfs_quota_us", "-1")
    assert cpu_tuning.cpu_quota(tmp_path) is None


def topology(sysfs: Path, cores: list[int]) -> None:
    for cpu, core in enumerate(cores):
        write(sysfs / f"cpu{cpu}" / "topology" / "core_id", str(core))
        write(sysfs / f"cpu{cpu}" / "topology" / "physical_package_id", "0")


@pytest.mark.parametrize(("cores", "expected"), [
    ([0, 1], "0,1"),  # 2 cores: OpenMP on both, none set aside
    ([0, 1, 0, 1], "0,1"),  # 2 cores with SMT siblings: one thread per core
    ([0, 1, 2], "0,1,2"),
    ([0, 1, 2, 3], None),  # from 4 cores on, vLLM's own `auto` (one core left to the server) stands
])
def test_small_machines_bind_every_core(tmp_path, cores, expected):
    topology(tmp_path / "sysfs", cores)
    assert cpu_tuning.thread_binding(tmp_path / "nocgroup", list(range(len(cores))), tmp_path / "sysfs") == expected


def test_a_quota_binds_quota_minus_one_even_on_a_small_machine(tmp_path):
    topology(tmp_path / "sysfs", [0, 1, 2])
    write(tmp_path / "cgroup" / "cpu.max", "200000 100000")
    assert cpu_tuning.thread_binding(tmp_path / "cgroup", [0, 1, 2], tmp_path / "sysfs") == "0"


def test_plan_binds_only_when_the_operator_did_not(cpu_host):
    cpu_host.setattr(cpu_tuning, "thread_binding", lambda: "0,1")
    assert cpu_tuning.plan().bind == "0,1"
    cpu_host.setenv(cpu_tuning.BIND, "auto")
    assert cpu_tuning.plan().bind is None


def test_one_thread_per_physical_core(tmp_path):
    for cpu, core in enumerate([0, 1, 0, 1]):  # cpus 2 and 3 are SMT siblings of 0 and 1
        write(tmp_path / f"cpu{cpu}" / "topology" / "core_id", str(core))
        write(tmp_path / f"cpu{cpu}" / "topology" / "physical_package_id", "0")
    assert cpu_tuning.one_per_core([0, 1, 2, 3], tmp_path) == [0, 1]


def test_available_memory_is_capped_by_the_cgroup(tmp_path):
    write(tmp_path / "memory.max", str(2 * 2**30))
    write(tmp_path / "memory.current", str(2**29))
    assert cpu_tuning.available_gib(tmp_path) <= 1.5
    write(tmp_path / "memory.max", "max")
    assert cpu_tuning.available_gib(tmp_path) > 0


ZEN4 = "vendor_id\t: AuthenticAMD\ncpu family\t: 25\nflags\t\t: fpu sse avx2 avx512f avx512_bf16\n"
ZEN2 = "vendor_id\t: AuthenticAMD\ncpu family\t: 23\nflags\t\t: fpu sse avx2\n"
XEON = "vendor_id\t: GenuineIntel\ncpu family\t: 6\nflags\t\t: fpu sse avx2 avx512f amx_tile\n"


@pytest.mark.parametrize(("cpuinfo", "version", "state"), [
    (ZEN4, "2.13.0.2", "active 2.13.0.2"),
    (ZEN2, "2.13.0.2", "installed 2.13.0.2, inactive: this AMD CPU has no AVX-512 (vLLM uses zentorch on Zen 4+)"),
    (XEON, "2.13.0.2", "installed 2.13.0.2, inactive: not an AMD CPU"),
])
def test_zentorch_state_follows_vllms_rule(cpuinfo, version, state):
    assert cpu_tuning.zentorch_state(cpuinfo, version) == state


def test_zentorch_not_installed_here_is_reported(cpu_host):
    def missing(name):
        raise cpu_tuning.metadata.PackageNotFoundError(name)

    cpu_host.setattr(cpu_tuning.metadata, "version", missing)
    assert cpu_tuning.zentorch_state() == "not installed"
    assert "zentorch=not installed" in cpu_tuning.describe()
