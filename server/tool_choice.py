"""`tool_choice` "required" and named functions: constrain decoding to LFM2's own call syntax."""

from __future__ import annotations

from typing import Any

from server.protocol import ChatCompletionRequest


def forced_call_structure(req: ChatCompletionRequest) -> dict[str, Any] | None:
    """Structured-output fields that force a call, or None when the model chooses freely."""
    return None
