"""Checkpoints written by lfm2-quantize, on the real engine: the gateway serves a W8A8 `tiny`, and a
W4A16 model whose weights were already on the int4 grid decodes the same greedy tokens as its bf16 twin.

Each needs engines of its own (one gateway, two offline engines), so there are only these few.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import openai
import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from server.checkpoints import quantize
from server.checkpoints.tiny_model import ensure_tiny_model
from tests.conftest import ROOT, start_gateway, stop_gateway
from tests.integration.forcing import WEATHER_TOOL, force

pytestmark = pytest.mark.engine
# nats: log-probabilities closer than this are a tie at the kernel's precision (bf16; bf16 and int8
# activations where vLLM uses its W4A8 kernel, on AMX CPUs)
TIE = 0.15 if torch.cpu._is_amx_tile_supported() else 0.05

GREEDY = """
import json, sys
from vllm import LLM, SamplingParams

if __name__ == "__main__":
    prompts = [[1, 6, 1015, 3093, 7], [1, 2000, 3000, 4000, 5000, 6000], list(range(100, 140))]
    bf16, w4a16 = sys.argv[1:]
    llm = LLM(model=bf16, max_model_len=512, enable_prefix_caching=False)
    greedy = SamplingParams(temperature=0, max_tokens=24, ignore_eos=True)
    seqs = [p + list(r.outputs[0].token_ids) for p, r in zip(prompts, llm.generate(
        [{"prompt_token_ids": p} for p in prompts], greedy))]
    scored = SamplingParams(temperature=0, max_tokens=1, prompt_logprobs=2)
    out = {"prompts": prompts, "seqs": seqs}
    for name, path in (("bf16", bf16), ("w4a16", w4a16)):
        if path != bf16:
            del llm
            llm = LLM(model=path, max_model_len=512, enable_prefix_caching=False)
        results = llm.generate([{"prompt_token_ids": s} for s in seqs], scored)
        out[name] = [[{str(t): lp.logprob for t, lp in (pos or {}).items()} for pos in r.prompt_logprobs]
                     for r in results]
    print("GREEDY " + json.dumps(out))
