"""MkDocs hook: the API reference page, generated from the OpenAPI schema at every build.

drf-spectacular writes the schema the running site serves at /api/schema/ (`manage.py
spectacular`, which needs no database); this hook adds it to the site as
reference/openapi.yaml and renders reference/openapi.md from it, one section per operation and
one table per schema. Both are generated in memory, never written into docs/, so nothing
generated is committed, `mkdocs serve` does not rebuild in a loop, and the build needs no
network and no JavaScript: the page is plain Markdown, found by the site's search.
"""

import os
import subprocess
import sys
from pathlib import Path

import yaml
from mkdocs.structure.files import File

ROOT = Path(__file__).resolve().parents[2]
PAGE = "reference/openapi.md"
SCHEMA = "reference/openapi.yaml"
METHODS = ("get", "post", "put", "patch", "delete")
ACCESS = (("Read-only.", "readOnly"), ("Write-only.", "writeOnly"))


def schema_text() -> str:
    """The schema as drf-spectacular writes it, failing the build on any warning of its own."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "settings.dev"}
    command = [sys.executable, "manage.py", "spectacular", "--validate", "--fail-on-warn"]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"manage.py spectacular failed:\n{done.stderr}")
    return done.stdout


def cell(text: object) -> str:
    """One table cell: a single line, with the pipes that would end it escaped."""
    return " ".join(str(text).split()).replace("|", "\\|")


def type_of(schema: dict) -> str:
    """A schema's type in a few words: a link to a named schema, or its type and format."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f"[{name}](#schema-{name.lower()})"
    for combined in ("oneOf", "allOf", "anyOf"):
        if combined in schema:
            return " or ".join(type_of(part) for part in schema[combined])
    if schema.get("type") == "array":
        return f"array of {type_of(schema.get('items', {}))}"
    kind = schema.get("type", "object")
    if "enum" in schema:
        kind += ": " + ", ".join(f"`{value}`" for value in schema["enum"] if value is not None)
    return f"{kind} ({schema['format']})" if "format" in schema else kind


def operation(path: str, method: str, op: dict) -> list[str]:
    lines = [f"### {method.upper()} `{path}`", "", op.get("description", "").strip(), ""]
    if parameters := op.get("parameters"):
        lines += ["| parameter | in | type | required | meaning |", "|---|---|---|---|---|"]
        for p in parameters:
            lines.append(
                f"| `{p['name']}` | {p['in']} | {cell(type_of(p.get('schema', {})))} "
                f"| {'yes' if p.get('required') else 'no'} | {cell(p.get('description', ''))} |"
            )
        lines.append("")
    bodies: dict[str, list[str]] = {}  # the same schema is usually sent as JSON and as forms
    for media, body in op.get("requestBody", {}).get("content", {}).items():
        bodies.setdefault(type_of(body.get("schema", {})), []).append(media)
    for shape, media in bodies.items():
        lines += [f"Body ({', '.join(media)}): {shape}", ""]
    lines += ["| status | answer |", "|---|---|"]
    for status, answer in op.get("responses", {}).items():
        shapes = [type_of(c.get("schema", {})) for c in answer.get("content", {}).values()]
        meaning = cell(f"{answer.get('description', '')} {''.join(shapes[:1])}")
        lines.append(f"| {status} | {meaning} |")
    return [*lines, ""]


def component(name: str, schema: dict) -> list[str]:
    heading = f"### {name} {{ #schema-{name.lower()} }}"  # apart from the tags' headings
    lines = [heading, "", cell(schema.get("description", "")), ""]
    properties = schema.get("properties")
    if not properties:
        return [*lines, f"Type: {type_of(schema)}", ""]
    required = set(schema.get("required", []))
    lines += ["| field | type | required | meaning |", "|---|---|---|---|"]
    for field, spec in properties.items():
        notes = [word for word, flag in ACCESS if spec.get(flag)]
        meaning = cell(" ".join([*notes, spec.get("description", "")]).strip())
        needed = "yes" if field in required else "no"
        lines.append(f"| `{field}` | {cell(type_of(spec))} | {needed} | {meaning} |")
    return [*lines, ""]


def render(schema: dict) -> str:
    """The reference page: every operation grouped by its tag, then every named schema."""
    info = schema.get("info", {})
    lines = [
        "# OpenAPI reference",
        "",
        f"{info.get('title', 'API')} {info.get('version', '')}: {info.get('description', '')}",
        "Generated from the schema at each build of this manual; the running site serves the same",
        "schema at `/api/schema/` and interactive docs at `/api/docs/`. The schema itself:",
        "[openapi.yaml](openapi.yaml). How to authenticate and what the status codes mean:",
        "[API](api.md).",
        "",
    ]
    by_tag: dict[str, list[tuple[str, str, dict]]] = {}
    for path, operations in schema.get("paths", {}).items():
        for method in METHODS:
            if method in operations:
                op = operations[method]
                by_tag.setdefault((op.get("tags") or ["other"])[0], []).append((path, method, op))
    for tag in sorted(by_tag):
        lines += [f"## {tag}", ""]
        for path, method, op in by_tag[tag]:
            lines += operation(path, method, op)
    lines += ["## Schemas", ""]
    for name, spec in sorted(schema.get("components", {}).get("schemas", {}).items()):
        lines += component(name, spec)
    return "\n".join(lines)


def on_files(files, config):
    text = schema_text()
    files.append(File.generated(config, SCHEMA, content=text))
    files.append(File.generated(config, PAGE, content=render(yaml.safe_load(text))))
    return files
