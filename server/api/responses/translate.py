"""A Responses request as the chat request the shared core runs: one pipeline, two wire formats.

- `instructions`, then the stored conversation (`previous_response_id`), then `input`, become chat
  messages. Instructions and the system/developer messages that open the conversation are joined into
  one system turn, the one LFM2 was trained with (tools go into it too).
- `item_reference` items are looked up among stored responses' output items (`lookup`).
- `function_call` items become an assistant message's `tool_calls` (joined to the assistant message
  before them); `function_call_output` items become `tool` messages, and each must answer a call made
  earlier in the conversation. `reasoning` items are dropped: LFM2's template leaves past thinking out.
- Function tools become chat tools; a `namespace` tool offers its functions under their own names;
  hosted tools (`web_search`, `file_search`, ...) cannot run here and are left out, with a warning in
  the log and in the request's log line.
- `text.format` becomes `response_format`, `max_output_tokens` `max_completion_tokens`; vLLM's sampling
  extensions pass through under their own names.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from server.api.validation import validation_error
from server.errors import InvalidRequest
from server.wire.protocol import ChatCompletionRequest
from server.wire.responses import (
    FunctionCallItem,
    FunctionCallOutputItem,
    FunctionChoice,
    FunctionTool,
    ItemReference,
    MessageItem,
    NamespaceTool,
    ReasoningItem,
    ResponsesRequest,
)

log = logging.getLogger(__name__)

# Sampling and decoding fields that mean the same on both APIs.
_PASSED_THROUGH = ("temperature", "top_p", "top_k", "min_p", "min_tokens", "repetition_penalty",
                   "presence_penalty", "frequency_penalty", "seed", "stop", "stop_token_ids", "ignore_eos",
                   "logit_bias", "skip_special_tokens", "structured_outputs", "chat_template_kwargs",
                   "priority", "parallel_tool_calls")


@dataclass
class Translation:
    chat: ChatCompletionRequest
    input_messages: list[dict[str, Any]]  # this request's input as chat messages (stored for chaining)
    input_items: list[dict[str, Any]]  # this request's input items, with ids (GET .../input_items)
    namespaces: dict[str, str] = field(default_factory=dict)  # function name -> its namespace
    ignored_tools: list[str] = field(default_factory=list)


def translate(req: ResponsesRequest, history: list[dict[str, Any]], new_id: Any,
              lookup: Callable[[str], dict[str, Any] | None] = lambda _: None) -> Translation:
    items = [MessageItem(role="user", content=req.input)] if isinstance(req.input, str) else \
        [_resolve(item, i, lookup) for i, item in enumerate(req.input)]
    known_calls = {c["id"] for m in history for c in m.get("tool_calls", ())}
    input_messages = _messages(items, known_calls)
    tools, namespaces, ignored = _tools(req)
    if ignored:
        log.warning("responses: tools of type %s cannot run on this server and were left out",
                    ", ".join(sorted(set(ignored))))
    body: dict[str, Any] = {
        "messages": _with_system(req.instructions, [*history, *input_messages]),
        "stream": req.stream,
    }
    if tools:
        body["tools"] = tools
    if req.tool_choice is not None:
        body["tool_choice"] = (req.tool_choice if isinstance(req.tool_choice, str)
                               else {"type": "function", "function": {"name": req.tool_choice.name}})
    if req.max_output_tokens is not None:
        body["max_completion_tokens"] = req.max_output_tokens
    if req.text is not None and req.text.format is not None:
        body["response_format"] = _response_format(req)
    if req.reasoning is not None and req.reasoning.effort is not None:
        body["reasoning_effort"] = req.reasoning.effort
    for name in _PASSED_THROUGH:
        if name in req.model_fields_set:
            value = getattr(req, name)
            body[name] = value.model_dump(by_alias=True, exclude_defaults=True) if hasattr(value, "model_dump") \
                else value
    try:
        chat = ChatCompletionRequest.model_validate(body)
    except ValidationError as exc:
        error = validation_error(exc.errors())
        raise InvalidRequest(error.message.replace("messages", "input"), param=_param(error.param)) from None
    return Translation(chat, input_messages, [_item_json(item, new_id) for item in items], namespaces, ignored)


def output_messages(output: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A response's output items as the chat messages the next turn continues from."""
    message: dict[str, Any] = {"role": "assistant", "content": ""}
    for item in output:
        if item["type"] == "message":
            message["content"] += "".join(p.get("text", "") for p in item["content"])
        elif item["type"] == "function_call" and item.get("status") != "incomplete":
            message.setdefault("tool_calls", []).append(
                {"id": item["call_id"], "type": "function",
                 "function": {"name": item["name"], "arguments": item["arguments"]}})
    if not message["content"] and "tool_calls" in message:
        message["content"] = None
    return [message]


# ------------------------------------------------------------------ input


