"""Lexer events -> OpenAI tool-call fragments, with the request's schemas applied.

Commit before you stream: a call's fragments are held until the call is known
to be good, then released together. A call is released when it closes (all
of it is then one fragment: index, id, type, name and arguments), or once
`release_after` characters of argument text are held for it (a long argument:
code, a document), after which its argument text goes out as it is read. The
index and id are given at release, so a call that fails while held leaves no
trace in the stream: the caller turns its text into content.

Arguments are JSON text: an argument whose value needs no coercion streams as
the lexer reads it (a long string value streams as it arrives); one that may
need coercion (numbers, constants, a type the schema does not expect, an
`enum`, items or properties the schema constrains) is held until complete,
converted, then sent whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import Enum, auto
from typing import Any

from ._deltas import ARGUMENTS, HEADER, Fragment
from ._events import ValueKind
from ._schema import ToolIndex, ToolSchema, ValueSchema, coerce
from ._types import DEFAULT_RELEASE_AFTER, CallOutcome, Outcome

_STREAMABLE = {ValueKind.STRING: "string", ValueKind.ARRAY: "array", ValueKind.OBJECT: "object"}


class ArgMode(Enum):
    NONE = auto()  # between arguments
    STREAM = auto()
    BUFFER = auto()


class CallAssembler:
    """A `CallSink` writing fragments to `out`. With `require_known`, calls to
    tools that were not offered are rejected (used for marker-less lists).
    `release_after` is the hold threshold (0: a call is released at `name(`)."""

    def __init__(
        self,
        tools: ToolIndex,
        id_factory: Callable[[], str],
        out: list[Fragment],
        *,
        require_known: bool = False,
        release_after: int = DEFAULT_RELEASE_AFTER,
    ) -> None:
        self.tools = tools
        self.out = out
        self.outcomes: list[CallOutcome] = []
        self.failed_indices: list[int] = []
        self.block_calls: list[tuple[str, str]] = []
        self._id_factory = id_factory
        self._require_known = require_known
        self._release_after = release_after
        self._next_index = 0
        self._open_call = False
        self._released = False
        self._held = 0  # characters of argument text held for the open call
        self._index = -1  # the released call's index
        self._name = ""
        self._schema: ToolSchema | None = None
        self._changed = False
        self._args = 0
        self._args_text: list[str] = []
        self._mode = ArgMode.NONE
        self._prefix = ""
        self._value_started = False  # the open argument's prefix went out
        self._param: ValueSchema | None = None
        self._buffer: list[str] = []

    @property
    def call_open(self) -> bool:
        return self._open_call

    def begin_block(self) -> None:
        self.block_calls = []

    # ------------------------------------------------------------ CallSink

    def call_begin(self, name: str) -> bool:
        schema = self.tools.get(name)
        if schema is None and self._require_known:
            return False
        self._open(name, schema)
        return True

    def arg_begin(self, key: str | None, kind: ValueKind) -> bool:
        if key is None:
            if self._schema is None or self._args >= len(self._schema.order):
                return False
            key = self._schema.order[self._args]
            self._changed = True
        self._param = self._schema.param(key) if self._schema else None
        self._prefix = ("{" if self._args == 0 else ", ") + json.dumps(key, ensure_ascii=False) + ": "
        self._value_started = False
        streamable = _STREAMABLE.get(kind)
        if streamable is not None and (self._param is None or self._param.streams(streamable)):
            self._mode = ArgMode.STREAM
        else:
            self._mode = ArgMode.BUFFER
            self._buffer = []
        return True

    def arg_text(self, text: str) -> None:
        if self._mode is not ArgMode.STREAM:
            self._buffer.append(text)
        elif self._value_started:
            self._send(text)
        else:  # the key goes out with the value's first text
            self._value_started = True
            self._send(self._prefix + text)

    def arg_end(self, raw_number: str | None) -> None:
        if self._mode is ArgMode.BUFFER:
            text = "".join(self._buffer)
            if self._param is not None:
                value, changed = coerce(json.loads(text), self._param, raw_number)
                if changed:
                    text = json.dumps(value, ensure_ascii=False)
                    self._changed = True
            self._send(self._prefix + text)
        self._mode = ArgMode.NONE
        self._args += 1

    def call_end(self) -> None:
        self._send("}" if self._args else "{}")
        self._close()

    def json_call(self, name: str, arguments: dict[str, Any]) -> bool:
        schema = self.tools.get(name)
        if schema is None and self._require_known:
            return False
        self._open(name, schema)
        if schema is not None:
            arguments = dict(arguments)
            for key, value in arguments.items():
                param = schema.param(key)
                if param is not None:
                    arguments[key], changed = coerce(value, param)
                    self._changed |= changed
        self._send(json.dumps(arguments, ensure_ascii=False))
        self._close()
        return True

    # ------------------------------------------------------------- failures

    def abort(self, open_value_suffix: str) -> None:
        """The open call turned out malformed; count it as failed. A call still
        held was never sent: it is dropped. A released one cannot be retracted:
        its arguments are closed so the streamed fragments form a JSON object."""
        if self._released:
            opened = self._mode is ArgMode.STREAM and self._value_started
            closing = open_value_suffix if opened else ""
            self._send(closing + ("}" if self._args or opened else "{}"))
            self.failed_indices.append(self._index)
        self.outcomes.append(CallOutcome(self._name, "failed"))
        self._open_call = False
        self._mode = ArgMode.NONE

    def record_failure(self, name: str | None = None) -> None:
        self.outcomes.append(CallOutcome(name, "failed"))

    # -------------------------------------------------------------- helpers

    def _open(self, name: str, schema: ToolSchema | None) -> None:
        self._open_call = True
        self._released = False
        self._held = 0
        self._name = name
        self._schema = schema
        self._changed = False
        self._args = 0
        self._args_text = []
        self._mode = ArgMode.NONE
        if self._release_after <= 0:
            self._release()

    def _release(self) -> None:
        """The call's fragments go out: header and the argument text held so far."""
        self._released = True
        self._index = self._next_index
        self._next_index += 1
        self.out.append((HEADER, self._index, self._id_factory(), self._name))
        if self._args_text:
            self.out.append((ARGUMENTS, self._index, "".join(self._args_text), ""))

    def _send(self, text: str) -> None:
        self._args_text.append(text)
        if self._released:
            self.out.append((ARGUMENTS, self._index, text, ""))
            return
        self._held += len(text)
        if self._held >= self._release_after:
            self._release()

    def _close(self) -> None:
        if not self._released:
            self._release()
        outcome: Outcome
        if self.tools and self._schema is None:
            outcome = "unknown_tool"
        elif self._changed:
            outcome = "repaired"
        else:
            outcome = "parsed"
        self.outcomes.append(CallOutcome(self._name, outcome))
        self.block_calls.append((self._name, "".join(self._args_text)))
        self._open_call = False
