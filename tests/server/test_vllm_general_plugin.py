"""Our vLLM general plugin: installed as an entry point, and LFM2 configs without conv_dim load."""

from __future__ import annotations

from importlib.metadata import entry_points

import pytest

pytest.importorskip("vllm")


def test_installed_as_vllm_general_plugin():
    plugins = {ep.name: ep.value for ep in entry_points(group="vllm.general_plugins")}
    assert plugins.get("lfm2") == "server.engine.vllm_plugin:register"


def test_transformers5_config_gets_conv_and_block_dims():
    from transformers import Lfm2Config

    from server.engine.vllm_plugin import register

    register()
    written_by_transformers5 = Lfm2Config(hidden_size=256, num_hidden_layers=2).to_dict()
    assert "conv_dim" not in written_by_transformers5
    config = Lfm2Config.from_dict(written_by_transformers5)
    assert (config.conv_dim, config.block_dim) == (256, 256)
    liquid = Lfm2Config.from_dict({**written_by_transformers5, "conv_dim": 128, "block_dim": 192})
    assert (liquid.conv_dim, liquid.block_dim) == (128, 192)


def test_architecture_registered():
    from vllm import ModelRegistry

    from server.engine.vllm_plugin import register

    register()
    assert "Lfm2ForCausalLM" in ModelRegistry.get_supported_archs()


def _report_group(queue) -> None:
    import os

    from server.engine import vllm_plugin

    vllm_plugin._leave_process_group()
    queue.put(os.getpgrp() == os.getpid())


@pytest.mark.parametrize("name,leaves", [("EngineCore", True), ("VllmWorker-0", True), ("SomethingElse", False)])
def test_engine_processes_leave_the_process_group(name, leaves):
    """A signal to the gateway's group (Ctrl-C) must not stop vLLM's engine core or workers mid-drain."""
    import multiprocessing
    import os

    from server.engine import vllm_plugin

    group = os.getpgrp()
    vllm_plugin._leave_process_group()  # in the gateway's own process: stays
    assert os.getpgrp() == group
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_report_group, args=(queue,), name=name)
    child.start()
    assert queue.get(timeout=60) is leaves
    child.join(30)


def _echo_reader(handle, replies) -> None:
    import time

    from vllm.distributed.device_communicators.shm_broadcast import MessageQueue

    from server.engine import vllm_plugin

    vllm_plugin._park_idle_shm_readers()
    queue = MessageQueue.create_from_handle(handle, 0)
    queue.wait_until_ready()
    while (message := queue.dequeue()) != "stop":
        replies.put((message, time.process_time()))


@pytest.mark.parametrize("spin,napping", [(None, True), ("1", False)])
def test_engine_queue_readers_nap_instead_of_spinning_on_cpu(monkeypatch, spin, napping):
    """vLLM's shared-memory queue (engine core <-> worker) readers spin for 1 s after every read, so the
    engine core spins through every decode step; on a CPU that core is taken from the OpenMP threads,
    the event loop and the client. Napping, a reader waiting through step-like gaps or idle uses little
    CPU, and every message still arrives at once (a lost wake-up would cost the 5 s recheck)."""
    import multiprocessing
    import time

    from vllm.distributed.device_communicators.shm_broadcast import MessageQueue
    from vllm.platforms import current_platform

    if not current_platform.is_cpu():
        pytest.skip("the readers nap on CPU builds only")
    if spin is None:
        monkeypatch.delenv("LFM2_ENGINE_SPIN_S", raising=False)
    else:
        monkeypatch.setenv("LFM2_ENGINE_SPIN_S", spin)
    writer = MessageQueue(1, 1)
    replies = multiprocessing.get_context("spawn").Queue()
    reader = multiprocessing.get_context("spawn").Process(target=_echo_reader, args=(writer.export_handle(), replies))
    reader.start()
    try:
        writer.wait_until_ready()
        writer.enqueue("warm")
        _, cpu_before = replies.get(timeout=60)
        started, slowest = time.perf_counter(), 0.0
        for i in range(60):  # step-like ping-pong: back to back, then gaps as long as decode steps
            time.sleep((0.0, 0.002, 0.015, 0.025, 0.05)[i % 5])
            sent = time.perf_counter()
            writer.enqueue(i)
            assert replies.get(timeout=30)[0] == i
            slowest = max(slowest, time.perf_counter() - sent)
        busy_wall = time.perf_counter() - started
        writer.enqueue("idle-start")
        _, cpu_at_start = replies.get(timeout=30)
        time.sleep(1.0)
        writer.enqueue("idle-end")
        _, cpu_at_end = replies.get(timeout=30)
        writer.enqueue("stop")
    finally:
        reader.join(30)
        if reader.is_alive():
            reader.kill()
    busy_cpu, idle_cpu = cpu_at_start - cpu_before, cpu_at_end - cpu_at_start
    assert slowest < 2.5  # never the 5 s recheck of a missed notification
    if napping:
        assert busy_cpu < 0.4 * busy_wall, f"the reader used {busy_cpu:.2f} s of CPU in {busy_wall:.2f} s of steps"
        assert idle_cpu < 0.25, f"an idle napping reader used {idle_cpu:.2f} s of CPU in 1 s"
    else:
        assert busy_cpu > 0.6 * busy_wall, f"the spinning control used only {busy_cpu:.2f} s in {busy_wall:.2f} s"
        assert idle_cpu > 0.3, f"the spinning control used only {idle_cpu:.2f} s of CPU"