"""


@pytest.fixture(scope="module")
def w8a8_gateway(tmp_path_factory):
    model = tmp_path_factory.mktemp("quantized") / "tiny-w8a8"
    quantize.quantize_checkpoint(ensure_tiny_model(), model, "w8a8")
    gw = start_gateway(["--served-model-name", "tiny-w8a8"], model=str(model), name="w8a8")
    try:
        yield gw
    finally:
        stop_gateway(gw)


@pytest.fixture(scope="module")
def client(w8a8_gateway):
    return openai.OpenAI(base_url=w8a8_gateway.api, api_key="unused", max_retries=0, timeout=120)


def test_w8a8_checkpoint_is_served_quantized(w8a8_gateway, client):
    assert [m.id for m in client.models.list().data] == ["tiny-w8a8"]
    log = w8a8_gateway.log.read_text(errors="replace")
    assert "compressed-tensors" in log or "compressed_tensors" in log


def test_w8a8_chat(client):
    out = client.chat.completions.create(model="tiny-w8a8", messages=[{"role": "user", "content": "Hi"}],
                                         max_tokens=8, temperature=0)
    assert out.usage.completion_tokens > 0
    forced = client.chat.completions.create(model="tiny-w8a8", messages=[{"role": "user", "content": "Hi"}],
                                            max_tokens=20, extra_body=force("Hello from int8."))
    assert forced.choices[0].message.content == "Hello from int8."


def test_w8a8_forced_tool_call(client):
    call = '<|tool_call_start|>[get_weather(city="Paris", days=2)]<|tool_call_end|>'
    out = client.chat.completions.create(
        model="tiny-w8a8", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER_TOOL],
        max_tokens=60, extra_body=force(call))
    choice = out.choices[0]
    assert choice.finish_reason == "tool_calls"
    (tool_call,) = choice.message.tool_calls
    assert tool_call.function.name == "get_weather"
    assert json.loads(tool_call.function.arguments) == {"city": "Paris", "days": 2}


def on_int4_grid(weight: torch.Tensor, group_size: int) -> torch.Tensor:
    """`weight` moved onto the int4 grid that round-to-nearest recovers exactly: per group a power-of-two
    scale s, values q * s with q in [-7, 7] and one q = 7 (so amax / 7 is s again); exact in bf16."""
    out_features, in_features = weight.shape
    w = weight.float().reshape(out_features, in_features // group_size, group_size)
    scale = torch.exp2(torch.round(torch.log2(w.abs().amax(dim=2, keepdim=True) / 7)))
    q = torch.round(w / scale).clamp(-7, 7)
    q[:, :, 0] = 7
    return (q * scale).reshape(out_features, in_features).to(torch.bfloat16)


def rounded_bf16_twin(tiny: Path, out: Path) -> Path:
    out.mkdir(parents=True)
    tensors = {}
    with safe_open(str(tiny / "model.safetensors"), framework="pt") as reader:
        for name in reader.keys():  # noqa: SIM118
            tensor = reader.get_tensor(name)
            tensors[name] = (on_int4_grid(tensor, quantize.DEFAULT_GROUP_SIZE) if quantize.QUANTIZED.match(name)
                             else tensor.to(torch.bfloat16))
    save_file(tensors, str(out / "model.safetensors"), metadata={"format": "pt"})
    for path in tiny.iterdir():
        if path.suffix != ".safetensors":
            shutil.copy2(path, out / path.name)
    config = json.loads((tiny / "config.json").read_text())
    config["dtype"] = "bfloat16"
    config.pop("torch_dtype", None)
    (out / "config.json").write_text(json.dumps(config, indent=2))
    return out


def test_w4a16_of_int4_grid_weights_decodes_like_bf16(tmp_path):
    bf16 = rounded_bf16_twin(ensure_tiny_model(), tmp_path / "bf16")
    w4a16 = tmp_path / "w4a16"
    quantize.quantize_checkpoint(bf16, w4a16, "w4a16")
    with safe_open(str(w4a16 / "model.safetensors"), framework="pt") as reader, \
            safe_open(str(bf16 / "model.safetensors"), framework="pt") as twin:
        name = "model.layers.0.feed_forward.w1"
        parts = {k: reader.get_tensor(f"{name}.{k}") for k in ("weight_packed", "weight_scale", "weight_shape")}
        assert torch.equal(quantize.dequantize(parts, "w4a16"), twin.get_tensor(name + ".weight").float())
    # On AMX CPUs vLLM 0.32 runs int4 weights with int8 activations (VLLM_CPU_INT4_W4A8, on by default;
    # its weight-only kernel dies of an illegal instruction on our AMX Xeon with it off), which adds the
    # activations' rounding to bf16's: hence the wider tie there.
    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "1"}
    result = subprocess.run([sys.executable, "-c", GREEDY, str(bf16), str(w4a16)], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=900)
    lines = [line for line in result.stdout.splitlines() if line.startswith("GREEDY ")]
    assert lines, result.stderr[-4000:]
    data = json.loads(lines[-1].removeprefix("GREEDY "))
    # Both models score the bf16 model's greedy continuation (teacher forcing). On random weights many
    # steps are near-ties (65,536 flat logits), where any change of summation order may flip the winner,
    # so: W4A16's best token is bf16's wherever bf16's top two are more than TIE apart, and the two agree
    # on every generated token's log-probability within TIE.
    gaps, flips, bad_flips = [], [], []
    for prompt, seq, ref, got in zip(data["prompts"], data["seqs"], data["bf16"], data["w4a16"], strict=True):
        for i in range(len(prompt), len(seq)):
            gaps.append(abs(got[i][str(seq[i])] - ref[i][str(seq[i])]))
            ref_best = sorted(ref[i].items(), key=lambda kv: -kv[1])
            if max(got[i].items(), key=lambda kv: kv[1])[0] != ref_best[0][0]:
                flips.append(ref_best[0][1] - ref_best[1][1])
                if flips[-1] >= TIE:
                    bad_flips.append((i, ref_best, got[i]))
    summary = f"{len(flips)} flips in {len(gaps)} steps (margins {flips}), largest log-probability gap {max(gaps):.4f}"
    print("w4a16 vs bf16:", summary)
    assert len(gaps) == 72 and max(gaps) < TIE and not bad_flips and len(flips) <= len(gaps) // 4, (summary, bad_flips)
