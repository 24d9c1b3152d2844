"""Our vLLM general plugin: makes every LFM2 checkpoint load in vLLM 0.32.

vLLM loads plugins in every process it starts (API server, engine core, workers) from the
`vllm.general_plugins` entry point, so this is the one place the fixes live:

- the LFM2 hybrid architecture (short-conv + GQA) is registered under `Lfm2ForCausalLM`, using vLLM's
  own implementation;
- vLLM's LFM2 reads `conv_dim` and `block_dim` from the config, keys that Liquid's config.json files
  carry but transformers 5 does not write: a checkpoint saved by transformers 5 fails with
  `AttributeError: ... conv_dim`. Both equal `hidden_size` in every LFM2, so the config class derives
  them when they are absent;
- on CPU, a seeded request whose prompt is prefilled in chunks no longer kills the engine (see
  `_tolerate_cpu_generator_rewind`);
- the engine core and its workers leave the gateway's process group (`_leave_process_group`), so a
  signal to the group (Ctrl-C) starts the gateway's drain without stopping the engine under it;
- on CPU, the engine core and its worker nap instead of spinning while they wait for each other
  (`_park_idle_shm_readers`).
"""

from __future__ import annotations

from typing import Any

ARCHITECTURE = "Lfm2ForCausalLM"
_DERIVED_FROM_HIDDEN = ("conv_dim", "block_dim")


def register() -> None:
    _leave_process_group()
    _derive_missing_dims()
    _tolerate_cpu_generator_rewind()
    _park_idle_shm_readers()
    from vllm import ModelRegistry

    if ARCHITECTURE not in ModelRegistry.get_supported_archs():
        ModelRegistry.register_model(ARCHITECTURE, "vllm.model_executor.models.lfm2:Lfm2ForCausalLM")


_ENGINE_PROCESSES = ("EngineCore", "VllmWorker")  # vLLM's multiprocessing names for them
ORPHAN_CHECK_INTERVAL = 1.0


def _leave_process_group() -> None:
    """In vLLM's engine core and workers, become a process group of one.

    They stop on SIGTERM/SIGINT. Sent to the gateway's whole process group, such a signal would stop
    them while the gateway drains, so every stream in flight would fail. The gateway itself stays
    where it is, and its shutdown still stops the engine by pid (see server/lifecycle.py). Out of the
    group, a `kill -9` of the group no longer takes them along, so each watches its parent and stops
    itself when orphaned.
    """
    import contextlib
    import multiprocessing
    import os
    import threading

    if not multiprocessing.current_process().name.startswith(_ENGINE_PROCESSES) or os.getpgrp() == os.getpid():
        return
    with contextlib.suppress(OSError):  # a session leader, or no process groups here: nothing to leave
        os.setpgid(0, 0)
        threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True,
                         name="lfm2-orphan-watch").start()


def _stop_when_orphaned(parent: int) -> None:
    import os
    import signal
    import time

    while os.getppid() == parent:
        time.sleep(ORPHAN_CHECK_INTERVAL)
    os.kill(os.getpid(), signal.SIGTERM)  # vLLM's own clean stop
    time.sleep(10)
    os.kill(os.getpid(), signal.SIGKILL)


def _derive_missing_dims() -> None:
    from transformers import Lfm2Config

    for name in _DERIVED_FROM_HIDDEN:
        if not isinstance(getattr(Lfm2Config, name, None), property):
            setattr(Lfm2Config, name, _hidden_size_unless_set(name))


def _hidden_size_unless_set(name: str) -> property:
    key = f"_lfm2_{name}"

    def get(self: Any) -> int:
        value = self.__dict__.get(key)
        return int(self.hidden_size if value is None else value)

    def set_(self: Any, value: int) -> None:
        self.__dict__[key] = value

    return property(get, set_)


