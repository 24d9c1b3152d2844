# ruff: noqa: E501 - a template reads best with its lines whole
"""The gateway's LFM2 chat template in Jinja, written into checkpoints we build (`tiny`).

It lets a bare `vllm serve` (or transformers) on such a checkpoint render the same prompts as the
gateway's Python renderer in `lfm2_template.py`; a test checks that the two agree.
"""

LFM2_JINJA_TEMPLATE = r"""
{%- macro pyval(v) -%}
{%- if v is none -%}None
{%- elif v is sameas true -%}True
{%- elif v is sameas false -%}False
{%- elif v is string -%}{{ v | tojson }}
{%- elif v is mapping -%}{ {%- for k, x in v.items() -%}{{ k | tojson }}: {{ pyval(x) }}{{ ", " if not loop.last }}{%- endfor -%} }
{%- elif v is iterable -%}[{%- for x in v -%}{{ pyval(x) }}{{ ", " if not loop.last }}{%- endfor -%}]
{%- else -%}{{ v | tojson }}
{%- endif -%}
{%- endmacro -%}
{%- macro text(c) -%}
{%- if c is none -%}
{%- elif c is string -%}{{ c }}
{%- else -%}{%- for p in c -%}{{ p.text }}{%- endfor -%}
{%- endif -%}
{%- endmacro -%}
{{- bos_token -}}
{%- set ns = namespace(system="", last_user=-1) -%}
{%- if messages and messages[0].role in ["system", "developer"] -%}
{%- set ns.system = text(messages[0].content) -%}
{%- set messages = messages[1:] -%}
{%- endif -%}
{%- if tools -%}
{%- set ns.system = ns.system + ("\n" if ns.system else "") + "List of tools: <|tool_list_start|>[" -%}
{%- for t in tools -%}
{%- set f = t.function if t.function is defined else t -%}
{%- set flat = '{"name": ' + (f.name | tojson) -%}
{%- if f.description is defined and f.description is not none -%}{%- set flat = flat + ', "description": ' + (f.description | tojson) -%}{%- endif -%}
{%- set flat = flat + ', "parameters": ' + ((f.parameters if f.parameters else {"type": "object", "properties": {}}) | tojson) + '}' -%}
{%- set ns.system = ns.system + flat + (", " if not loop.last else "") -%}
{%- endfor -%}
{%- set ns.system = ns.system + "]<|tool_list_end|>" -%}
{%- endif -%}
{%- if ns.system -%}{{- "<|im_start|>system\n" + ns.system + "<|im_end|>\n" -}}{%- endif -%}
{%- for m in messages -%}{%- if m.role == "user" -%}{%- set ns.last_user = loop.index0 -%}{%- endif -%}{%- endfor -%}
{%- for m in messages -%}
{%- set role = "system" if m.role == "developer" else m.role -%}
{{- "<|im_start|>" + role + "\n" -}}
{%- if m.role == "assistant" -%}
{%- if m.tool_calls -%}
{{- "<|tool_call_start|>[" -}}
{%- for c in m.tool_calls -%}
{%- set fn = c.function if c.function is defined else c -%}
{%- set args = fn.arguments if fn.arguments is mapping else {} -%}
{{- fn.name + "(" -}}{%- for k, v in args.items() -%}{{ k }}={{ pyval(v) }}{{ ", " if not loop.last }}{%- endfor -%}{{- ")" -}}{{ ", " if not loop.last }}
{%- endfor -%}
{{- "]<|tool_call_end|>" -}}
{%- endif -%}
{%- set content = text(m.content) -%}
{%- if loop.index0 < ns.last_user and not keep_past_thinking and "</think>" in content -%}
{%- set content = content.split("</think>")[-1].lstrip() -%}
{%- endif -%}
{{- content -}}
{%- elif m.role == "tool" -%}
{{- "<|tool_response_start|>" + (text(m.content) if m.content is string or m.content is none else (m.content | tojson)) + "<|tool_response_end|>" -}}
{%- else -%}
{{- text(m.content) -}}
{%- endif -%}
{{- "<|im_end|>\n" -}}
{%- endfor -%}
{%- if add_generation_prompt -%}{{- "<|im_start|>assistant\n" -}}{%- endif -%}
"""
