"""Wire types of the OpenAI API, validated by pydantic at the HTTP edge and nowhere else.

Requests accept OpenAI's fields and vLLM's extensions (`top_k`, `min_p`, `repetition_penalty`,
`min_tokens`, `ignore_eos`, `skip_special_tokens`, `structured_outputs`, `chat_template_kwargs`) so
clients written for either work unchanged. Unknown fields are rejected with a 400 naming them, so a
typo never silently changes nothing. Types are strict, as OpenAI's are: `"stream": "yes"` or `"n": "2"`
is a 400 naming the field, not a coercion (an integer may still stand where a number is expected).
Every request type inherits both rules from `_Strict` / `_Loose`. Responses are plain dicts built in
the services (no per-chunk pydantic on the hot path).
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MAX_STOP_SEQUENCES = 16
MAX_N = 16
MAX_MESSAGES = 4096
MAX_TOOLS = 256
MAX_JSON_DEPTH = 100  # a request body's objects and arrays, counted from the top


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, protected_namespaces=())


class _Loose(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, protected_namespaces=())


class ParamError(ValueError):
    """A validator's complaint about one parameter: the 400 names `param` (OpenAI's style, e.g.
    `messages.[3].role`) and says `message` as it is (`server.app.validation_error` reads it)."""

    def __init__(self, param: str, message: str, code: str | None = None) -> None:
        super().__init__(message)
        self.param = param
        self.code = code


class _Body(_Strict):
    """A whole request body. Python's JSON parser lets through what no tokenizer, renderer or engine can
    take: escaped halves of UTF-16 pairs (`"\\ud800"`), `NaN`/`Infinity`, and nesting deep enough to
    exhaust a recursive renderer. They are refused here, once, before anything else reads the body."""

    @model_validator(mode="before")
    @classmethod
    def _standard_json(cls, data: Any) -> Any:
        problem = json_problem(data)
        if problem:
            raise ValueError(problem)
        return data


def json_problem(data: Any) -> str | None:
    """What in a parsed JSON body the gateway cannot take, or None. Linear, mostly at C speed."""
    if _deeper_than(data, MAX_JSON_DEPTH):  # first: what follows recurses
        return f"objects and arrays in the body may nest at most {MAX_JSON_DEPTH} levels"
    try:
        text = json.dumps(data, ensure_ascii=False, allow_nan=False, default=_built_in_python)
    except ValueError:
        return "the body holds NaN or Infinity, which are not JSON numbers"
    try:
        text.encode()
    except UnicodeEncodeError:
        return "the body holds text with a lone UTF-16 surrogate (half of an escaped pair)"
    return None


def _built_in_python(_: Any) -> None:
    return None  # a model instance built in Python, not parsed from the wire: nothing to check


_SCALARS = frozenset({str, int, float, bool, type(None)})


def _deeper_than(data: Any, limit: int) -> bool:
    level = [data] if isinstance(data, dict | list) else []
    for _ in range(limit):
        below: list[Any] = []
        for container in level:
            values = container.values() if isinstance(container, dict) else container
            if not _SCALARS.issuperset(map(type, values)):
                below.extend(v for v in values if isinstance(v, dict | list))
        if not below:
            return False
        level = below
    return True


class FunctionCall(_Loose):
    name: str
    arguments: str | dict[str, Any] = "{}"


class ToolCall(_Loose):
    id: str | None = None
    type: Literal["function"] = "function"
    function: FunctionCall


class ContentPart(_Loose):
    type: str
    text: str | None = None


Content = str | list[ContentPart] | None


class SystemMessage(_Strict):
    role: Literal["system", "developer"]
    content: Content
    name: str | None = None


class UserMessage(_Strict):
    role: Literal["user"]
    content: Content
    name: str | None = None


class AssistantMessage(_Strict):
    role: Literal["assistant"]
    content: Content = None
    name: str | None = None
    tool_calls: list[ToolCall] | None = None
    reasoning_content: str | None = None
    refusal: str | None = None


class ToolMessage(_Strict):
    role: Literal["tool"]
    content: Content | dict[str, Any] | list[Any]
    tool_call_id: str | None = None
    name: str | None = None


Message = Annotated[
    SystemMessage | UserMessage | AssistantMessage | ToolMessage, Field(discriminator="role")
]


class FunctionDef(_Strict):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class Tool(_Strict):
    type: Literal["function"] = "function"
    function: FunctionDef


class NamedToolChoiceFunction(_Strict):
    name: str


class NamedToolChoice(_Strict):
    type: Literal["function"] = "function"
    function: NamedToolChoiceFunction


class JsonSchemaFormat(_Loose):
    name: str = "response"
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None
    description: str | None = None


class ResponseFormat(_Strict):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(_Strict):
    include_usage: bool = False
    continuous_usage_stats: bool = False


class StructuredOutputs(_Strict):
    json_: str | dict[str, Any] | None = Field(None, alias="json")
    regex: str | None = None
    choice: list[str] | None = None
    grammar: str | None = None
    json_object: bool | None = None
    structural_tag: str | None = None
    disable_any_whitespace: bool = False
    disable_additional_properties: bool = False
    whitespace_pattern: str | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> StructuredOutputs:
        kinds = [self.json_, self.regex, self.choice, self.grammar, self.json_object, self.structural_tag]
        if sum(k is not None for k in kinds) != 1:
            raise ValueError("structured_outputs needs exactly one of json, regex, choice, grammar, "
                             "json_object, structural_tag")
        return self


class SamplingFields(_Body):
    """Sampling fields shared by chat and text completions (OpenAI's plus vLLM's extensions)."""

    model: str | None = None
    n: int = Field(1, ge=1, le=MAX_N)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    top_k: int | None = Field(None, ge=-1)
    min_p: float | None = Field(None, ge=0, le=1)
    max_tokens: int | None = Field(None, ge=1)
    min_tokens: int = Field(0, ge=0)
    stop: str | list[str] | None = None
    stop_token_ids: list[int] | None = None
    seed: int | None = Field(None, ge=-(2**63), le=2**64 - 1)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    repetition_penalty: float | None = Field(None, gt=0, le=2)
    ignore_eos: bool = False
    skip_special_tokens: bool | None = None
    spaces_between_special_tokens: bool = True
    include_stop_str_in_output: bool = False
    structured_outputs: StructuredOutputs | None = None
    stream: bool = False
    stream_options: StreamOptions | None = None
    user: str | None = None
    logit_bias: dict[str, float] | None = None
    priority: int = 0
    request_id: str | None = None

    @field_validator("stop")
    @classmethod
    def _stops(cls, v: str | list[str] | None) -> str | list[str] | None:
        stops = [v] if isinstance(v, str) else v or []
        if len(stops) > MAX_STOP_SEQUENCES:
            raise ValueError(f"at most {MAX_STOP_SEQUENCES} stop sequences are allowed")
        if any(s == "" for s in stops):
            raise ValueError("stop sequences must not be empty")
        return v

    @model_validator(mode="after")
    def _stream_options_need_stream(self) -> SamplingFields:
        if self.stream_options is not None and not self.stream:
            raise ParamError("stream_options",
                             "The 'stream_options' parameter is only allowed when 'stream' is enabled.")
        return self

    @property
    def stop_list(self) -> list[str]:
        return [self.stop] if isinstance(self.stop, str) else list(self.stop or [])


class ChatCompletionRequest(SamplingFields):
    messages: list[Message] = Field(min_length=1, max_length=MAX_MESSAGES)
    max_completion_tokens: int | None = Field(None, ge=1)
    logprobs: bool = False
    top_logprobs: int | None = Field(None, ge=0, le=20)
    response_format: ResponseFormat | None = None
    tools: list[Tool] | None = Field(None, max_length=MAX_TOOLS)
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool = True
    chat_template_kwargs: dict[str, Any] | None = None
    add_generation_prompt: bool = True
    continue_final_message: bool = False
    echo: bool = False
    reasoning_effort: str | None = None
    # Accepted for compatibility with OpenAI clients; they do not change generation here.
    store: bool | None = None
    metadata: dict[str, str] | None = None
    service_tier: str | None = None
    modalities: list[str] | None = None
    prediction: dict[str, Any] | None = None
    audio: dict[str, Any] | None = None
    web_search_options: dict[str, Any] | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    verbosity: str | None = None
    functions: list[dict[str, Any]] | None = None
    function_call: str | dict[str, Any] | None = None

    @model_validator(mode="after")
    def _check(self) -> ChatCompletionRequest:
        check_tool_messages(self.messages)
        if self.top_logprobs and not self.logprobs:
            raise ValueError("top_logprobs requires logprobs to be true")
        if (isinstance(self.tool_choice, NamedToolChoice) or self.tool_choice == "required") and not self.tools:
            raise ValueError("tool_choice requires tools")
        if isinstance(self.tool_choice, NamedToolChoice) and self.tools:
            names = {t.function.name for t in self.tools}
            if self.tool_choice.function.name not in names:
                raise ValueError(f"tool_choice names a function that is not in tools: "
                                 f"{self.tool_choice.function.name!r}")
        return self

    @property
    def output_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens

    @property
    def tools_on(self) -> bool:
        return bool(self.tools) and self.tool_choice != "none"


def check_tool_messages(messages: list[Any]) -> None:
    """Each `tool` message answers a call of the assistant message it follows (past other tool
    messages), by `tool_call_id`, as OpenAI requires; the error names the message's index."""
    call_ids: set[str] | None = None  # the calls the latest assistant message made, while tool messages follow
    for i, message in enumerate(messages):
        if isinstance(message, AssistantMessage):
            call_ids = {c.id for c in message.tool_calls or () if c.id is not None} if message.tool_calls else None
        elif isinstance(message, ToolMessage):
            if message.tool_call_id is None:
                raise ParamError(f"messages.[{i}].tool_call_id",
                                 f"Missing required parameter: 'messages.[{i}].tool_call_id'.",
                                 code="missing_required_parameter")
            if call_ids is None:
                raise ParamError(f"messages.[{i}].role", "Invalid parameter: messages with role 'tool' must be "
                                 "a response to a preceeding message with 'tool_calls'.")
            if call_ids and message.tool_call_id not in call_ids:
                raise ParamError(f"messages.[{i}].tool_call_id",
                                 f"Invalid parameter: 'tool_call_id' of '{message.tool_call_id}' not found in "
                                 "'tool_calls' of previous message.")
        else:
            call_ids = None