def _tolerate_cpu_generator_rewind() -> None:
    """On CPU, let vLLM's generator rewind after a partial prefill be a no-op instead of a crash.

    vLLM discards the token sampled for a prompt that is only partly prefilled and rewinds the request's
    seeded generator with `set_offset`, which only CUDA generators have. On CPU a request with a `seed`
    whose prompt is prefilled in chunks raised "CPU Generator does not use offset" in the worker and
    killed the engine. Without the rewind a seeded sample depends on how its prompt was chunked.
    """
    import torch
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        return
    from vllm.v1.worker.gpu_input_batch import InputBatch

    if getattr(InputBatch.add_request, "_lfm2_tolerant", False):
        return

    class CpuGenerator(torch.Generator):
        def get_offset(self) -> int:
            return 0

        def set_offset(self, offset: int) -> CpuGenerator:
            return self

    add_request = InputBatch.add_request

    def add_request_tolerant(self: Any, request: Any) -> Any:
        generator = request.generator
        if generator is not None and not isinstance(generator, CpuGenerator):
            request.generator = CpuGenerator(device=generator.device)
            request.generator.set_state(generator.get_state())
        return add_request(self, request)

    add_request_tolerant._lfm2_tolerant = True  # type: ignore[attr-defined]
    InputBatch.add_request = add_request_tolerant  # type: ignore[method-assign]


SPIN_ENV = "LFM2_ENGINE_SPIN_S"
CPU_SPIN_S = 0.0
NAP_S = 20e-6  # the first naps after a read
MAX_NAP_S = 1e-3
NAP_SHARE = 0.02  # a nap is at most this share of the wait so far


def _park_idle_shm_readers() -> None:
    """On CPU, vLLM's shared-memory queue readers nap instead of spinning while they wait.

    The engine core hands each step to its worker process through a shared-memory ring and reads the
    result back through another. vLLM's reader spins (`sched_yield` in a loop) for 1 s after its last
    read before it sleeps on a zmq notification (`SpinCondition.busy_loop_s`). On a GPU that buys
    microseconds. On a CPU the engine core spins through every decode step whose result comes within a
    second, so it holds a whole core next to the worker's OpenMP threads, and the processes that share
    that core get starved: during one 2,500-token stream on 2 cores (worker bound to core 0), a client
    on core 1 waited 15 s in the run queue for 40 ms of work, and new connections to the gateway were
    answered seconds late. It also keeps a core busy for a second after every request, and a second
    engine on the host whose step starts in that second has to wait it out.

    Here a reader inside that one-second window naps and checks the ring again; past the window it
    sleeps on its notification as vLLM does. A napping reader is not runnable, so the core goes to
    whoever needs it. The nap grows with the wait: 20 µs (`NAP_S`) just after a read, then 2% of the
    time waited so far (`NAP_SHARE`), at most 1 ms (`MAX_NAP_S`). So a result is read late by at most
    about 2% of the time it took. Measured with a process echoing messages back, steps 5 ms apart:
    11% of a core instead of 100%, and a round trip 0.2 ms slower. Steps 100 ms apart: 5% of a core,
    and 1.2 ms slower (the VM oversleeps its 1 ms naps). No zmq notification is involved until the
    window ends, so a lost one cannot cost the 5 s re-check. (The writer's socket keeps one message,
    `SNDHWM=1`; a notification sent within about a millisecond of the one before is dropped.)
    bench/RESULTS.md has the decode figures.

    `LFM2_ENGINE_SPIN_S` (seconds, 0 unless set) spins that long first: `1` is vLLM's own behaviour
    (the benchmarks' bare vLLM). GPU builds are left alone.
    """
    import os
    import time

    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        return
    from vllm.distributed.device_communicators import shm_broadcast
    from vllm.distributed.utils import sched_yield

    condition = shm_broadcast.SpinCondition
    if getattr(condition.wait, "_lfm2_napping", False):
        return
    spin_s = float(os.environ.get(SPIN_ENV) or CPU_SPIN_S)
    wait = condition.wait

    def napping_wait(self: Any, timeout_ms: int | None = None) -> None:
        since_read = time.monotonic() - self.last_read
        if since_read <= spin_s:
            sched_yield()  # type: ignore[no-untyped-call]
        elif since_read <= self.busy_loop_s:  # recently busy: the next message is likely close
            time.sleep(min(MAX_NAP_S, max(NAP_S, since_read * NAP_SHARE)))
        else:
            wait(self, timeout_ms)

    napping_wait._lfm2_napping = True  # type: ignore[attr-defined]
    condition.wait = napping_wait  # type: ignore[method-assign]