def _messages(items: list[Any], known_calls: set[str]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for i, item in enumerate(items):
        if isinstance(item, MessageItem):
            out.append({"role": item.role, "content": _text(item.content)})
        elif isinstance(item, FunctionCallItem):
            call = {"id": item.call_id, "type": "function",
                    "function": {"name": item.name, "arguments": item.arguments}}
            last = out[-1] if out else None
            if last is not None and last["role"] == "assistant":
                last.setdefault("tool_calls", []).append(call)
                if not last["content"]:
                    last["content"] = None
            else:
                out.append({"role": "assistant", "content": None, "tool_calls": [call]})
            known_calls.add(item.call_id)
        elif isinstance(item, FunctionCallOutputItem):
            if item.call_id not in known_calls:
                raise InvalidRequest(f"No tool call found for function call output with call_id {item.call_id}.",
                                     param=f"input.{i}.call_id")
            out.append({"role": "tool", "tool_call_id": item.call_id, "content": _text(item.output)})
        elif isinstance(item, ReasoningItem):
            continue  # past thinking is left out of LFM2 prompts
    return out


_STORED_ITEMS: dict[str, type[MessageItem | FunctionCallItem | ReasoningItem]] = {
    "message": MessageItem, "function_call": FunctionCallItem, "reasoning": ReasoningItem}


def _resolve(item: Any, index: int, lookup: Callable[[str], dict[str, Any] | None]) -> Any:
    if not isinstance(item, ItemReference):
        return item
    stored = lookup(item.id)
    kind = _STORED_ITEMS.get(stored.get("type", "")) if stored else None
    if stored is None or kind is None:
        raise InvalidRequest(f"Item with id '{item.id}' not found.", param=f"input.{index}.id")
    return kind.model_validate(stored)


def _text(content: str | list[Any]) -> str:
    if isinstance(content, str):
        return content
    return "".join(str(getattr(part, "text", None) or getattr(part, "refusal", "")) for part in content)


def _with_system(instructions: str | None, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Instructions and the system/developer messages that open the conversation, as one system turn."""
    lead = 0
    while lead < len(messages) and messages[lead]["role"] in ("system", "developer"):
        lead += 1
    parts = ([instructions] if instructions else []) + [m["content"] for m in messages[:lead] if m["content"]]
    if not parts:
        return messages[lead:] if lead else messages
    return [{"role": "system", "content": "\n\n".join(parts)}, *messages[lead:]]


def _item_json(item: Any, new_id: Any) -> dict[str, Any]:
    data: dict[str, Any] = item.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(item, MessageItem):
        content = item.content
        data["content"] = ([{"type": "input_text", "text": content}] if isinstance(content, str)
                           else data["content"])
        data.setdefault("id", new_id("msg"))
        data.setdefault("status", "completed")
    elif isinstance(item, FunctionCallItem):
        data.setdefault("id", new_id("fc"))
        data.setdefault("status", "completed")
    elif isinstance(item, FunctionCallOutputItem):
        data.setdefault("id", new_id("fco"))
        data.setdefault("status", "completed")
    else:
        data.setdefault("id", new_id("rs"))
    return data


# ------------------------------------------------------------------ tools and formats


def _tools(req: ResponsesRequest) -> tuple[list[dict[str, Any]], dict[str, str], list[str]]:
    tools: list[dict[str, Any]] = []
    namespaces: dict[str, str] = {}
    ignored: list[str] = []
    seen: set[str] = set()

    def offer(tool: FunctionTool, namespace: str | None) -> None:
        if tool.name in seen:
            raise InvalidRequest(f"Duplicate tool name: {tool.name!r}", param="tools")
        seen.add(tool.name)
        tools.append({"type": "function", "function": tool.as_function().model_dump(exclude_none=True)})
        if namespace is not None:
            namespaces[tool.name] = namespace

    for tool in req.tools or ():
        if isinstance(tool, FunctionTool):
            offer(tool, None)
        elif isinstance(tool, NamespaceTool):
            for inner in tool.tools:
                offer(inner, tool.name)
        else:
            ignored.append(tool.type)
    if isinstance(req.tool_choice, FunctionChoice) and req.tool_choice.name not in seen:
        raise InvalidRequest(f"tool_choice names a function that is not in tools: {req.tool_choice.name!r}",
                             param="tool_choice")
    return tools, namespaces, ignored


def _response_format(req: ResponsesRequest) -> dict[str, Any]:
    assert req.text is not None and req.text.format is not None
    fmt = req.text.format
    if fmt.type != "json_schema":
        return {"type": fmt.type}
    schema: dict[str, Any] = {"name": fmt.name or "response", "schema": fmt.schema_}
    if fmt.strict is not None:
        schema["strict"] = fmt.strict
    if fmt.description is not None:
        schema["description"] = fmt.description
    return {"type": "json_schema", "json_schema": schema}


# The chat core names its errors' parameters in chat terms; the Responses names that carried them.
_RESPONSES_PARAM = {"messages": "input", "max_completion_tokens": "max_output_tokens",
                    "response_format": "text.format"}


def _param(param: str | None) -> str | None:
    """`messages[2].content` -> `input[2].content`: the head renamed, the path after it kept."""
    if param is None:
        return None
    head = re.split(r"[.\[]", param, maxsplit=1)[0]
    return _RESPONSES_PARAM.get(head, head) + param[len(head):]
