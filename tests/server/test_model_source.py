"""Which checkpoint the gateway serves, and the offline fallback to `tiny`."""

from __future__ import annotations

import json

import pytest

from server.checkpoints import model_source
from server.checkpoints.model_source import default_max_model_len, resolve
from server.settings import DEFAULT_MODEL, Settings


@pytest.fixture
def offline(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "empty-cache"))
    monkeypatch.setattr(model_source, "_reachable", lambda url, timeout=3.0: False)
    monkeypatch.setattr(model_source, "ensure_tiny_model", lambda target=None: _fake_tiny(tmp_path))


def _fake_tiny(tmp_path):
    path = tmp_path / "tiny"
    path.mkdir(exist_ok=True)
    (path / "config.json").write_text(json.dumps({"max_position_embeddings": 8192}))
    return path


def test_default_model_falls_back_to_tiny_when_offline(offline, caplog):
    source = resolve(Settings(model=DEFAULT_MODEL))
    assert source.fallback
    assert source.path.endswith("tiny")
    assert "serving the built-in 'tiny' LFM2" in caplog.text


def test_named_model_never_falls_back(offline):
    with pytest.raises(SystemExit, match="could not be downloaded"):
        resolve(Settings(model="someone/other-model"))


def test_fallback_can_be_turned_off(offline):
    with pytest.raises(SystemExit):
        resolve(Settings(model=DEFAULT_MODEL, offline_fallback=False))


def test_local_directory(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 128000}))
    source = resolve(Settings(model=str(tmp_path)))
    assert source.path == str(tmp_path) and not source.fallback
    assert default_max_model_len(source, None) == 32768  # the cards' context, not config.json's
    assert default_max_model_len(source, 4096) == 4096


def test_max_model_len_never_exceeds_positions(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"max_position_embeddings": 8192}))
    assert default_max_model_len(resolve(Settings(model=str(tmp_path))), None) == 8192
