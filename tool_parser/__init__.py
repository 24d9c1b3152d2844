"""Parse LFM2 tool calls into OpenAI tool calls, streaming or not.

LFM2 writes calls as Python-like call lists between two markers::

    <|tool_call_start|>[get_weather(city="Paris", unit="celsius"), get_time()]<|tool_call_end|>

API::

    out = parse(text, tools=None)          # ParseResult(content, tool_calls, outcomes)
    p = StreamParser(tools=None, id_factory=None, release_after=DEFAULT_RELEASE_AFTER)
    deltas = p.feed(text_delta)            # OpenAI `delta` dicts
    deltas += p.close()                    # end of generation
    p.outcomes                             # [CallOutcome(name, outcome)]
    render(tool_calls) -> str              # OpenAI tool_calls -> LFM2 markup
    render_value(value) -> str             # one argument value as LFM2 writes it

Spec, as an equivalence: `parse(text)` is `feed(text)` + `close()` folded into
one message, and every split of `text` into deltas folds to the same message.

Streaming contract: each tool-call fragment has `index` (dense from 0 over the
response); `id`, `type` and `name` come once, on a call's first fragment; the
`arguments` fragments of a call concatenate to a JSON object. Commit before
you stream: a call's fragments are released only once the call is known to be
good, when it closes and validates (then the whole call comes in one delta),
or, for a long argument, once `release_after` characters of its argument JSON
text are held (`DEFAULT_RELEASE_AFTER`, 256); after that its string values
stream as they arrive. So a short call is never sent unless it is right, and the stream
agrees with `parse()` on it whatever the split. `release_after=0` releases
every call at `name(` (the old stream). The hold is a list of fragments
released once; each character is still looked at once. Text that may be the
start of a marker is held (at most a marker's length) and released as content
once it cannot be one; marker text never reaches content.

Argument values are Python literals, read (never evaluated) as Python reads
them: strings with any quotes, `r`/`u` prefixes, triple quotes and implicit
concatenation (`"a" 'b'` is "ab"); ints (`07` is 7) and floats; True/False/
None and JSON's true/false/null; lists, tuples and sets (JSON arrays; `(x)`
is x), dicts with string or number keys. Anything else (f-strings, bytes,
names, operators) fails the call.

Policies (LFM2 quirks each have a named rule in the module that handles them):

* Failure (malformed or truncated call text, unknown syntax such as
  `"a" + "b"` or an f-string; nothing is ever evaluated): the call text is
  content, the outcome is "failed", and nothing is invented. The text from
  the failing call (from `[` if it is the block's first call) to the end of
  the block is emitted as content. A call that fails while it is held was
  never sent: it takes no index and no id, exactly as in `parse()`. A long
  call that fails after its release cannot be retracted: its arguments are
  closed so they still form a JSON object (an open string or container is
  closed, a value not yet sent is left out), its index is listed in `StreamParser.failed_indices`,
  and `parse()` leaves it out of `tool_calls`. A client that only reads the
  stream sees that call with truncated arguments *and* its text as content;
  the server says why in `finish_reason`.
* Truncation at end of generation: a call list whose calls are complete is
  parsed even without `<|tool_call_end|>` (or the closing `]`); an unfinished
  call fails as above at `close()`.
* Schema coercion (when `tools` are given), at every depth the schema
  describes (`items`, `properties`, inside `anyOf`/`oneOf` too): values that
  need no conversion stream; numbers, constants, values of a type the schema
  does not expect and values under an `enum` or an `items`/`properties`
  schema are held until complete, converted and sent whole: `"5"` -> 5 for
  an integer, `"true"` -> true, 7 -> "7" for a string, a string holding a
  JSON or Python literal -> the list or dict an `array`/`object` wants
  (`"['a', 'b']"` -> ["a", "b"]; read, never evaluated). A value outside an
  `enum` takes the one member spelled the same ignoring case and type
  (True -> "True", "Celsius" -> "celsius"); anything else passes unchanged.
  Positional arguments map to the schema's properties in order; without a
  schema they fail the call. A tool that was not offered is reported as
  written ("unknown_tool").
* JSON calls inside the markers (`[{"name": .., "arguments": {..}}]`) are
  read whole and sent in one fragment.
* Echo: a call list right after `<|tool_call_end|>` (whitespace allowed) is
  held; if its calls equal the block just reported it is dropped (the usual
  second `<|tool_call_end|>` is markup and dropped too). A different list
  whose names are all offered tools is taken as a block missing its start
  marker; anything else is released as content.
* Bare call list: with `tools` given, a list (or a single call or JSON call
  object) at the very start of the output is a call block when every name is
  an offered tool, else content.
* Whitespace between call markup and the end of the output is not content.

What is held back, besides a possible marker prefix and a call not yet
released: with `tools` offered, the first word of the output (until it cannot
start a call list), and after an end marker the next word or bracketed list
(until it cannot be an echo or a call list). Each is released as content as
soon as it is decided, or at `close()`. Inside a released call, what cannot be
sent yet waits: an escape until complete, the end of a string until what
follows cannot continue it (`"a" "b"`), and the inside of `(` until a comma
or `)` says whether it is a tuple.
"""

from ._parse import parse
from ._render import render, render_value
from ._stream import StreamParser
from ._types import DEFAULT_RELEASE_AFTER, TOOL_CALL_END, TOOL_CALL_START, CallOutcome, ParseResult

__all__ = [
    "DEFAULT_RELEASE_AFTER",
    "TOOL_CALL_END",
    "TOOL_CALL_START",
    "CallOutcome",
    "ParseResult",
    "StreamParser",
    "parse",
    "render",
    "render_value",
]
