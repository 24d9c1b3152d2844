"""The vLLM adapter against vLLM's own types (skipped where vLLM is absent)."""

from __future__ import annotations

import json
from typing import Any

import pytest

pytest.importorskip("vllm")

from vllm.entrypoints.openai.chat_completion.protocol import ChatCompletionRequest
from vllm.tool_parsers import ToolParserManager

from tool_parser import TOOL_CALL_END as E
from tool_parser import TOOL_CALL_START as S
from tool_parser import vllm_plugin

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            },
        },
    }
]


def make_request(tools: Any = TOOLS, tool_choice: str = "auto") -> ChatCompletionRequest:
    return ChatCompletionRequest(
        model="lfm2",
        messages=[{"role": "user", "content": "weather?"}],
        tools=tools,
        tool_choice=tool_choice,
    )


def make_parser(request: ChatCompletionRequest) -> Any:
    cls = ToolParserManager.get_tool_parser("lfm2-stream")
    return cls(object(), request.tools)  # the parser never touches the tokenizer


def test_registered_under_its_name() -> None:
    assert ToolParserManager.get_tool_parser(vllm_plugin.PARSER_NAME) is vllm_plugin.Lfm2StreamToolParser
    vllm_plugin.register()  # idempotent
    assert ToolParserManager.get_tool_parser("lfm2-stream") is vllm_plugin.Lfm2StreamToolParser


def test_loading_by_file_path_registers() -> None:
    ToolParserManager.tool_parsers.pop("lfm2-stream", None)
    try:
        ToolParserManager.import_tool_parser(vllm_plugin.__file__)
        assert ToolParserManager.get_tool_parser("lfm2-stream").__name__ == "Lfm2StreamToolParser"
    finally:
        vllm_plugin.register()


def test_adjust_request_keeps_special_tokens() -> None:
    request = make_request()
    assert request.skip_special_tokens is True
    adjusted = make_parser(request).adjust_request(request)
    assert adjusted.skip_special_tokens is False
    assert adjusted.structured_outputs is None  # no forced JSON format


def test_adjust_request_without_tools_is_untouched() -> None:
    request = make_request(tools=None, tool_choice="none")
    assert make_parser(request).adjust_request(request).skip_special_tokens is True


def test_extract_tool_calls() -> None:
    request = make_request()
    parser = make_parser(request)
    info = parser.extract_tool_calls(
        f'Checking. {S}[get_weather(city="Paris", days="2"), get_weather("Rome")]{E}', request
    )
    assert info.tools_called is True
    assert info.content == "Checking. "
    assert [(c.function.name, json.loads(c.function.arguments)) for c in info.tool_calls] == [
        ("get_weather", {"city": "Paris", "days": 2}),
        ("get_weather", {"city": "Rome"}),
    ]
    assert all(c.id.startswith("call_") and c.type == "function" for c in info.tool_calls)


def test_extract_tool_calls_without_calls() -> None:
    request = make_request()
    info = make_parser(request).extract_tool_calls("Just text.", request)
    assert info.tools_called is False and info.tool_calls == [] and info.content == "Just text."


def test_streaming_in_token_sized_deltas() -> None:
    request = make_request()
    parser = make_parser(request)
    text = f'Sure.{S}[get_weather(city="Paris", days=3)]{E}[get_weather(city="Paris", days=3)]{E} Done <|tool'
    previous = ""
    messages = []
    for i in range(0, len(text), 3):
        delta = text[i : i + 3]
        messages.append(parser.extract_tool_calls_streaming(previous, previous + delta, delta, [], [], [], request))
        previous += delta
    messages.append(parser.finish_streaming())
    messages = [m for m in messages if m is not None]
    content = "".join(m.content or "" for m in messages)
    assert content == "Sure. Done <|tool"
    fragments = [tc for m in messages for tc in m.tool_calls]
    assert {tc.index for tc in fragments} == {0}
    assert [tc.function.name for tc in fragments if tc.function and tc.function.name] == ["get_weather"]
    assert sum(tc.id is not None for tc in fragments) == 1
    assert fragments[0].id is not None and fragments[0].type == "function"
    arguments = "".join(tc.function.arguments or "" for tc in fragments if tc.function)
    assert json.loads(arguments) == {"city": "Paris", "days": 3}
    assert [(o.name, o.outcome) for o in parser.outcomes] == [("get_weather", "parsed")]


def test_finish_streaming_turns_an_unfinished_short_call_into_content() -> None:
    request = make_request()
    parser = make_parser(request)
    first = parser.extract_tool_calls_streaming("", "", f'{S}[get_weather(city="Par', [], [], [], request)
    assert first is None  # a short call is held until it closes
    last = parser.finish_streaming()
    assert last is not None and last.content == '[get_weather(city="Par' and last.tool_calls == []
    assert [(o.name, o.outcome) for o in parser.outcomes] == [("get_weather", "failed")]


def test_release_after_zero_streams_from_the_name() -> None:
    class Legacy(vllm_plugin.Lfm2StreamToolParser):
        release_after = 0

    request = make_request()
    parser = Legacy(object(), request.tools)
    first = parser.extract_tool_calls_streaming("", "", f'{S}[get_weather(city="Par', [], [], [], request)
    assert first is not None and first.tool_calls[0].function.name == "get_weather"
    last = parser.finish_streaming()
    assert last is not None and last.content == '[get_weather(city="Par'
    assert last.tool_calls[0].function.arguments == '"}'
    assert [(o.name, o.outcome) for o in parser.outcomes] == [("get_weather", "failed")]


def test_finish_streaming_before_any_delta() -> None:
    request = make_request()
    assert make_parser(request).finish_streaming() is None


def test_through_vllms_composed_parser() -> None:
    """vLLM's own Parser drives the plugin and calls finish_streaming() at the end."""
    from vllm.parser.parser_manager import ParserManager

    parser_cls = ParserManager.get_parser(tool_parser_name="lfm2-stream", enable_auto_tools=True)
    assert parser_cls is not None
    request = make_request()
    text = f'Hi {S}[get_weather(city="Paris")]{E} bye <|tool_c'
    chunks = [text[i : i + 3] for i in range(0, len(text), 3)]
    streaming = parser_cls(object(), request.tools)
    messages = [
        streaming.parse_delta(chunk, [1], request, [1], finished=i == len(chunks) - 1) for i, chunk in enumerate(chunks)
    ]
    messages = [m for m in messages if m is not None]
    assert "".join(m.content or "" for m in messages) == "Hi  bye <|tool_c"
    arguments = "".join(tc.function.arguments or "" for m in messages for tc in m.tool_calls if tc.function)
    assert json.loads(arguments) == {"city": "Paris"}

    whole = parser_cls(object(), request.tools)
    _, content, calls = whole.parse(text, request, enable_auto_tools=True)
    assert content == "Hi  bye <|tool_c"
    assert calls is not None and [(c.name, json.loads(c.arguments)) for c in calls] == [
        ("get_weather", {"city": "Paris"})
    ]
