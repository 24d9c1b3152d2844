"""Call lists written without a start marker, held until they resolve.

Two LFM2 quirks put a call list where plain text is expected:

* special tokens stripped: the whole (or leading) output is `[f(x=1)]`. It is
  a call only when every name is an offered tool.
* the echo: after `<|tool_call_end|>` the model repeats the call body, often
  capped by a second `<|tool_call_end|>`. A list whose calls equal the
  previous block's is dropped; a different list of offered tools is taken as
  a block that lost its start marker; anything else is content.

A probe runs the normal lexer with a dry assembler (same schema decisions, no
output) and records the events, so committing replays them instead of
re-reading the text.
"""

from __future__ import annotations

from typing import Any

from ._assembler import CallAssembler
from ._events import CallSink, LexState, ValueKind
from ._lexer import CallLexer
from ._schema import ToolIndex

Event = tuple[str, tuple[Any, ...]]


class RecordingSink:
    """Forwards events to a dry assembler and records the accepted ones."""

    def __init__(self, dry: CallAssembler) -> None:
        self.dry = dry
        self.events: list[Event] = []

    def call_begin(self, name: str) -> bool:
        return self._record("call_begin", self.dry.call_begin(name), name)

    def arg_begin(self, key: str | None, kind: ValueKind) -> bool:
        return self._record("arg_begin", self.dry.arg_begin(key, kind), key, kind)

    def arg_text(self, text: str) -> None:
        self.dry.arg_text(text)
        self.events.append(("arg_text", (text,)))

    def arg_end(self, raw_number: str | None) -> None:
        self.dry.arg_end(raw_number)
        self.events.append(("arg_end", (raw_number,)))

    def call_end(self) -> None:
        self.dry.call_end()
        self.events.append(("call_end", ()))

    def json_call(self, name: str, arguments: dict[str, Any]) -> bool:
        return self._record("json_call", self.dry.json_call(name, arguments), name, arguments)

    def _record(self, event: str, accepted: bool, *args: Any) -> bool:
        if accepted:
            self.events.append((event, args))
        return accepted

    def replay(self, sink: CallSink) -> None:
        for event, args in self.events:
            getattr(sink, event)(*args)


class Probe:
    """One held, marker-less call list; `prefix` is the whitespace before it."""

    def __init__(self, tools: ToolIndex, *, echo: bool, prefix: str) -> None:
        self.echo = echo
        self.prefix = prefix
        self.recorder = RecordingSink(CallAssembler(tools, str, [], require_known=not echo))
        self.lexer = CallLexer(self.recorder, keep_raw=True)

    @property
    def failed(self) -> bool:
        return self.lexer.state is LexState.FAILED

    @property
    def done(self) -> bool:
        return self.lexer.state is LexState.DONE

    def held_text(self) -> str:
        return self.prefix + self.lexer.raw_text()

    def calls(self) -> list[tuple[str, str]]:
        return self.recorder.dry.block_calls
