"""Between the tool-call parser and the client: which calls are reported, under which index.

Most calls stream through as the parser writes them; their arguments are checked against the schema
when the answer ends, and a call that does not validate is still reported, with outcome `invalid`.
Two kinds of call are held until they are complete, because they may turn out not to be calls:

* a call to a `strict: true` function: reported only if its arguments validate; otherwise it is
  returned as text in `content` (LFM2 syntax, without markers) with outcome `rejected`, so a client
  that trusts strict schemas never receives arguments that break them;
* a call beyond `max_calls` (`parallel_tool_calls: false`, named tool_choice): returned as text in
  `content`, outcome `extra`.

A call's fragments are contiguous in the parser's output, so a held call is complete when anything
else arrives (or at the end); calls the parser gave up on (`failed_indices`) are dropped there, as
their text is already content. Reported calls are renumbered so indices stay dense from 0.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import tool_parser
from server.core.tool_validation import ArgumentValidator

Delta = dict[str, Any]


@dataclass(slots=True)
class _Call:
    id: str
    name: str
    arguments: list[str] = field(default_factory=list)
    out: int | None = None  # index reported to the client; None while held or when not reported
    held: bool = False


@dataclass(frozen=True, slots=True)
class Verdict:
    """An outcome the gate decided for one call, in the shape `metrics.count_tool_outcomes` reads."""

    name: str | None
    outcome: str


class CallGate:
    def __init__(self, validator: ArgumentValidator, max_calls: int | None = None) -> None:
        self._validator = validator
        self._max_calls = max_calls
        self._calls: dict[int, _Call] = {}  # by parser index
        self._current: int | None = None
        self._reported = 0
        self._verdicts: dict[int, str] = {}

    def feed(self, deltas: Iterable[Delta], failed: Iterable[int]) -> list[Delta]:
        failed = set(failed)
        out: list[Delta] = []
        for delta in deltas:
            fragments = delta.get("tool_calls")
            if not fragments:
                out += self._settle(failed)
                out.append(delta)
                continue
            for fragment in fragments:
                out += self._fragment(fragment, failed)
        return out

    def close(self, deltas: Iterable[Delta], failed: Iterable[int]) -> list[Delta]:
        failed = set(failed)
        out = self.feed(deltas, failed) + self._settle(failed)
        for index, call in self._calls.items():
            if call.out is not None and index not in failed and index not in self._verdicts \
                    and not self._validator.valid(call.name, "".join(call.arguments)):
                self._verdicts[index] = "invalid"
        return out

    def reported(self, failed: Iterable[int]) -> set[int]:
        """Client indices of reported calls that did not fail."""
        failed = set(failed)
        return {c.out for i, c in self._calls.items() if c.out is not None and i not in failed}

    def client_indices(self, parser_indices: Iterable[int]) -> set[int]:
        return {c.out for i in parser_indices if (c := self._calls.get(i)) is not None and c.out is not None}

    def outcomes(self, parsed: list[Any], failed: Iterable[int]) -> list[Any]:
        """The parser's outcomes with the gate's verdicts put in. The parser lists outcomes in call
        order; those that are not `failed` belong, in order, to its indices that did not fail."""
        completed = iter(sorted(i for i in self._calls if i not in set(failed)))
        merged: list[Any] = []
        for item in parsed:
            if item.outcome != "failed":
                verdict = self._verdicts.get(next(completed, -1))
                if verdict is not None:
                    item = Verdict(item.name, verdict)
            merged.append(item)
        return merged

    # ----------------------------------------------------------------- calls

    def _fragment(self, fragment: Delta, failed: set[int]) -> list[Delta]:
        index = fragment["index"]
        function = fragment.get("function", {})
        out: list[Delta] = []
        if index != self._current:
            out += self._settle(failed)
            call = _Call(fragment.get("id", ""), function.get("name", ""))
            call.held = self._validator.strict(call.name) or (
                self._max_calls is not None and self._reported >= self._max_calls)
            self._calls[index] = call
            self._current = index
            if not call.held:
                call.out = self._next_out()
        call = self._calls[index]
        call.arguments.append(function.get("arguments", ""))
        if not call.held:
            out.append({"tool_calls": [{**fragment, "index": call.out}]})
        return out

    def _settle(self, failed: set[int]) -> list[Delta]:
        """The current call is complete: release or turn into text a held one."""
        index, self._current = self._current, None
        if index is None or not self._calls[index].held or index in failed:
            return []
        call = self._calls[index]
        arguments = "".join(call.arguments)
        if self._max_calls is not None and self._reported >= self._max_calls:
            self._verdicts[index] = "extra"
            return [{"content": _as_text(call.name, arguments)}]
        if not self._validator.valid(call.name, arguments):
            self._verdicts[index] = "rejected"
            return [{"content": _as_text(call.name, arguments)}]
        call.out = self._next_out()
        header = {"index": call.out, "id": call.id, "type": "function",
                  "function": {"name": call.name, "arguments": arguments}}
        return [{"tool_calls": [header]}]

    def _next_out(self) -> int:
        self._reported += 1
        return self._reported - 1


def _as_text(name: str, arguments: str) -> str:
    """A withheld call as LFM2 writes it, markers left out (they are never content)."""
    text = tool_parser.render([{"function": {"name": name, "arguments": arguments}}])
    return text.removeprefix(tool_parser.TOOL_CALL_START).removesuffix(tool_parser.TOOL_CALL_END)
