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
