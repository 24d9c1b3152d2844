"""Chat templates by flag: the gateway's own, the checkpoint's, or a Jinja file."""

from __future__ import annotations

import pytest

from server.errors import InvalidRequest
from server.prompts import encode, render_chat
from server.tiny_model import ensure_tiny_model

MESSAGES = [
    {"role": "user", "content": "hi"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a": 1}'}}]},
    {"role": "tool", "content": "done"},
]


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(ensure_tiny_model())


def test_model_template_renders_like_ours_on_our_checkpoint(tokenizer):
    ours = render_chat("lfm2", tokenizer, [dict(m) for m in MESSAGES], None)
    theirs = render_chat("model", tokenizer, [dict(m) for m in MESSAGES], None)
    assert theirs == ours
    assert "<|tool_call_start|>[f(a=1)]<|tool_call_end|>" in ours


def test_template_file(tokenizer, tmp_path):
    path = tmp_path / "plain.jinja"
    path.write_text("{% for m in messages %}[{{ m.role }}]{% endfor %}")
    assert render_chat(str(path), tokenizer, [dict(m) for m in MESSAGES], None) == "[user][assistant][tool]"


def test_broken_template_is_a_bad_request(tokenizer, tmp_path):
    path = tmp_path / "broken.jinja"
    path.write_text("{{ raise_exception('no tools here') }}")
    with pytest.raises(InvalidRequest, match="could not render"):
        render_chat(str(path), tokenizer, [dict(m) for m in MESSAGES], None)


def test_continue_final_message(tokenizer):
    messages = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "Hel"}]
    text = render_chat("lfm2", tokenizer, messages, None, continue_final_message=True)
    assert text.endswith("<|im_start|>assistant\nHel")


def test_special_tokens_encode_to_their_real_ids(tokenizer):
    ids = encode(tokenizer, render_chat("lfm2", tokenizer, [{"role": "user", "content": "x"}], None))
    assert ids[:2] == [1, 6]  # <|startoftext|>, <|im_start|>
    assert 7 in ids  # <|im_end|>
