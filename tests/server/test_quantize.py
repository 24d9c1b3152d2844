"""lfm2-quantize: the arithmetic, the compressed-tensors layout vLLM reads, and the streamed checkpoint."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from server.checkpoints import quantize as q

GROUP = q.DEFAULT_GROUP_SIZE
BF16_STEP = 2.0**-8  # bf16 keeps 8 significant bits: a rounding is at most half of this, relative


def random_weight(out_features: int = 512, in_features: int = 256, seed: int = 0) -> torch.Tensor:
    return torch.randn(out_features, in_features, generator=torch.Generator().manual_seed(seed)) * 0.05


# ---- arithmetic ----

def test_int8_is_round_to_nearest_per_channel():
    w = random_weight()
    qw, scale = q.quantize_int8_channel(w)
    assert qw.dtype == torch.int8 and scale.shape == (512, 1) and scale.dtype == torch.float32
    assert (qw.abs().amax(dim=1) == 127).all()  # each row uses the whole range
    assert ((qw * scale - w).abs() <= scale / 2 + 1e-7).all()


def test_int4_is_round_to_nearest_per_group():
    w = random_weight()
    qw, scale = q.quantize_int4_group(w, GROUP)
    assert qw.min() >= -8 and qw.max() <= 7 and scale.shape == (512, 256 // GROUP)
    full = scale.repeat_interleave(GROUP, dim=1)
    assert ((qw * full - w).abs() <= full / 2 + 1e-7).all()


def test_int4_scale_is_rounded_before_the_values():
    w = random_weight()
    qw, scale = q.quantize_int4_group(w, GROUP, torch.bfloat16)
    assert scale.dtype == torch.bfloat16
    full = scale.float().repeat_interleave(GROUP, dim=1)
    assert torch.equal(qw, torch.round(w / full).clamp(-8, 7).to(torch.int8))


def test_int4_group_must_divide_the_input():
    with pytest.raises(ValueError, match="does not divide"):
        q.quantize_int4_group(random_weight(64, 192), GROUP)


def test_packing_matches_compressed_tensors():
    from compressed_tensors.compressors.pack_quantized.helpers import pack_to_int32, unpack_from_int32

    values = torch.randint(-8, 8, (64, 256), dtype=torch.int8, generator=torch.Generator().manual_seed(1))
    packed = q.pack_int4(values)
    assert packed.dtype == torch.int32 and packed.shape == (64, 32)
    assert torch.equal(packed, pack_to_int32(values, 4))
    assert torch.equal(q.unpack_int4(packed, 256), values)
    assert torch.equal(unpack_from_int32(packed, 4, torch.Size((64, 256))), values)


@pytest.mark.parametrize("scheme", q.SCHEMES)
def test_dequantize_is_close_to_the_weight(scheme):
    w = random_weight()
    tensors = q.quantize_weight(w, scheme, GROUP, torch.float32)
    err = (q.dequantize(tensors, scheme) - w).abs().max()
    assert err <= w.abs().max() / (2 * (127 if scheme == "w8a8" else 7)) + 1e-6


def test_w4a16_tensors():
    tensors = q.quantize_weight(random_weight(), "w4a16", GROUP, torch.bfloat16)
    assert {k: (tuple(v.shape), v.dtype) for k, v in tensors.items()} == {
        "weight_packed": ((512, 32), torch.int32),
        "weight_scale": ((512, 2), torch.bfloat16),
        "weight_shape": ((2,), torch.int64),
    }
    assert tensors["weight_shape"].tolist() == [512, 256]


# ---- what vLLM makes of it ----

@pytest.mark.parametrize(("scheme", "expected"), [("w8a8", "CompressedTensorsW8A8Int8"),
                                                  ("w4a16", "CompressedTensorsWNA16")])
def test_vllm_reads_the_config_as_the_scheme(scheme, expected):
    from vllm.model_executor.layers.quantization.compressed_tensors.compressed_tensors import (
        CompressedTensorsConfig,
    )

    config = CompressedTensorsConfig.from_config(q.quantization_config(scheme))
    assert config.ignore == q.IGNORE
    (group,) = config.target_scheme_map.values()
    scheme_object = config._get_scheme_from_parts(group["weights"], group["input_activations"],
                                                  layer_name="model.layers.0.feed_forward.w2")
    assert type(scheme_object).__name__ == expected


def test_vllm_int8_linear_matches_its_dequantized_reference():
    """vLLM's CPU int8 kernel on a quantized layer, against float math on the dequantized weight and the
    per-token int8 activations the kernel makes: equal within bf16 rounding of the output."""
    from vllm.model_executor.kernels.linear import init_int8_linear_kernel

    out_features, in_features = 512, 256  # tiny's w1 shape
    tensors = q.quantize_weight(random_weight(out_features, in_features), "w8a8")
    layer = torch.nn.Module()
    for name in ("weight", "weight_scale"):
        layer.register_parameter(name, torch.nn.Parameter(tensors[name], requires_grad=False))
    for name in ("input_scale", "input_zero_point", "azp_adj", "bias"):
        layer.register_parameter(name, None)
    layer.logical_widths = [out_features]
    x = torch.randn(4, in_features, generator=torch.Generator().manual_seed(2)).to(torch.bfloat16)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.bfloat16)  # the kernel's output dtype, as in a bf16 engine
    try:
        kernel = init_int8_linear_kernel(is_channelwise=True, is_static_input_scheme=False, input_symmetric=True,
                                         module_name="test")
        kernel.process_weights_after_loading(layer)
        y = kernel.apply_weights(layer, x, None)
    finally:
        torch.set_default_dtype(default)
    xf = x.float()
    x_scale = xf.abs().amax(dim=1, keepdim=True) / 127
    x_int8 = torch.round(xf / x_scale).clamp(-127, 127) * x_scale
    reference = x_int8 @ q.dequantize(tensors, "w8a8").T
    assert y.shape == reference.shape
    assert (y.float() - reference).abs().max() <= BF16_STEP * reference.abs().max()


# ---- the checkpoint ----

def lfm2_checkpoint(path: Path, shards: int = 1) -> dict[str, torch.Tensor]:
    """A 2-layer LFM2-named checkpoint in float32 (one conv layer, one attention layer)."""
    g = torch.Generator().manual_seed(3)
    h, f = 256, 512
    tensors = {"model.embed_tokens.weight": torch.randn(1024, h, generator=g),
               "model.embedding_norm.weight": torch.ones(h),
               "model.layers.0.conv.conv.weight": torch.randn(h, 1, 3, generator=g),
               "model.layers.0.conv.in_proj.weight": torch.randn(3 * h, h, generator=g),
               "model.layers.0.conv.out_proj.weight": torch.randn(h, h, generator=g),
               "model.layers.1.self_attn.q_proj.weight": torch.randn(h, h, generator=g),
               "model.layers.1.self_attn.k_proj.weight": torch.randn(128, h, generator=g),
               "model.layers.1.self_attn.v_proj.weight": torch.randn(128, h, generator=g),
               "model.layers.1.self_attn.out_proj.weight": torch.randn(h, h, generator=g),
               "model.layers.1.self_attn.q_layernorm.weight": torch.ones(64)}
    for i in range(2):
        tensors |= {f"model.layers.{i}.feed_forward.w1.weight": torch.randn(f, h, generator=g),
                    f"model.layers.{i}.feed_forward.w3.weight": torch.randn(f, h, generator=g),
                    f"model.layers.{i}.feed_forward.w2.weight": torch.randn(h, f, generator=g),
                    f"model.layers.{i}.operator_norm.weight": torch.ones(h)}
    path.mkdir(parents=True)
    names = sorted(tensors)
    if shards == 1:
        save_file(tensors, str(path / "model.safetensors"))
    else:
        weight_map = {}
        for i in range(shards):
            part = names[i::shards]
            save_file({n: tensors[n] for n in part}, str(path / f"model-{i + 1}-of-{shards}.safetensors"))
            weight_map |= dict.fromkeys(part, f"model-{i + 1}-of-{shards}.safetensors")
        (path / "model.safetensors.index.json").write_text(json.dumps({"weight_map": weight_map}))
    (path / "config.json").write_text(json.dumps({"model_type": "lfm2", "dtype": "float32",
                                                  "tie_word_embeddings": True}))
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"):
        (path / name).write_text("{}")
    return tensors


def read_all(path: Path) -> dict[str, torch.Tensor]:
    out = {}
    for shard in q.source_shards(path):
        with safe_open(str(shard), framework="pt") as reader:
            out |= {name: reader.get_tensor(name) for name in reader.keys()}  # noqa: SIM118
    return out


@pytest.mark.parametrize("scheme", q.SCHEMES)
def test_checkpoint_quantizes_the_projections_only(tmp_path, scheme):
    source = lfm2_checkpoint(tmp_path / "src")
    report = q.quantize_checkpoint(tmp_path / "src", tmp_path / "dst", scheme)
    assert report.quantized == 12 and report.kept == 6
    out = read_all(tmp_path / "dst")
    for name, weight in source.items():
        layer = name.removesuffix(".weight")
        if q.QUANTIZED.match(name):
            assert (name in out) == (scheme == "w8a8")  # w8a8 keeps the name, as int8
            parts = {k.removeprefix(layer + "."): v for k, v in out.items() if k.startswith(layer + ".")}
            assert set(parts) == ({"weight", "weight_scale"} if scheme == "w8a8"
                                  else {"weight_packed", "weight_scale", "weight_shape"})
            if scheme == "w8a8":
                assert parts["weight"].dtype == torch.int8 and parts["weight_scale"].dtype == torch.float32
            else:
                assert parts["weight_scale"].dtype == torch.bfloat16
            # the stored scales are bf16 for w4a16, so allow a bf16 step on top of half a quantization step
            step = weight.abs().amax() / (127 if scheme == "w8a8" else 7)
            assert (q.dequantize(parts, scheme) - weight).abs().max() <= step * (0.5 + BF16_STEP) + 1e-6
        else:  # kept, cast to bf16
            assert out[name].dtype == torch.bfloat16 and torch.equal(out[name], weight.to(torch.bfloat16))
    config = json.loads((tmp_path / "dst" / "config.json").read_text())
    assert config["quantization_config"] == q.quantization_config(scheme)
    assert config["dtype"] == "bfloat16" and config["tie_word_embeddings"] is True
    for name in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja", "generation_config.json"):
        assert (tmp_path / "dst" / name).exists()


def test_keep_dtype(tmp_path):
    lfm2_checkpoint(tmp_path / "src")
    q.quantize_checkpoint(tmp_path / "src", tmp_path / "dst", "w4a16", dtype="keep")
    out = read_all(tmp_path / "dst")
    assert out["model.embed_tokens.weight"].dtype == torch.float32
    assert out["model.layers.0.feed_forward.w2.weight_scale"].dtype == torch.float32
    assert json.loads((tmp_path / "dst" / "config.json").read_text())["dtype"] == "float32"


def test_sharded_in_and_out(tmp_path):
    source = lfm2_checkpoint(tmp_path / "src", shards=3)
    report = q.quantize_checkpoint(tmp_path / "src", tmp_path / "dst", "w8a8", shard_gib=0.5 / 1024)  # 512 KiB
    index = json.loads((tmp_path / "dst" / "model.safetensors.index.json").read_text())
    shards = sorted(set(index["weight_map"].values()))
    assert report.shards == len(shards) > 1
    assert not (tmp_path / "dst" / "model.safetensors").exists()
    for shard in shards:  # the limit holds except for a tensor that is bigger on its own (the embedding)
        with safe_open(str(tmp_path / "dst" / shard), framework="pt") as reader:
            sizes = [reader.get_slice(n).get_shape() for n in reader.keys()]  # noqa: SIM118
        assert len(sizes) == 1 or (tmp_path / "dst" / shard).stat().st_size <= 600 * 1024
    out = read_all(tmp_path / "dst")
    assert set(index["weight_map"]) == set(out)
    assert index["metadata"]["total_size"] == report.bytes_out
    assert len(out) == len(source) + 12  # each quantized weight became weight + weight_scale


def test_refuses_what_it_cannot_do(tmp_path):
    lfm2_checkpoint(tmp_path / "src")
    q.quantize_checkpoint(tmp_path / "src", tmp_path / "w8")
    with pytest.raises(SystemExit, match="already quantized"):
        q.quantize_checkpoint(tmp_path / "w8", tmp_path / "again")
    with pytest.raises(SystemExit, match="not empty"):
        q.quantize_checkpoint(tmp_path / "src", tmp_path / "w8")
    (tmp_path / "llama").mkdir()
    (tmp_path / "llama" / "config.json").write_text('{"model_type": "llama"}')
    with pytest.raises(SystemExit, match="not an LFM2"):
        q.quantize_checkpoint(tmp_path / "llama", tmp_path / "out")


def test_cli(tmp_path, capsys):
    lfm2_checkpoint(tmp_path / "src")
    q.main([str(tmp_path / "src"), str(tmp_path / "dst"), "--scheme", "w4a16"])
    assert "w4a16: 12 layers quantized" in capsys.readouterr().err
    config = json.loads((tmp_path / "dst" / "config.json").read_text())
    assert config["quantization_config"]["format"] == "pack-quantized"

