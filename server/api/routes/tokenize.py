"""`POST /tokenize` (vLLM-compatible): see exactly the tokens a prompt or a conversation becomes."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from server.api import intake
from server.api.deps import Ctx
from server.core import prompts
from server.wire.protocol import TokenizeRequest

router = APIRouter(tags=["tokenize"])


@router.post("/tokenize", summary="Tokenize a prompt or render and tokenize chat messages")
async def tokenize(body: TokenizeRequest, ctx: Ctx) -> dict[str, Any]:
    ctx.check_model(body.model)
    engine = ctx.ready_engine()
    if body.messages is not None:
        text = prompts.render_chat(
            ctx.settings.chat_template,
            engine.tokenizer,
            intake.message_dicts(body.messages),
            intake.tool_dicts(body.tools),
            add_generation_prompt=body.add_generation_prompt,
            continue_final_message=body.continue_final_message,
            template_kwargs=body.chat_template_kwargs,
        )
        ids = await prompts.encode_off_loop(engine.tokenizer, text)
    else:
        text = body.prompt or ""
        ids = await prompts.encode_off_loop(engine.tokenizer, text, body.add_special_tokens)
    result: dict[str, Any] = {"count": len(ids), "max_model_len": engine.max_model_len, "tokens": ids}
    if body.return_token_strs:
        result["token_strs"] = engine.tokenizer.convert_ids_to_tokens(ids)
    return result
