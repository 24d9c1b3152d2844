"""scripts/extract_openai_schemas.py: the roots and what they `$ref`, as JSON Schema that `jsonschema` reads."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import jsonschema

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("extract", ROOT / "scripts" / "extract_openai_schemas.py")
assert _spec and _spec.loader
extract = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(extract)

SPEC = {"components": {"schemas": {
    "Root": {"type": "object", "required": ["a"], "x-oaiMeta": {}, "discriminator": {"propertyName": "a"},
             "properties": {"a": {"$ref": "#/components/schemas/A"},
                            "b": {"type": "string", "nullable": True, "enum": ["x"]},
                            "c": {"$ref": "#/components/schemas/A", "nullable": True}}},
    "A": {"type": "integer"},
    "Unused": {"type": "string"},
}}}


def test_closure_refs_and_nullable():
    defs = extract.extract(SPEC, ("Root",))
    assert set(defs) == {"Root", "A"}
    props = defs["Root"]["properties"]
    assert props["a"] == {"$ref": "#/$defs/A"}
    assert props["b"] == {"type": ["string", "null"], "enum": ["x", None]}
    assert props["c"] == {"anyOf": [{"$ref": "#/$defs/A"}, {"type": "null"}]}
    assert "x-oaiMeta" not in defs["Root"] and "discriminator" not in defs["Root"]
    validator = jsonschema.Draft202012Validator({"$defs": defs, "$ref": "#/$defs/Root"})
    assert validator.is_valid({"a": 1, "b": None, "c": None})
    assert not validator.is_valid({"a": "1"})


def test_committed_schemas_name_their_commit_and_are_valid():
    document = json.loads((ROOT / "tests" / "spec" / "openai_schemas.json").read_text())
    assert len(document["source"]["commit"]) == 40 and document["source"]["path"] == "openapi.yaml"
    assert set(document["roots"]) == set(extract.ROOTS) <= set(document["$defs"])
    for root in document["roots"]:
        jsonschema.Draft202012Validator.check_schema({"$defs": document["$defs"], "$ref": f"#/$defs/{root}"})