class CompletionRequest(SamplingFields):
    prompt: str | list[str] | list[int] | list[list[int]]
    max_tokens: int | None = Field(16, ge=1)
    logprobs: int | None = Field(None, ge=0, le=20)
    echo: bool = False
    suffix: str | None = None
    best_of: int | None = Field(None, ge=1, le=MAX_N)
    response_format: ResponseFormat | None = None

    @field_validator("prompt")
    @classmethod
    def _non_empty(cls, v: Any) -> Any:
        if isinstance(v, list) and not v:
            raise ValueError("prompt must not be empty")
        return v


class ErrorDetail(_Strict):
    message: str
    type: str
    param: str | None
    code: str | None


class ErrorResponse(_Strict):
    """OpenAI's error body, the shape of every error answer (for the OpenAPI schema; `errors.error_body` builds it)."""

    error: ErrorDetail


class TokenizeRequest(_Body):
    model: str | None = None
    prompt: str | None = None
    messages: list[Message] | None = None
    tools: list[Tool] | None = None
    add_generation_prompt: bool = True
    add_special_tokens: bool = False
    return_token_strs: bool = False
    chat_template_kwargs: dict[str, Any] | None = None
    continue_final_message: bool = False

    @model_validator(mode="after")
    def _one_input(self) -> TokenizeRequest:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of prompt or messages")
        return self
