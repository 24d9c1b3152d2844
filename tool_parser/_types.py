"""Small value types shared by the parser stages and the public API."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, Literal

TOOL_CALL_START: Final = "<|tool_call_start|>"
TOOL_CALL_END: Final = "<|tool_call_end|>"

# A call's fragments are held until it closes or this many characters of its
# argument text are held (`StreamParser(release_after=...)`); 0 streams at `name(`.
DEFAULT_RELEASE_AFTER: Final = 256

Outcome = Literal["parsed", "repaired", "failed", "unknown_tool"]

# A streamed OpenAI `delta` object: {"content": str} or {"tool_calls": [...]}.
Delta = dict[str, Any]
ToolCallDict = dict[str, Any]


@dataclass(frozen=True)
class CallOutcome:
    """What became of one call the model wrote, for the server's metrics.

    `parsed`: reported as written. `repaired`: reported after schema coercion or
    positional-argument mapping changed something. `failed`: the call text did
    not parse and was emitted as content. `unknown_tool`: tools were offered and
    this name is not among them; still reported as written.
    """

    name: str | None
    outcome: Outcome


@dataclass(frozen=True)
class ParseResult:
    """The final message: what `parse()` returns."""

    content: str | None
    tool_calls: list[ToolCallDict] = field(default_factory=list)
    outcomes: list[CallOutcome] = field(default_factory=list)
