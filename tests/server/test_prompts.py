"""Chat templates by flag: the gateway's own, the checkpoint's, or a Jinja file."""

from __future__ import annotations

import threading

import pytest

from server.checkpoints.tiny_model import ensure_tiny_model
from server.core import prompts
from server.core.prompts import encode, render_chat
from server.errors import InvalidRequest

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


def test_a_template_that_reads_every_content_renders_a_call_only_turn(tokenizer, tmp_path):
    """LFM2's original template prints `message["content"]` (as JSON when not a string) on every turn: an
    assistant turn of only `tool_calls` gets "" as vLLM hands it over, not an error or `null`."""
    from tests.integration.hub_snapshot import ORIGINAL_TEMPLATE

    path = tmp_path / "original.jinja"
    path.write_text(ORIGINAL_TEMPLATE)
    for messages in ([dict(m) for m in MESSAGES], [{k: v for k, v in m.items() if v is not None} for m in MESSAGES]):
        text = render_chat(str(path), tokenizer, messages, None)
        assert "<|im_start|>assistant\n<|im_end|>\n" in text
        assert "<|tool_call_start|>" not in text and "null" not in text


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


class ThreadRecordingTokenizer:
    def __init__(self) -> None:
        self.threads: list[str] = []

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        self.threads.append(threading.current_thread().name)
        return [len(text), int(add_special_tokens)]


async def test_long_prompts_are_tokenized_off_the_event_loop():
    """A long prompt's tokenization must not hold the loop that every other stream is served from."""
    tokenizer = ThreadRecordingTokenizer()
    short = "x" * (prompts.OFF_LOOP_CHARS - 1)
    long = "x" * prompts.OFF_LOOP_CHARS
    assert await prompts.encode_off_loop(tokenizer, short) == [len(short), 0]
    assert await prompts.encode_off_loop(tokenizer, long, add_special_tokens=True) == [len(long), 1]
    assert tokenizer.threads[0] == threading.current_thread().name
    assert tokenizer.threads[1].startswith("tokenize")
