"""Lexer events -> OpenAI tool-call fragments, with the request's schemas applied.

A call's first fragment (index, id, type, name) goes out when `name(` is read.
Arguments go out as JSON text: an argument whose value needs no coercion
streams as the lexer reads it (a long string value streams as it arrives);
one that may need coercion (numbers, constants, or a type the schema does not
expect) is held until complete, converted, then sent whole.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from enum import Enum, auto
from typing import Any

from ._deltas import ARGUMENTS, HEADER, Fragment
from ._events import ValueKind
from ._schema import ToolIndex, ToolSchema, Types, coerce
from ._types import CallOutcome, Outcome

_STREAMABLE = {ValueKind.STRING: "string", ValueKind.ARRAY: "array", ValueKind.OBJECT: "object"}


class ArgMode(Enum):
    NONE = auto()  # between arguments
    STREAM = auto()
    BUFFER = auto()


class CallAssembler:
    """A `CallSink` writing fragments to `out`. With `require_known`, calls to
    tools that were not offered are rejected (used for marker-less lists)."""

    def __init__(
        self,
        tools: ToolIndex,
        id_factory: Callable[[], str],
        out: list[Fragment],
        *,
        require_known: bool = False,
    ) -> None:
        self.tools = tools
        self.out = out
        self.outcomes: list[CallOutcome] = []
        self.failed_indices: list[int] = []
        self.block_calls: list[tuple[str, str]] = []
        self._id_factory = id_factory
        self._require_known = require_known
        self._next_index = 0
        self._index = -1  # open call's index; -1 when none
        self._name = ""
        self._schema: ToolSchema | None = None
        self._changed = False
        self._args = 0
        self._args_text: list[str] = []
        self._mode = ArgMode.NONE
        self._prefix = ""
        self._types: Types | None = None
        self._buffer: list[str] = []

    @property
    def call_open(self) -> bool:
        return self._index >= 0

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
        self._types = self._schema.types_of(key) if self._schema else None
        self._prefix = ("{" if self._args == 0 else ", ") + json.dumps(key, ensure_ascii=False) + ": "
        streamable = _STREAMABLE.get(kind)
        if streamable is not None and (self._types is None or streamable in self._types):
            self._mode = ArgMode.STREAM
            self._send(self._prefix)
        else:
            self._mode = ArgMode.BUFFER
            self._buffer = []
        return True

    def arg_text(self, text: str) -> None:
        if self._mode is ArgMode.STREAM:
            self.out.append((ARGUMENTS, self._index, text, ""))
            self._args_text.append(text)
        else:
            self._buffer.append(text)

    def arg_end(self, raw_number: str | None) -> None:
        if self._mode is ArgMode.BUFFER:
            text = "".join(self._buffer)
            if self._types is not None:
                value, changed = coerce(json.loads(text), self._types, raw_number)
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
                types = schema.types_of(key)
                if types is not None:
                    arguments[key], changed = coerce(value, types)
                    self._changed |= changed
        self._send(json.dumps(arguments, ensure_ascii=False))
        self._close()
        return True

    # ------------------------------------------------------------- failures

    def abort(self, open_value_suffix: str) -> None:
        """The open call turned out malformed: close its arguments so the streamed
        fragments still form a JSON object, and count it as failed."""
        closing = open_value_suffix if self._mode is ArgMode.STREAM else ""
        self._send(closing + ("}" if self._args or self._mode is ArgMode.STREAM else "{}"))
        self.failed_indices.append(self._index)
        self.outcomes.append(CallOutcome(self._name, "failed"))
        self._index = -1
        self._mode = ArgMode.NONE

    def record_failure(self, name: str | None = None) -> None:
        self.outcomes.append(CallOutcome(name, "failed"))

    # -------------------------------------------------------------- helpers

    def _open(self, name: str, schema: ToolSchema | None) -> None:
        self._index = self._next_index
        self._next_index += 1
        self._name = name
        self._schema = schema
        self._changed = False
        self._args = 0
        self._args_text = []
        self._mode = ArgMode.NONE
        self.out.append((HEADER, self._index, self._id_factory(), name))

    def _send(self, text: str) -> None:
        self.out.append((ARGUMENTS, self._index, text, ""))
        self._args_text.append(text)

    def _close(self) -> None:
        outcome: Outcome
        if self.tools and self._schema is None:
            outcome = "unknown_tool"
        elif self._changed:
            outcome = "repaired"
        else:
            outcome = "parsed"
        self.outcomes.append(CallOutcome(self._name, outcome))
        self.block_calls.append((self._name, "".join(self._args_text)))
        self._index = -1
