"""StreamParser: LFM2 output deltas in, OpenAI `delta` dicts out.

Pipeline: `MarkerSplitter` (text vs. markers) -> per-mode handling here ->
`CallLexer` (call syntax) -> `CallAssembler` (schemas, fragments) ->
`build_deltas`. The mode is the only state this module keeps besides a few
held characters; nothing already consumed is scanned again.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterable
from enum import Enum, auto

from ._assembler import CallAssembler
from ._deltas import CONTENT, Fragment, build_deltas
from ._events import LexState
from ._lexer import CallLexer
from ._markers import Marker, MarkerSplitter
from ._probe import Probe
from ._schema import ToolIndex
from ._types import DEFAULT_RELEASE_AFTER, CallOutcome, Delta
from ._value_lexer import is_name_start


class Mode(Enum):
    LEADING = auto()  # only whitespace so far, tools offered: '[' may be a bare call list
    CONTENT = auto()  # plain text
    BLOCK = auto()  # after a start marker, the lexer reads the call list
    BLOCK_TAIL = auto()  # after the list's ']' inside the block
    BLOCK_FAILED = auto()  # the call text failed; the rest of the block is content
    AFTER_END = auto()  # after an end marker: whitespace held, '[' may be an echo
    PROBE = auto()  # holding a marker-less call list until it resolves


_IN_BLOCK = frozenset({Mode.BLOCK, Mode.BLOCK_TAIL, Mode.BLOCK_FAILED})


def new_call_id() -> str:
    return "call_" + secrets.token_hex(12)


class StreamParser:
    """Incremental LFM2 tool-call parser; see the package docstring for the contract.

    `release_after`: a call is held until it closes or this many characters of
    its argument text are held; 0 streams every call from `name(` on.
    """

    def __init__(
        self,
        tools: Iterable[object] | None = None,
        id_factory: Callable[[], str] | None = None,
        *,
        release_after: int = DEFAULT_RELEASE_AFTER,
    ) -> None:
        if release_after < 0:
            raise ValueError(f"release_after must be >= 0, got {release_after}")
        self._tools = ToolIndex(tools)
        self._out: list[Fragment] = []
        self._calls = CallAssembler(
            self._tools, id_factory or new_call_id, self._out, release_after=release_after
        )
        self._splitter = MarkerSplitter()
        self._mode = Mode.LEADING if self._tools else Mode.CONTENT
        self._held: list[str] = []  # whitespace held in LEADING, AFTER_END, BLOCK_TAIL
        self._lexer = CallLexer(self._calls)
        self._probe: Probe | None = None
        self._last_block: list[tuple[str, str]] = []
        self._closed = False

    @property
    def outcomes(self) -> list[CallOutcome]:
        """One outcome per call the model wrote, in order."""
        return list(self._calls.outcomes)

    @property
    def failed_indices(self) -> list[int]:
        """Indices of calls released (streamed) before they failed; their text went to content."""
        return list(self._calls.failed_indices)

    def feed(self, text: str) -> list[Delta]:
        if self._closed:
            raise RuntimeError("StreamParser.feed() after close()")
        if self._mode is Mode.BLOCK and not self._splitter.held and "<" not in text:
            self._block_text(text)
        else:
            for piece in self._splitter.feed(text):
                if isinstance(piece, Marker):
                    self._on_marker(piece)
                else:
                    self._on_text(piece)
        return self._take()

    def close(self) -> list[Delta]:
        """End of generation: flush what is held; unfinished calls become content."""
        if self._closed:
            return []
        held = self._splitter.flush()
        if held:
            self._on_text(held)
        mode = self._mode
        if mode is Mode.LEADING:
            self._content("".join(self._held))
        elif mode is Mode.BLOCK:
            self._end_block()
        elif mode is Mode.PROBE:
            self._finish_probe()
        self._held = []
        self._closed = True
        return self._take()

    # ------------------------------------------------------------------ text

    def _on_text(self, text: str) -> None:
        mode = self._mode
        if mode is Mode.CONTENT or mode is Mode.BLOCK_FAILED:
            self._content(text)
        elif mode is Mode.BLOCK:
            self._block_text(text)
        elif mode is Mode.PROBE:
            self._probe_text(text)
        elif mode is Mode.BLOCK_TAIL:
            self._tail_text(text)
        else:
            self._leading_text(text)

    def _block_text(self, text: str) -> None:
        lexer = self._lexer
        pos = lexer.feed(text)
        if lexer.state is LexState.FAILED:
            self._fail_block(text[pos:])
        elif lexer.state is LexState.DONE:
            self._mode = Mode.BLOCK_TAIL
            if pos < len(text):
                self._tail_text(text[pos:])

    def _tail_text(self, text: str) -> None:
        """Text between ']' and the end marker is content, minus trailing whitespace."""
        stripped = text.rstrip()
        if stripped:
            self._content("".join(self._held) + stripped)
            self._held = []
        if len(stripped) < len(text):
            self._held.append(text[len(stripped) :])

    def _leading_text(self, text: str) -> None:
        """LEADING / AFTER_END: hold whitespace; a '[' starts a probe."""
        start = len(text) - len(text.lstrip())
        if start == len(text):
            self._held.append(text)
            return
        prefix = "".join(self._held) + text[:start]
        self._held = []
        if text[start] in "[{" or is_name_start(text[start]):
            self._probe = Probe(self._tools, echo=self._mode is Mode.AFTER_END, prefix=prefix)
            self._mode = Mode.PROBE
            self._probe_text(text[start:])
        else:
            self._mode = Mode.CONTENT
            self._content(prefix + text[start:])

    def _probe_text(self, text: str) -> None:
        probe = self._probe
        assert probe is not None
        pos = probe.lexer.feed(text)
        if probe.failed:
            self._release_probe(text[pos:])
        elif probe.done:
            self._resolve_probe()
            if pos < len(text):
                self._on_text(text[pos:])

    # --------------------------------------------------------------- markers

    def _on_marker(self, marker: Marker) -> None:
        mode = self._mode
        if mode is Mode.BLOCK:
            self._end_block()
        elif mode is Mode.PROBE:
            self._finish_probe()
        elif mode is Mode.LEADING or (mode is Mode.AFTER_END and marker is Marker.START):
            self._content("".join(self._held))
        if mode in _IN_BLOCK:
            self._last_block = self._calls.block_calls
        self._held = []
        if marker is Marker.START:
            self._lexer = CallLexer(self._calls)
            self._calls.begin_block()
            self._mode = Mode.BLOCK
        elif mode is not Mode.CONTENT and mode is not Mode.LEADING:
            self._mode = Mode.AFTER_END
        # A stray end marker in plain text is markup, not content: dropped.

    def _end_block(self) -> None:
        if not self._lexer.finish():
            self._fail_block("")

    def _fail_block(self, rest: str) -> None:
        """The call text is malformed: it becomes content. A call still held is
        dropped; one already released is closed and reported failed."""
        if self._calls.call_open:
            self._calls.abort(self._lexer.open_suffix())
        else:
            self._calls.record_failure()
        self._content(self._lexer.raw_text() + rest)
        self._mode = Mode.BLOCK_FAILED

    # ---------------------------------------------------------------- probes

    def _release_probe(self, rest: str) -> None:
        assert self._probe is not None
        self._content(self._probe.held_text() + rest)
        self._probe = None
        self._mode = Mode.CONTENT

    def _finish_probe(self) -> None:
        """A marker or the end of output interrupts a probe: resolve it if what
        was read is a complete call list, else it was text."""
        assert self._probe is not None
        if self._probe.lexer.finish():
            self._resolve_probe()
        else:
            self._release_probe("")

    def _resolve_probe(self) -> None:
        probe = self._probe
        assert probe is not None
        calls = probe.calls()
        if probe.echo and calls == self._last_block and calls:
            self._probe = None  # the echo of the block just reported
        elif calls and all(self._tools.get(name) for name, _ in calls):
            self._calls.begin_block()
            probe.recorder.replay(self._calls)
            self._last_block = self._calls.block_calls
            self._probe = None
        else:
            self._release_probe("")
            return
        self._mode = Mode.AFTER_END

    # ---------------------------------------------------------------- output

    def _content(self, text: str) -> None:
        if text:
            self._out.append((CONTENT, -1, text, ""))

    def _take(self) -> list[Delta]:
        if not self._out:
            return []
        deltas = build_deltas(self._out)
        self._out.clear()
        return deltas
