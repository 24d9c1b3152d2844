from __future__ import annotations

import pytest

from server.core.reasoning import ReasoningSplitter


def split(text: str, size: int) -> tuple[str, str]:
    s = ReasoningSplitter()
    reasoning, content = "", ""
    for i in range(0, len(text), size):
        r, c = s.feed(text[i:i + size])
        reasoning, content = reasoning + r, content + c
    r, c = s.close()
    return reasoning + r, content + c


@pytest.mark.parametrize("size", [1, 2, 3, 5, 100])
def test_think_block_is_reasoning_at_any_split(size):
    assert split("<think>step 1</think>\nThe answer", size) == ("step 1", "The answer")
    assert split("No thinking <think>here</think>", size) == ("", "No thinking <think>here</think>")
    assert split("<thi", size) == ("", "<thi")
    assert split("<think>cut off", size) == ("cut off", "")
    assert split("<think>a</thin", size) == ("a</thin", "")
