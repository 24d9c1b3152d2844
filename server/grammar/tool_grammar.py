"""The LFM2 call block as an xgrammar structural tag, built from the offered tools' JSON schemas.

vLLM's own `tool_choice: "required"` forces a generic JSON array the model was never trained on.
We force LFM2's own syntax instead:

    <|tool_call_start|>[get_weather(city="Paris", days=3), get_time()]<|tool_call_end|>

The markers are matched as the real special tokens (structural-tag `token` formats, by id: vLLM
checks a tag without its tokenizer), so the model writes the ids it was trained on; between them an
EBNF grammar allows only calls to the given tools, keyword arguments in schema order (required ones
always, optional ones maybe), each value as `value_grammar` spells it, `, ` between calls and
arguments and no other whitespace. After the end marker only end-of-sequence is allowed. A name
that `tool_parser` cannot read in call syntax (one starting with a digit, say) is written as a JSON
call object in the same list (`{"name": "1x", "arguments": {...}}`), which it also reads.

`forced_block` is for "required" and named choices; `at_most_one_block` is for `auto` with
`parallel_tool_calls: false`: free text, and once the model opens a block, one call and the end.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from server.grammar.value_grammar import Rules, ValueGrammar, ebnf_literal

TOOL_CALL_START = "<|tool_call_start|>"
TOOL_CALL_END = "<|tool_call_end|>"
Markers = tuple[int | str, int | str]  # the two markers' token ids; text where the vocabulary lacks them
_PYTHON_NAME = re.compile(r"[^\W\d][\w.\-]*")  # what tool_parser reads as a call or keyword name


def call_list_grammar(tools: Sequence[Mapping[str, Any]], *, only: str | None = None, single: bool = False
                      ) -> str:
    """EBNF for `[call, call, ...]` (one call when `single`) over `tools`, or just `only`."""
    rules = Rules()
    calls = []
    for tool in tools:
        function = tool.get("function", tool)
        if only is None or function.get("name") == only:
            calls.append(_call(rules, function))
    call = calls[0] if len(calls) == 1 else rules.add(" | ".join(calls))
    root = f'"[" {call} "]"' if single else f'"[" {call} (", " {call})* "]"'
    return rules.text(root)


def forced_block(tools: Sequence[Mapping[str, Any]], markers: Markers, *, only: str | None = None,
                 single: bool = False) -> dict[str, Any]:
    """Structural tag: the answer is exactly one call block."""
    grammar = call_list_grammar(tools, only=only, single=single)
    return {"type": "structural_tag", "format": _block(grammar, markers)}


def at_most_one_block(tools: Sequence[Mapping[str, Any]], markers: Markers) -> dict[str, Any]:
    """Structural tag: free text; a block, if the model opens one, holds one call and ends the answer.
    Needs the markers as token ids (the trigger is a token)."""
    return {"type": "structural_tag", "format": {
        "type": "token_triggered_tags",
        "trigger_tokens": [markers[0]],
        "tags": [_block(call_list_grammar(tools, single=True), markers)],
        "at_least_one": False,
        "stop_after_first": True,
    }}


def _block(grammar: str, markers: Markers) -> dict[str, Any]:
    start, end = markers
    return {
        "type": "tag",
        "begin": {"type": "token", "token": start} if isinstance(start, int) else start,
        "content": {"type": "grammar", "grammar": grammar},
        "end": {"type": "token", "token": end} if isinstance(end, int) else end,
    }


def _call(rules: Rules, function: Mapping[str, Any]) -> str:
    name = str(function.get("name", ""))
    parameters = function.get("parameters")
    # No parameters (or `{}`) is a function without arguments, as OpenAI reads it.
    schema = parameters if isinstance(parameters, Mapping) and parameters else {"properties": {}}
    values = ValueGrammar(rules, schema)
    properties = schema.get("properties")
    keys = list(properties) if isinstance(properties, Mapping) else []
    if _PYTHON_NAME.fullmatch(name) and all(_PYTHON_NAME.fullmatch(str(k)) for k in keys):
        free = values.free_members(schema, "ident", "=")
        members = free if free is not None else values.object_members(schema, lambda k: ebnf_literal(f"{k}="))
        return rules.add(f"{ebnf_literal(name + '(')} {members} \")\"")
    arguments = values.value({**schema, "type": "object"})
    head = ebnf_literal('{"name": ' + json.dumps(name, ensure_ascii=False) + ', "arguments": ')
    return rules.add(f'{head} {arguments} "}}"')
