"""Wire types of OpenAI's Responses API (`POST /v1/responses`), validated at the HTTP edge.

Input items are told apart by `type` (a message may leave it out, as OpenAI allows), so an error names
the item and field (`input.3.function_call_output.call_id`). What the gateway cannot honour is refused
here with a 400 naming the field (`background`, `conversation`, images and files in content, prompt
templates); what changes nothing for an LFM2 served locally is accepted (`include`, `prompt_cache_key`,
`client_metadata`, `service_tier`, `reasoning`, `truncation`). Hosted tool types (`web_search`,
`file_search`, ...) are accepted here and left out of the prompt with a warning, because Codex CLI sends
`web_search` on every request; `server.api.responses.translate` decides that.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from server.wire.protocol import MAX_TOOLS, FunctionDef, StructuredOutputs, _Body, _Loose, _Strict

MAX_INPUT_ITEMS = 4096


# ------------------------------------------------------------------ content parts


class InputText(_Strict):
    type: Literal["input_text"]
    text: str


class OutputText(_Strict):
    type: Literal["output_text"]
    text: str
    annotations: list[Any] | None = None
    logprobs: list[Any] | None = None


class Refusal(_Strict):
    type: Literal["refusal"]
    refusal: str


class UnsupportedPart(_Loose):
    """Images, files, audio: LFM2-2.6B reads text only, so these are refused with a 400."""

    type: Literal["input_image", "input_file", "input_audio"]

    @model_validator(mode="after")
    def _refuse(self) -> UnsupportedPart:
        raise ValueError(f"content of type '{self.type}' is not supported: this model reads text only")


ContentPart = Annotated[InputText | OutputText | Refusal | UnsupportedPart, Field(discriminator="type")]


# ------------------------------------------------------------------ input items


class MessageItem(_Strict):
    type: Literal["message"] = "message"
    role: Literal["user", "assistant", "system", "developer"]
    content: str | list[ContentPart]
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class FunctionCallItem(_Strict):
    type: Literal["function_call"]
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: str
    id: str | None = None
    namespace: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class FunctionCallOutputItem(_Strict):
    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1)
    output: str | list[ContentPart]
    id: str | None = None
    status: Literal["in_progress", "completed", "incomplete"] | None = None


class ReasoningItem(_Loose):
    """A reasoning item sent back by the client. LFM2's template drops past thinking, so it only has
    to be well-formed; `encrypted_content` (Codex asks for it) is never produced here."""

    type: Literal["reasoning"]
    id: str | None = None
    summary: list[Any] = Field(default_factory=list)


class ItemReference(_Strict):
    """An earlier output item by id (the Vercel AI SDK sends these when `store` is on)."""

    type: Literal["item_reference"]
    id: str


def _item_type(item: Any) -> str:
    if isinstance(item, dict):
        return str(item.get("type", "message"))
    return str(getattr(item, "type", "message"))


InputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[ReasoningItem, Tag("reasoning")]
    | Annotated[ItemReference, Tag("item_reference")],
    Discriminator(_item_type, custom_error_type="invalid_item",
                  custom_error_message="input items must be of type message, function_call, "
                  "function_call_output, reasoning or item_reference"),
]


# ------------------------------------------------------------------ tools


class FunctionTool(_Strict):
    type: Literal["function"]
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9_.\-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None

    @property
    def effective_strict(self) -> bool:
        """The Responses API's functions are strict unless they say otherwise (chat's are not)."""
        return True if self.strict is None else self.strict

    def as_function(self) -> FunctionDef:
        return FunctionDef(name=self.name, description=self.description, parameters=self.parameters,
                           strict=self.effective_strict)


class NamespaceTool(_Strict):
    """A named group of function tools (Codex CLI sends one); its functions are offered by name."""

    type: Literal["namespace"]
    name: str
    description: str | None = None
    tools: list[FunctionTool] = Field(max_length=MAX_TOOLS)


class HostedTool(_Loose):
    """A tool OpenAI runs itself (`web_search`, `file_search`, ...): nothing here can run it."""

    type: str


def _tool_type(tool: Any) -> str:
    kind = tool.get("type") if isinstance(tool, dict) else getattr(tool, "type", None)
    return kind if kind in ("function", "namespace") else "hosted"


ResponseTool = Annotated[
    Annotated[FunctionTool, Tag("function")]
    | Annotated[NamespaceTool, Tag("namespace")]
    | Annotated[HostedTool, Tag("hosted")],
    Discriminator(_tool_type),
]


class FunctionChoice(_Strict):
    type: Literal["function"]
    name: str


# ------------------------------------------------------------------ text, reasoning


class TextFormat(_Strict):
    type: Literal["text", "json_object", "json_schema"]
    name: str | None = None
    schema_: dict[str, Any] | None = Field(None, alias="schema")
    strict: bool | None = None
    description: str | None = None

    @model_validator(mode="after")
    def _schema(self) -> TextFormat:
        if self.type == "json_schema" and self.schema_ is None:
            raise ValueError("text.format of type json_schema needs a schema")
        return self


class TextConfig(_Strict):
    format: TextFormat | None = None
    verbosity: Literal["low", "medium", "high"] | None = None


class ReasoningConfig(_Strict):
    effort: Literal["none", "minimal", "low", "medium", "high", "xhigh"] | None = None
    summary: Literal["auto", "concise", "detailed"] | None = None
    generate_summary: Literal["auto", "concise", "detailed"] | None = None


class ResponsesStreamOptions(_Strict):
    include_obfuscation: bool | None = None


# ------------------------------------------------------------------ the request


class ResponsesRequest(_Body):
    model: str | None = None
    input: str | Annotated[list[InputItem], Field(max_length=MAX_INPUT_ITEMS)]
    instructions: str | None = None
    tools: list[ResponseTool] | None = Field(None, max_length=MAX_TOOLS)
    tool_choice: Literal["auto", "none", "required"] | FunctionChoice | None = None
    parallel_tool_calls: bool = True
    max_output_tokens: int | None = Field(None, ge=1)
    temperature: float | None = Field(None, ge=0, le=2)
    top_p: float | None = Field(None, gt=0, le=1)
    text: TextConfig | None = None
    reasoning: ReasoningConfig | None = None
    stream: bool = False
    stream_options: ResponsesStreamOptions | None = None
    store: bool = True
    previous_response_id: str | None = None
    metadata: dict[str, str] | None = Field(None, max_length=16)
    truncation: Literal["auto", "disabled"] | None = None
    user: str | None = None
    safety_identifier: str | None = None
    prompt_cache_key: str | None = None
    include: list[str] | None = None
    service_tier: str | None = None
    client_metadata: dict[str, Any] | None = None
    top_logprobs: int | None = Field(None, ge=0, le=20)
    max_tool_calls: int | None = Field(None, ge=1)
    # Refused: nothing here can run a response in the background, hold a conversation object or
    # expand a stored prompt template.
    background: bool | None = None
    conversation: str | dict[str, Any] | None = None
    prompt: dict[str, Any] | None = None
    # vLLM's sampling extensions, as on the chat route.
    top_k: int | None = Field(None, ge=-1)
    min_p: float | None = Field(None, ge=0, le=1)
    min_tokens: int = Field(0, ge=0)
    repetition_penalty: float | None = Field(None, gt=0, le=2)
    presence_penalty: float | None = Field(None, ge=-2, le=2)
    frequency_penalty: float | None = Field(None, ge=-2, le=2)
    seed: int | None = Field(None, ge=-(2**63), le=2**64 - 1)
    stop: str | list[str] | None = None
    stop_token_ids: list[int] | None = None
    ignore_eos: bool = False
    logit_bias: dict[str, float] | None = None
    skip_special_tokens: bool | None = None
    structured_outputs: StructuredOutputs | None = None
    chat_template_kwargs: dict[str, Any] | None = None
    priority: int = 0

    @field_validator("background")
    @classmethod
    def _no_background(cls, v: bool | None) -> bool | None:
        if v:
            raise ValueError("background responses are not supported by this server; send background: false")
        return v

    @field_validator("conversation")
    @classmethod
    def _no_conversation(cls, v: Any) -> Any:
        if v is not None:
            raise ValueError("conversations are not supported by this server; use previous_response_id "
                             "or send the history in input")
        return v

    @field_validator("prompt")
    @classmethod
    def _no_prompt(cls, v: Any) -> Any:
        if v is not None:
            raise ValueError("stored prompt templates are not supported by this server")
        return v

    @model_validator(mode="after")
    def _check(self) -> ResponsesRequest:
        if self.stream_options is not None and not self.stream:
            raise ValueError("stream_options are only allowed when stream is true")
        if isinstance(self.input, list) and not self.input:
            raise ValueError("input must not be empty")
        return self
