"""Response bodies drawn from the published OpenAPI spec subset (`openapi.yaml`, vendored here).

`response_schema(operation_id)` resolves a 200 response's schema into plain JSON Schema that
hypothesis-jsonschema can draw from; `lenient=True` also allows values the spec does not list
(any string where an enum is given), as other servers send.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import strategies as st

# The contract suite needs the test extra: a clear skip, not an import error, without it.
from_schema = pytest.importorskip(
    "hypothesis_jsonschema", reason="pip install -e '.[test]' (hypothesis-jsonschema)"
).from_schema

SPEC_PATH = Path(__file__).with_name("openapi.yaml")
MAX_ITEMS = 3
MAX_STRING = 40
EXTRA_FIELD = {"type": ["string", "integer", "boolean", "null"]}
DROP = {"description", "example", "examples", "title", "deprecated", "readOnly", "writeOnly"}


@functools.cache
def spec() -> dict[str, Any]:
    return yaml.safe_load(SPEC_PATH.read_text(encoding="utf-8"))


def operation(operation_id: str) -> tuple[str, str, dict[str, Any]]:
    """(method, path, operation) for an operationId."""
    for path, item in spec()["paths"].items():
        for method, op in item.items():
            if isinstance(op, dict) and op.get("operationId") == operation_id:
                return method, path, op
    raise KeyError(operation_id)


def _resolve(node: Any, *, lenient: bool, depth: int = 0) -> Any:
    if isinstance(node, list):
        return [_resolve(n, lenient=lenient, depth=depth) for n in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        if depth > 12:  # recursive schemas: stop with "anything"
            return {}
        name = node["$ref"].rsplit("/", 1)[-1]
        target = spec()["components"]["schemas"][name]
        return _resolve(copy.deepcopy(target), lenient=lenient, depth=depth + 1)
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in DROP or key.startswith("x-"):
            continue
        if key == "format" and value not in ("uri", "email", "date-time"):
            continue  # `unixtime` and friends are not JSON Schema formats
        if key == "nullable":
            continue
        if key == "properties":
            out[key] = {k: _resolve(v, lenient=lenient, depth=depth) for k, v in value.items()}
            continue
        out[key] = _resolve(value, lenient=lenient, depth=depth)
    if node.get("nullable"):
        out = {"anyOf": [out, {"type": "null"}]}
    # Bodies stay small (a subset of what the schema allows): a few items, short strings.
    if out.get("type") == "array":
        out.setdefault("maxItems", MAX_ITEMS)
    if out.get("type") == "string" and "enum" not in out:
        out.setdefault("maxLength", MAX_STRING)
    if lenient and "properties" in out and "additionalProperties" not in out:
        out["additionalProperties"] = EXTRA_FIELD  # fields of the server's own, kept simple
    if lenient and "enum" in out and all(isinstance(v, str) for v in out["enum"]):
        out = {"anyOf": [out, {"type": "string", "minLength": 1, "maxLength": 12}]}
    return out


@functools.cache
def response_schema(operation_id: str, *, lenient: bool = False) -> dict[str, Any]:
    _method, _path, op = operation(operation_id)
    content = op["responses"]["200"]["content"]
    media = content.get("application/json") or next(iter(content.values()))
    return _resolve(media["schema"], lenient=lenient)


@functools.cache
def component_schema(name: str, *, lenient: bool = False) -> dict[str, Any]:
    return _resolve({"$ref": f"#/components/schemas/{name}"}, lenient=lenient)


@functools.cache
def bodies(operation_id: str, *, lenient: bool = True) -> st.SearchStrategy[Any]:
    """Schema-valid (with `lenient`, also unknown enum values) bodies for an operation."""
    return from_schema(response_schema(operation_id, lenient=lenient), allow_x00=False)


@functools.cache
def component(name: str, *, lenient: bool = True) -> st.SearchStrategy[Any]:
    return from_schema(component_schema(name, lenient=lenient), allow_x00=False)
