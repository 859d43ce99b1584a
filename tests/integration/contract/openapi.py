"""Check a request against an OpenAPI 3 description: operation, parameters, JSON body schema.

    operation   method + path template ("/repos/{owner}/{repo}/issues/{issue_number}"); literal segments
                win over templated ones, as servers route them
    parameters  required path/query/header parameters present; query values parse as the declared type
                (integer, boolean, enum, arrays of those); a query parameter the operation does not declare
    body        application/json bodies validated with jsonschema against the requestBody schema, `$ref`s
                resolved inside the same document; multipart bodies must be multipart/form-data

Specs are loaded once per process (they are megabytes) and shared by every fake.
"""

from __future__ import annotations

import functools
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import jsonschema
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

# ../shared/specs next to the checkout; REPORTER_APP_TEST_SPECS points elsewhere (CI).
SPECS = Path(os.environ.get("REPORTER_APP_TEST_SPECS") or Path(__file__).resolve().parents[4] / "shared" / "specs")
SPEC_URI = "urn:spec"


@dataclass(frozen=True)
class Operation:
    method: str
    template: str
    pointer: str  # JSON pointer of the operation object inside the spec
    op: dict[str, Any]
    path_item: dict[str, Any]


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


class OpenApi:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec
        resource = Resource.from_contents(spec, default_specification=DRAFT4)
        self.registry: Registry[Any] = Registry().with_resource(SPEC_URI, resource)
        self._routes: list[tuple[int, re.Pattern[str], str]] = []
        for template in spec["paths"]:
            regex = _template_regex(template)
            # Fewer placeholders first: /issues/comments beats /issues/{issue_number}.
            self._routes.append((template.count("{"), re.compile(regex + r"\Z"), template))
        self._routes.sort(key=lambda item: item[0])
        self._validators: dict[str, Any] = {}

    def resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            node = self.registry.resolver(SPEC_URI).lookup(SPEC_URI + node["$ref"]).contents
        return node

    def operation(self, method: str, path: str) -> Operation | None:
        for _, regex, template in self._routes:
            if regex.match(path):
                item = self.spec["paths"][template]
                op = item.get(method.lower())
                if op is not None:
                    return Operation(method, template, f"/paths/{_escape(template)}/{method.lower()}", op, item)
        return None

    def check(self, method: str, path: str, query: dict[str, list[str]], headers: dict[str, str],
              body: bytes) -> list[str]:
        op = self.operation(method, path)
        if op is None:
            return [f"{method} {path} is not an operation of the description"]
        problems: list[str] = []
        params = [self.resolve(p) for p in [*op.path_item.get("parameters", []), *op.op.get("parameters", [])]]
        declared = {p["name"] for p in params if p.get("in") == "query"}
        for name in query:
            if name not in declared:
                problems.append(f"query parameter {name!r} is not declared for {method} {op.template}")
        for param in params:
            where, name = param.get("in"), param["name"]
            if where == "query" and name in query:
                for value in query[name]:
                    problem = _check_value(self.resolve(param.get("schema") or {}), value, self)
                    if problem:
                        problems.append(f"query {name}={value!r}: {problem}")
            elif where == "query" and param.get("required"):
                problems.append(f"required query parameter {name!r} missing")
            elif where == "header" and param.get("required") and name.lower() not in headers:
                problems.append(f"required header {name!r} missing")
            elif where == "path":
                problem = _check_path_param(op.template, path, name, self.resolve(param.get("schema") or {}), self)
                if problem:
                    problems.append(problem)
        problems.extend(self._check_body(op, headers, body))
        return problems

    def _check_body(self, op: Operation, headers: dict[str, str], body: bytes) -> list[str]:
        request_body = self.resolve(op.op.get("requestBody"))
        ctype = headers.get("content-type", "").split(";")[0].strip()
        if not request_body:
            return [f"{op.method} {op.template} takes no body"] if body else []
        content = request_body.get("content") or {}
        if not body:
            return ["request body missing"] if request_body.get("required") else []
        if ctype not in content:
            return [f"content type {ctype!r} not accepted (expected {', '.join(content)})"]
        if ctype != "application/json":
            return []
        try:
            document = json.loads(body)
        except ValueError as exc:
            return [f"body is not JSON: {exc}"]
        pointer = f"{op.pointer}/requestBody/content/{_escape(ctype)}/schema"
        if "$ref" in (op.op.get("requestBody") or {}):
            pointer = op.op["requestBody"]["$ref"][1:] + f"/content/{_escape(ctype)}/schema"
        validator = self._validators.get(pointer)
        if validator is None:
            validator = jsonschema.Draft4Validator({"$ref": f"{SPEC_URI}#{pointer}"}, registry=self.registry)
            self._validators[pointer] = validator
        return [f"body{_where(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)][:5]


def _template_regex(template: str) -> str:
    # GitHub's contents `{path}` spans segments ("reports/<id>/shot.png"); every other placeholder is one segment.
    regex = re.escape(template).replace(r"\{path\}", "(.+)")
    return re.sub(r"\\\{[^}]+\\\}", "([^/]+)", regex)


def _where(path: Any) -> str:
    return "".join(f"[{p!r}]" for p in path)


def _check_path_param(template: str, path: str, name: str, schema: dict[str, Any], api: OpenApi) -> str:
    names = re.findall(r"\{([^}]+)\}", template)
    match = re.match(_template_regex(template) + r"\Z", path)
    if not match or name not in names:
        return f"path parameter {name!r} missing"
    problem = _check_value(schema, unquote(match.group(names.index(name) + 1)), api)
    return f"path {name}: {problem}" if problem else ""


def _check_value(schema: dict[str, Any], text: str, api: OpenApi) -> str:
    kind = schema.get("type")
    if kind == "array":
        item = api.resolve(schema.get("items") or {})
        for part in text.split(","):
            problem = _check_value(item, part, api)
            if problem:
                return problem
        return ""
    if kind == "integer" and not re.fullmatch(r"-?\d+", text):
        return "not an integer"
    if kind == "boolean" and text not in ("true", "false"):
        return "not true/false"
    if schema.get("enum") and text not in [str(v) for v in schema["enum"]]:
        return f"not one of {schema['enum']}"
    return ""


@functools.lru_cache(maxsize=None)
def load(name: str) -> OpenApi:
    """The description in ../shared/specs, parsed once per test session."""
    return OpenApi(json.loads((SPECS / name).read_text(encoding="utf-8-sig")))
