"""Extract the response schemas the gateway must match from OpenAI's OpenAPI spec into tests/spec/.

    python scripts/extract_openai_schemas.py path/to/openapi.yaml [--commit SHA] [--out tests/spec/openai_schemas.json]

The spec is `openapi.yaml` of github.com/openai/openai-openapi (about 3 MB, so it is not kept here).
Only the named roots and what they `$ref` are kept, as JSON Schema (draft 2020-12) that `jsonschema`
validates: `$ref`s point at `#/$defs/...`, OpenAPI 3.0's `nullable: true` becomes a `null` branch, and
OpenAPI-only keywords (`discriminator`, `x-*`, `example`) are dropped. Refresh by running it on a newer
spec commit and reading the test failures.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

import yaml

ROOTS = (
    "CreateChatCompletionResponse",
    "CreateChatCompletionStreamResponse",
    "CreateCompletionResponse",
    "ListModelsResponse",
    "Model",
    "ErrorResponse",
    "Response",
    "ResponseStreamEvent",
)
DROP = {"discriminator", "example", "examples", "externalDocs", "xml", "deprecated", "readOnly", "writeOnly",
        "$recursiveAnchor"}  # draft 2019-09 (a boolean there), invalid in 2020-12; the schemas validate without it
PREFIX = "#/components/schemas/"
OUT = Path(__file__).resolve().parents[1] / "tests/spec/openai_schemas.json"


def convert(node: Any, needed: set[str]) -> Any:
    if isinstance(node, list):
        return [convert(n, needed) for n in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROP or key.startswith("x-") or key == "nullable":
            continue
        if key == "$ref":
            name = value.removeprefix(PREFIX)
            needed.add(name)
            out[key] = "#/$defs/" + name
        elif key in ("properties", "patternProperties", "$defs"):
            out[key] = {k: convert(v, needed) for k, v in value.items()}
        else:
            out[key] = convert(value, needed)
    if node.get("nullable") is True:
        out = _nullable(out)
    return out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    """OpenAPI 3.0's `nullable: true` in JSON Schema terms: null is also valid."""
    kind = schema.get("type")
    if isinstance(kind, str) and "$ref" not in schema and not any(k in schema for k in ("anyOf", "oneOf", "allOf")):
        schema = {**schema, "type": [kind, "null"]}
        if "enum" in schema:
            schema["enum"] = [*schema["enum"], None]
        return schema
    return {"anyOf": [schema, {"type": "null"}]}


def extract(spec: dict[str, Any], roots: tuple[str, ...] = ROOTS) -> dict[str, Any]:
    schemas = spec["components"]["schemas"]
    defs: dict[str, Any] = {}
    todo = set(roots)
    while todo:
        name = todo.pop()
        if name in defs:
            continue
        needed: set[str] = set()
        defs[name] = convert(schemas[name], needed)
        todo |= needed - set(defs)
    return dict(sorted(defs.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("spec", type=Path, help="openapi.yaml of openai/openai-openapi")
    parser.add_argument("--commit", required=True, help="the openai/openai-openapi commit the file is from")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    spec = yaml.safe_load(args.spec.read_text())
    document = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "source": {"repository": "https://github.com/openai/openai-openapi", "path": "openapi.yaml",
                   "commit": args.commit, "openapi": spec.get("openapi"),
                   "api_version": spec.get("info", {}).get("version")},
        "roots": list(ROOTS),
        "$defs": extract(spec),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(document, indent=1, sort_keys=False) + "\n")
    print(f"{len(document['$defs'])} schemas -> {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
